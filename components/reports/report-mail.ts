import { authenticatedSender } from "../sending/arf";
import { header, parseMime, partBytes, type MimePart } from "../sending/mime";
import { DEFAULT_UNPACK_LIMITS, unpackReport, type UnpackLimits } from "./archive";
import { parseAggregateReport, ReportRefused, type AggregateReport } from "./dmarc-aggregate";
import { failureReportOf, type FailureReport } from "./failure";
import { parseTlsReport, type TlsReport } from "./tls-rpt";

/**
 * A report as it arrives by mail (RFC 7489 §7.2.1.1, RFC 8460 §5.3): a
 * message whose attachment is the report (XML or JSON, plain, gzip or zip),
 * judged before anything counts: it must have authenticated when the host
 * received it (the host's own Authentication-Results: DMARC, or an aligned
 * DKIM or SPF pass for its From), and be about one of our domains.
 * Anything else is set apart, with the reason. Pure.
 */

/** One report read from a message. */
export type MailedReport = { kind: "aggregate"; report: AggregateReport } | { kind: "tls"; report: TlsReport } | { kind: "failure"; report: FailureReport };

/** What one message held, and whether it counts. */
export interface ReportMail {
  /** The reporter, proved: its From domain, when the message authenticated on arrival. */
  authenticatedAs?: string;
  reports: MailedReport[];
  /** Attachments that are not readable reports, with why. */
  unreadable: { part: string; reason: string }[];
  /** Why the message does not count (it did not authenticate, or a report is about a domain not ours); absent when it counts. */
  setApart?: string;
}

const REPORT_TYPES = /^(application\/(gzip|x-gzip|zip|x-zip-compressed|xml|json|tlsrpt\+gzip|tlsrpt\+json|octet-stream)|text\/xml)$/;

function isAttachment(part: MimePart): boolean {
  if (part.parts.length > 0) return false;
  const name = part.params.get("name") ?? /filename\*?="?([^";]+)"?/i.exec(header(part, "content-disposition") ?? "")?.[1] ?? "";
  return REPORT_TYPES.test(part.type) || /\.(xml|gz|zip|json)$/i.test(name);
}

