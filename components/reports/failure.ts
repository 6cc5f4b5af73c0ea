import { allParts, fieldLines, header, parseMime, type MimePart } from "../sending/mime";

/**
 * DMARC failure reports (RFC 6591, the auth-failure type of RFC 5965's
 * feedback report): one message that failed, as a receiver saw it: which
 * check failed, for which domain, from which address, and what happened to
 * it. Pure.
 */

export interface FailureReport {
  /** dmarc, dkim, spf (Auth-Failure; a report may name several). */
  authFailure: string[];
  /** The domain whose policy the message failed (Reported-Domain, else the returned message's From). */
  reportedDomain?: string;
  sourceIp?: string;
  arrivalDate?: string;
  /** delivered, spam, policy, reject, other (RFC 6591 §3.2), as the reporter wrote it. */
  deliveryResult?: string;
  originalMailFrom?: string;
  originalRcptTo: string[];
  dkimDomain?: string;
  dkimSelector?: string;
  /** Which identities aligned (Identity-Alignment: dkim, spf, or none), when the reporter says. */
  identityAlignment?: string[];
  /** The returned message's Subject, when the reporter included its header. */
  subject?: string;
}

const address = (v: string | undefined) => v?.replace(/^.*<([^>]*)>.*$/, "$1").trim() || undefined;

/** The failure report a message carries, or undefined when it carries none (another feedback type, or no feedback-report part). */
export function parseFailureReport(raw: string): FailureReport | undefined {
  return failureReportOf(parseMime(raw));
}

/** parseFailureReport over a message already parsed. */
export function failureReportOf(message: MimePart): FailureReport | undefined {
  const parts = allParts(message);
  const report = parts.find((p) => p.type === "message/feedback-report");
  if (!report) return undefined;
  const fields = fieldLines(report.body.trim());
  const one = (name: string) => fields.get(name)?.[0]?.trim() || undefined;
  if ((one("feedback-type") ?? "").toLowerCase() !== "auth-failure") return undefined;
  const original: MimePart | undefined = parts.find((p) => p.type === "message/rfc822" || p.type === "text/rfc822-headers");
  const returned = original?.type === "message/rfc822" ? original.parts[0] : original ? parseMime(`${original.body}\n\n`) : undefined;
  const fromDomain = returned ? /@([^>\s]+)/.exec(header(returned, "from") ?? "")?.[1]?.toLowerCase() : undefined;
  const reported = one("reported-domain")?.toLowerCase() ?? fromDomain;
  const mailFrom = address(one("original-mail-from"));
  const subject = returned ? header(returned, "subject") : undefined;
  return {
    authFailure: (fields.get("auth-failure") ?? []).flatMap((v) => v.split(/[\s,]+/)).map((v) => v.toLowerCase()).filter(Boolean),
    ...(reported ? { reportedDomain: reported } : {}),
    ...(one("source-ip") ? { sourceIp: one("source-ip") } : {}),
    ...(one("arrival-date") ? { arrivalDate: one("arrival-date") } : {}),
    ...(one("delivery-result") ? { deliveryResult: one("delivery-result")!.toLowerCase() } : {}),
    ...(mailFrom ? { originalMailFrom: mailFrom } : {}),
    originalRcptTo: (fields.get("original-rcpt-to") ?? []).map(address).filter((a): a is string => a !== undefined),
    ...(one("dkim-domain") ? { dkimDomain: one("dkim-domain")!.toLowerCase() } : {}),
    ...(one("dkim-selector") ? { dkimSelector: one("dkim-selector") } : {}),
    ...(one("identity-alignment") ? { identityAlignment: one("identity-alignment")!.toLowerCase().split(/[\s,]+/).filter(Boolean) } : {}),
    ...(subject ? { subject } : {}),
  };
}
