import { authenticatedFrom } from "../sending/arf";
import { header, parseMime, partBytes, type MimePart } from "../sending/mime";
import { unpackReport, type UnpackLimits } from "./archive";
import { parseAggregateReport, ReportRefused, type AggregateReport } from "./dmarc-aggregate";
import { parseFailureReport, type FailureReport } from "./failure";
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

/** A report's identity: who sent it (proved, else as it names itself) and its id. The same report twice is one. */
export function reportIdentity(report: { reporter?: string; orgName: string; reportId: string }): string {
  return `${report.reporter ?? report.orgName}\u0000${report.reportId}`;
}

/** The message's own parts, depth first: never inside an enclosed message (a failure report's returned mail is the spoofer's). */
function ownParts(part: MimePart): MimePart[] {
  if (part.type.startsWith("message/") || part.type === "text/rfc822-headers") return [part];
  return [part, ...part.parts.flatMap(ownParts)];
}

/** Reads one message: its reports, and whether they count (`authservId`: the host's name in its Authentication-Results). */
export function readReportMail(raw: string, options: { authservId: string; domains: readonly string[]; limits?: UnpackLimits }): ReportMail {
  // Who sent it, from the host's own results, before any attachment is opened: a stranger's costs nothing more.
  const authenticatedAs = authenticatedFrom(raw, options.authservId);
  if (!authenticatedAs) {
    return { reports: [], unreadable: [], setApart: `did not authenticate on arrival (no DMARC pass, nor an aligned DKIM or SPF pass, in ${options.authservId}'s Authentication-Results): anyone can write a report` };
  }
  const message = parseMime(raw);
  const reports: MailedReport[] = [];
  const unreadable: ReportMail["unreadable"] = [];
  for (const [i, part] of ownParts(message).entries()) {
    if (!isAttachment(part)) continue;
    const label = part.params.get("name") ?? `part ${i}`;
    try {
      const { text } = unpackReport(partBytes(part), options.limits);
      // The reporter is who the host proved sent the message, whatever the report calls itself.
      if (text.trimStart().startsWith("{")) reports.push({ kind: "tls", report: { ...parseTlsReport(text), reporter: authenticatedAs } });
      else reports.push({ kind: "aggregate", report: { ...parseAggregateReport(text), reporter: authenticatedAs } });
    } catch (error) {
      if (!(error instanceof ReportRefused)) throw error;
      unreadable.push({ part: label, reason: error.message });
    }
  }
  // A failure report (RFC 6591) is the message itself, not an attachment.
  const failure = parseFailureReport(raw);
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