/** Whether a domain is one of ours, or under one (a subdomain's report is its organizational domain's too). */
function ours(domain: string, domains: readonly string[]): boolean {
  return domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/** A report attachment's text read as what it is: JSON is a TLS report (RFC 8460), anything else a DMARC aggregate report's XML. */
export function parseReportText(text: string): { kind: "tls"; report: TlsReport } | { kind: "aggregate"; report: AggregateReport } {
  return text.trimStart().startsWith("{") ? { kind: "tls", report: parseTlsReport(text) } : { kind: "aggregate", report: parseAggregateReport(text) };
}

/** A report's identity: who sent it (proved, else as it names itself) and its id. The same report twice is one. */
export function reportIdentity(report: { reporter?: string; orgName: string; reportId: string }): string {
  return `${report.reporter ?? report.orgName}\u0000${report.reportId}`;
}

/** The message's own parts, depth first: never inside an enclosed message (a failure report's returned mail is the spoofer's). */
function ownParts(part: MimePart): MimePart[] {
  if (part.type.startsWith("message/") || part.type === "text/rfc822-headers") return [part];
  return [part, ...part.parts.flatMap(ownParts)];
}

/**
 * What one message may cost, whatever it holds: anyone who authenticates as
 * their own domain can mail the host a report, and a message of many small
 * gzip bombs would otherwise cost each attachment's limit over again, every
 * one read in the host's once-a-minute `apply`. Real reports are one
 * attachment of a few MB.
 */
export interface MessageBudget {
  /** Attachments read; the rest are listed as unreadable. */
  attachments: number;
  /** Unpacked bytes across all the message's attachments. */
  unpackedBytes: number;
  /** Wall-clock milliseconds; no attachment is started after it. */
  milliseconds: number;
}

/** Far above one real report, far below what would stall the host's apply. */
export const DEFAULT_MESSAGE_BUDGET: MessageBudget = { attachments: 8, unpackedBytes: 64 * 2 ** 20, milliseconds: 10_000 };

/** Reads one message: its reports, and whether they count (`authservId`: the host's name in its Authentication-Results). */
export function readReportMail(raw: string, options: { authservId: string; domains: readonly string[]; limits?: UnpackLimits; budget?: MessageBudget }): ReportMail {
  // Parsed once; who sent it, from the host's own results, before any attachment is unpacked: a stranger's costs nothing more.
  const message = parseMime(raw);
  const authenticatedAs = authenticatedSender(message, options.authservId);
  if (!authenticatedAs) {
    return { reports: [], unreadable: [], setApart: `did not authenticate on arrival (no DMARC pass, nor an aligned DKIM or SPF pass, in ${options.authservId}'s Authentication-Results): anyone can write a report` };
  }
  const reports: MailedReport[] = [];
  const unreadable: ReportMail["unreadable"] = [];
  const limits = options.limits ?? DEFAULT_UNPACK_LIMITS;
  const budget = options.budget ?? DEFAULT_MESSAGE_BUDGET;
  const started = Date.now();
  let attachments = 0;
  let unpacked = 0;
  for (const [i, part] of ownParts(message).entries()) {
    if (!isAttachment(part)) continue;
    const label = part.params.get("name") ?? `part ${i}`;
    const over =
      attachments >= budget.attachments
        ? `the message has more than ${budget.attachments} attachments; the rest are not read`
        : unpacked >= budget.unpackedBytes
          ? `the message's attachments already unpacked to ${budget.unpackedBytes} bytes; the rest are not read`
          : Date.now() - started >= budget.milliseconds
            ? `the message took over ${budget.milliseconds} ms; the rest are not read`
            : undefined;
    if (over) {
      unreadable.push({ part: label, reason: over });
      continue;
    }
    attachments++;
    // What is left of the message's budget bounds this attachment too; a refused one is taken to have cost all of it
    // (a bomb is inflated up to the ceiling before it is refused).
    const allowance = Math.min(limits.maxUnpackedBytes, budget.unpackedBytes - unpacked);
    let text: string;
    try {
      text = unpackReport(partBytes(part), { ...limits, maxUnpackedBytes: allowance }).text;
    } catch (error) {
      if (!(error instanceof ReportRefused)) throw error;
      unpacked += allowance;
      unreadable.push({ part: label, reason: error.message });
      continue;
    }
    unpacked += Buffer.byteLength(text, "utf8");
    try {
      // The reporter is who the host proved sent the message, whatever the report calls itself.
      const read = parseReportText(text);
      reports.push(read.kind === "tls" ? { kind: "tls", report: { ...read.report, reporter: authenticatedAs } } : { kind: "aggregate", report: { ...read.report, reporter: authenticatedAs } });
    } catch (error) {
      if (!(error instanceof ReportRefused)) throw error;
      unreadable.push({ part: label, reason: error.message });
    }
  }
  // A failure report (RFC 6591) is the message itself, not an attachment.
  const failure = failureReportOf(message);
  if (failure) reports.push({ kind: "failure", report: failure });
  const domains = options.domains.map((d) => d.toLowerCase());
  // Every domain a report speaks of must be ours: the policy's, each row's From, each TLS policy's; a failure report must name one.
  const about = reports.flatMap((r) =>
    r.kind === "aggregate" ? [r.report.policy.domain, ...r.report.records.map((x) => x.headerFrom)] : r.kind === "tls" ? r.report.policies.map((p) => p.domain) : [r.report.reportedDomain ?? "(no domain named)"],
  );
  const foreign = about.filter((d) => !ours(d, domains));
  const setApart =
    foreign.length > 0 ? `about ${[...new Set(foreign)].slice(0, 5).join(", ")}, not one of ours (${domains.join(", ")})` : reports.length === 0 ? "holds no readable report" : undefined;
  return { authenticatedAs, reports, unreadable, ...(setApart ? { setApart } : {}) };
}
