import { isIP } from "node:net";
import { child, childrenNamed, childText, parseXml, XmlRefused, type XmlElement } from "./xml";

/**
 * DMARC aggregate reports (RFC 7489 appendix C, and the `dmarc-2.0`
 * namespace of the DMARCbis aggregate-reporting RFC 9990) read into one
 * model: who reported, the span, the policy as the receiver saw it
 * published, and each row (source address, count, what the receiver did,
 * and the DKIM and SPF results). A report that is not one, or whose dates,
 * addresses or counts do not read, is refused with the reason (ReportRefused).
 * Pure.
 */

/** The `dmarc-2.0` namespace (RFC 9990); RFC 7489 reports have none, or dmarc.org's draft one. */
export const DMARC_2_NAMESPACE = "urn:ietf:params:xml:ns:dmarc-2.0";

/** Why a report was not read. */
export class ReportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReportRefused";
  }
}

/** Whether a row's mail passed DMARC (RFC 7489 §3.1: an aligned DKIM or SPF pass), as its receiver evaluated it. */
export function passedDmarc(record: Pick<AggregateRecord, "dkimAligned" | "spfAligned">): boolean {
  return record.dkimAligned === "pass" || record.spfAligned === "pass";
}

export interface AggregateRecord {
  sourceIp: string;
  count: number;
  /** What the receiver did: none, quarantine or reject. */
  disposition: string;
  /** DMARC's own results: an aligned DKIM or SPF pass. */
  dkimAligned: "pass" | "fail";
  spfAligned: "pass" | "fail";
  /** Why the receiver overrode the policy (forwarded, mailing list, local policy...). */
  reasons: { type: string; comment?: string }[];
  headerFrom: string;
  envelopeFrom?: string;
  envelopeTo?: string;
  dkim: { domain: string; selector?: string; result: string }[];
  spf: { domain: string; scope?: string; result: string }[];
}

/** One aggregate report. */
export interface AggregateReport {
  /** Who the host proved sent it (its From domain, when it came by mail and authenticated), beside what it calls itself. */
  reporter?: string;
  /** Which schema it was written in. */
  schema: "rfc7489" | "dmarc-2.0";
  orgName: string;
  email?: string;
  reportId: string;
  /** The span, as ISO instants (the report gives Unix seconds). */
  begin: string;
  end: string;
  /** The reporter's own errors (report_metadata/error). */
  errors: string[];
  policy: { domain: string; p: string; sp?: string; np?: string; adkim: "r" | "s"; aspf: "r" | "s"; pct?: number; testing?: string; fo?: string };
  records: AggregateRecord[];
}

function need(element: XmlElement | undefined, name: string, where: string): string {
  const v = childText(element, name);
  if (v === undefined) throw new ReportRefused(`${where}/${name} is missing: not a DMARC aggregate report (RFC 7489 appendix C)`);
  return v;
}

/** Unix seconds as an instant: a whole number before 2100 (milliseconds, or a year 3000, is a broken report; RFC 9990's own example is dated 1979). */
function instant(text: string, where: string): { seconds: number; iso: string } {
  if (!/^\d{1,12}$/.test(text)) throw new ReportRefused(`${where} = ${JSON.stringify(text.slice(0, 40))}: not a time in Unix seconds`);
  const seconds = Number(text);
  if (seconds < 1 || seconds > 4_102_444_800) throw new ReportRefused(`${where} = ${text}: not a report's time (Unix seconds before 2100; milliseconds?)`);
  return { seconds, iso: new Date(seconds * 1000).toISOString() };
}

const ALIGNMENT = (v: string | undefined, where: string): "r" | "s" => {
  if (v === undefined || v === "r" || v === "relaxed") return "r";
  if (v === "s" || v === "strict") return "s";
  throw new ReportRefused(`${where} = ${JSON.stringify(v)}: must be r or s`);
};

const RESULT = (v: string | undefined, where: string): "pass" | "fail" => {
  if (v === "pass" || v === "fail") return v;
  throw new ReportRefused(`${where} = ${JSON.stringify(v)}: must be pass or fail`);
};

/** Reads one report's XML. */
export function parseAggregateReport(xml: string): AggregateReport {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    if (error instanceof XmlRefused) throw new ReportRefused(`not readable XML: ${error.message}`);
    throw error;
  }
  if (root.name !== "feedback") throw new ReportRefused(`the root element is <${root.name}>, not <feedback>: not a DMARC aggregate report`);
  const namespace = root.attributes.xmlns ?? (root.prefix ? root.attributes[`xmlns:${root.prefix}`] : undefined);
  // RFC 9990's namespace, or (some reporters leave the namespace off) its <version>2.0</version>.
  const schema = namespace === DMARC_2_NAMESPACE || /^2(\.|$)/.test(childText(root, "version") ?? "") ? "dmarc-2.0" : "rfc7489";
  const meta = child(root, "report_metadata");
  const range = child(meta, "date_range");
  const begin = instant(need(range, "begin", "feedback/report_metadata/date_range"), "date_range/begin");
  const end = instant(need(range, "end", "feedback/report_metadata/date_range"), "date_range/end");
  if (end.seconds < begin.seconds) throw new ReportRefused(`date_range: end ${end.iso} is before begin ${begin.iso}`);
  const published = child(root, "policy_published");
  const pct = childText(published, "pct");
  if (pct !== undefined && !/^(100|[1-9]?\d)$/.test(pct)) throw new ReportRefused(`policy_published/pct = ${JSON.stringify(pct)}: must be 0 to 100`);
  const optional = (name: string) => childText(published, name);
  const records = childrenNamed(root, "record").map((record, n): AggregateRecord => {
    const where = `record[${n}]`;
    const row = child(record, "row");
    const sourceIp = need(row, "source_ip", `${where}/row`);
    if (isIP(sourceIp) === 0) throw new ReportRefused(`${where}/row/source_ip = ${JSON.stringify(sourceIp.slice(0, 60))}: not an IP address`);
    const countText = need(row, "count", `${where}/row`);
    if (!/^\d{1,12}$/.test(countText)) throw new ReportRefused(`${where}/row/count = ${JSON.stringify(countText.slice(0, 40))}: not a count`);
    const evaluated = child(row, "policy_evaluated");
    const identifiers = child(record, "identifiers");
    const auth = child(record, "auth_results");
    const envelopeFrom = childText(identifiers, "envelope_from");
    const envelopeTo = childText(identifiers, "envelope_to");
    return {
      sourceIp,
      count: Number(countText),
      disposition: need(evaluated, "disposition", `${where}/row/policy_evaluated`),
      dkimAligned: RESULT(childText(evaluated, "dkim"), `${where}/row/policy_evaluated/dkim`),
      spfAligned: RESULT(childText(evaluated, "spf"), `${where}/row/policy_evaluated/spf`),
      reasons: childrenNamed(evaluated, "reason").map((r) => ({ type: childText(r, "type") ?? "other", ...(childText(r, "comment") ? { comment: childText(r, "comment")! } : {}) })),
      headerFrom: need(identifiers, "header_from", `${where}/identifiers`).toLowerCase(),
      ...(envelopeFrom ? { envelopeFrom: envelopeFrom.toLowerCase() } : {}),
      ...(envelopeTo ? { envelopeTo: envelopeTo.toLowerCase() } : {}),
      dkim: childrenNamed(auth, "dkim").map((d) => ({
        domain: (childText(d, "domain") ?? "").toLowerCase(),
        ...(childText(d, "selector") ? { selector: childText(d, "selector")! } : {}),
        result: childText(d, "result") ?? "none",
      })),
      spf: childrenNamed(auth, "spf").map((s) => ({ domain: (childText(s, "domain") ?? "").toLowerCase(), ...(childText(s, "scope") ? { scope: childText(s, "scope")! } : {}), result: childText(s, "result") ?? "none" })),
    };
  });
  const email = childText(meta, "email");
  // Some reporters leave org_name empty: the reporting address's domain names them instead (parsedmarc does the same).
  const orgName = childText(meta, "org_name") ?? email?.split("@")[1];
  if (!orgName) throw new ReportRefused("feedback/report_metadata/org_name is missing, and there is no email to name the reporter by: not a DMARC aggregate report (RFC 7489 appendix C)");
  return {
    schema,
    orgName,
    ...(email ? { email } : {}),
    reportId: need(meta, "report_id", "feedback/report_metadata"),
    begin: begin.iso,
    end: end.iso,
    errors: childrenNamed(meta, "error").map((e) => e.text.trim()).filter(Boolean),
    policy: {
      domain: need(published, "domain", "feedback/policy_published").toLowerCase(),
      p: need(published, "p", "feedback/policy_published"),
      ...(optional("sp") ? { sp: optional("sp")! } : {}),
      ...(optional("np") ? { np: optional("np")! } : {}),
      adkim: ALIGNMENT(optional("adkim"), "policy_published/adkim"),
      aspf: ALIGNMENT(optional("aspf"), "policy_published/aspf"),
      ...(pct !== undefined ? { pct: Number(pct) } : {}),
      ...(optional("testing") ? { testing: optional("testing")! } : {}),
      ...(optional("fo") ? { fo: optional("fo")! } : {}),
    },
    records,
  };
}
