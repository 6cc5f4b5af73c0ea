import { allParts, fieldLines, header, parseMime, type MimePart } from "./mime";

/**
 * Reading a complaint: an Abuse Reporting Format report (RFC 5965), the
 * multipart/report a mailbox provider's feedback loop sends when its user
 * marks a message as spam (Yahoo's CFL, Microsoft's JMRP, and the ISPs that
 * use the format). Pure: the report's fields, the complained-of recipients,
 * and whether the report itself authenticated on arrival; the host decides
 * what a report changes (nothing, when it did not authenticate).
 */

/**
 * The domains feedback-loop reports come from: Yahoo's CFL (feedback@arf.mail.yahoo.com, for AOL too),
 * Microsoft's JMRP (staff@hotmail.com), and Validity's (Return Path's) FBL service for other ISPs.
 */
export const FEEDBACK_LOOP_DOMAINS: readonly string[] = ["yahoo.com", "aol.com", "hotmail.com", "outlook.com", "microsoft.com", "returnpath.net", "validity.com"];

/** Feedback types that are complaints about our mail (RFC 5965 §7.3): not-spam, auth-failure and others are not. */
export const COMPLAINT_FEEDBACK_TYPES: readonly string[] = ["abuse", "fraud"];

/** A complaint report (RFC 5965, or Microsoft's JMRP) as read: its kind, who sent it, and the recipients complained of. */
export interface ComplaintReport {
  /** abuse, fraud, virus, other, not-spam (RFC 5965 §7.3), auth-failure (RFC 6591), opt-out (RFC 6650), lower-case. */
  feedbackType: string;
  userAgent?: string;
  /** The recipients complained of: Original-Rcpt-To, else the returned message's To (providers often redact both). */
  recipients: string[];
  /** The returned message's envelope sender (Original-Mail-From), or its Return-Path. */
  originalMailFrom?: string;
  /** The returned message's Message-ID. */
  originalMessageId?: string;
  /** Source-IP: the address the message came from, as the reporter saw it. */
  sourceIp?: string;
  arrivalDate?: string;
  reportingMta?: string;
  /** The returned message's From domain, lower-case. */
  fromDomain?: string;
}

/** Parse an ARF report; undefined when the message is not one (no message/feedback-report part). */
export function parseComplaint(raw: string): ComplaintReport | undefined {
  const message = parseMime(raw);
  const parts = allParts(message);
  const report = parts.find((p) => p.type === "message/feedback-report");
  const original = returnedMessage(parts);
  if (!report) return original ? microsoftComplaint(original) : undefined;
  // Fields of the machine-readable part; a field may repeat (Original-Rcpt-To, Reported-Uri).
  const fields = fieldLines(report.body.trim());
  const fromRcptTo = (fields.get("original-rcpt-to") ?? []).map(address).filter(isAddress);
  const fromHeaders = original ? (header(original, "to") ?? "").split(",").map(address).filter(isAddress) : [];
  const one = (name: string) => fields.get(name)?.[0];
  const mailFrom = address(one("original-mail-from") ?? (original ? header(original, "return-path") : undefined));
  const fromDomain = original ? fromDomainOf(original) : undefined;
  const messageId = original ? header(original, "message-id")?.trim() : undefined;
  return {
    feedbackType: (one("feedback-type") ?? "other").toLowerCase(),
    ...(one("user-agent") ? { userAgent: one("user-agent") } : {}),
    recipients: [...new Set(fromRcptTo.length > 0 ? fromRcptTo : fromHeaders)],
    ...(isAddress(mailFrom) ? { originalMailFrom: mailFrom } : {}),
    ...(messageId ? { originalMessageId: messageId } : {}),
    ...(one("source-ip") ? { sourceIp: one("source-ip") } : {}),
    ...(one("arrival-date") ? { arrivalDate: one("arrival-date") } : {}),
    ...(one("reporting-mta") ? { reportingMta: one("reporting-mta")!.replace(/^dns;\s*/i, "") } : {}),
    ...(fromDomain ? { fromDomain } : {}),
  };
}

/**
 * Microsoft's Junk Mail Reporting Program sends no feedback-report part: a
 * multipart/mixed with the message attached, which carries the recipient
 * in X-HmXmrOriginalRecipient (Sisimai's corpus, arf-22 to arf-24).
 */
function microsoftComplaint(original: MimePart): ComplaintReport | undefined {
  const recipient = address(header(original, "x-hmxmroriginalrecipient"));
  if (!isAddress(recipient)) return undefined;
  const fromDomain = fromDomainOf(original);
  const messageId = header(original, "message-id")?.trim();
  const sourceIp = header(original, "x-reporter-ip");
  return {
    feedbackType: "abuse",
    userAgent: "Microsoft JMRP",
    recipients: [recipient],
    ...(messageId ? { originalMessageId: messageId } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(fromDomain ? { fromDomain } : {}),
  };
}

/** The returned message: the message/rfc822 part's message, or a text/rfc822-headers part read as headers. */
function returnedMessage(parts: MimePart[]): MimePart | undefined {
  const encapsulated = parts.find((p) => (p.type === "message/rfc822" || p.type === "message/global") && p.parts[0]);
  if (encapsulated) return encapsulated.parts[0];
  const headers = parts.find((p) => p.type === "text/rfc822-headers");
  return headers ? parseMime(`${headers.body.trim()}\n\n`) : undefined;
}

function address(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /<?([^\s<>"',;]+@[^\s<>"',;]+)>?/.exec(value);
  return m ? m[1].toLowerCase().replace(/[.>]+$/, "") : undefined;
}

/**
 * The domain of the one author in From (RFC 5322 §3.6.2), or undefined: the
 * address in angle brackets when there is one, else the bare addr-spec, and
 * its domain after the last "@". Comments and quoted strings go first, so a
 * display name such as "reports@yahoo.com" <x@evil.example> is not taken for
 * the address; a From with several mailboxes has no one domain to prove.
 */
function fromDomainOf(part: MimePart): string | undefined {
  const value = withoutComments(header(part, "from") ?? "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (value.includes(",")) return undefined;
  const angles = [...value.matchAll(/<([^<>]*)>/g)];
  if (angles.length > 1) return undefined;
  const address = (angles.length === 1 ? angles[0][1] : value).trim();
  const at = address.lastIndexOf("@");
  if (at < 0) return undefined;
  const domain = address.slice(at + 1).trim().toLowerCase().replace(/\.$/, "");
  return /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(domain) ? domain : undefined;
}

/** A structured field's text without its comments (nested, with quoted-pairs), each replaced by a space. */
function withoutComments(value: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && (depth > 0 || quoted)) {
      if (quoted) out += c + (value[i + 1] ?? "");
      i++;
      continue;
    }
    if (depth === 0 && c === '"') {
      quoted = !quoted;
      out += c;
    } else if (quoted) out += c;
    else if (c === "(") depth++;
    else if (c === ")" && depth > 0) {
      depth--;
      if (depth === 0) out += " ";
    } else if (depth === 0) out += c;
  }
  return out;
}

function isAddress(value: string | undefined): value is string {
  return value !== undefined && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value);
}

/**
 * Whether a report authenticated when the host received it: the host's own
 * Authentication-Results field (its authserv-id; RFC 8601 §5: only the
 * receiving host's own results can be trusted, so the first with that id)
 * says dmarc=pass, or dkim=pass or spf=pass for a domain aligned with the
 * report's From (the same domain, or one under the other), and that From is
 * a feedback loop's (`reporters`: anyone can sign a report of their own, so
 * a passing signature says who sent it, not that they may complain). A
 * report without all that is forged for our purposes: counted apart, and it
 * changes nothing. Only where the host adds its own Authentication-Results
 * above any the sender wrote (RFC 8601 §5) does this prove anything.
 */
export function complaintAuthenticated(raw: string, authservId: string, reporters: readonly string[] = FEEDBACK_LOOP_DOMAINS): boolean {
  const from = authenticatedFrom(raw, authservId);
  return from !== undefined && reporters.some((r) => from === r || from.endsWith(`.${r}`));
}

/**
 * The domain of a message's From when the host's own Authentication-Results field (its authserv-id, the
 * first with it: RFC 8601 §5) says dmarc=pass, or dkim=pass or spf=pass for a domain aligned with that
 * From (the same domain, or one under the other); undefined otherwise. Who sent a report, proved.
 */
export function authenticatedFrom(raw: string, authservId: string): string | undefined {
  return authenticatedSender(parseMime(raw), authservId);
}

/** authenticatedFrom over a message already parsed (a report's reader parses it once). */
export function authenticatedSender(message: MimePart, authservId: string): string | undefined {
  // Comments first (RFC 8601 §2.2 allows CFWS anywhere): OpenDKIM writes "dkim=pass (2048-bit key; unprotected) header.d=...",
  // whose ";" inside the comment would otherwise split one result in two.
  const results = (message.headers.get("authentication-results") ?? []).map(withoutComments).find((v) => v.split(";")[0].trim().toLowerCase() === authservId.toLowerCase());
  if (!results) return undefined;
  const from = fromDomainOf(message);
  if (from === undefined) return undefined;
  const aligned = (domain: string | undefined) => domain !== undefined && (domain === from || domain.endsWith(`.${from}`) || from.endsWith(`.${domain}`));
  for (const method of results.split(";").slice(1)) {
    const m = /^\s*(dmarc|dkim|spf)\s*=\s*(\w+)(.*)$/i.exec(method);
    if (!m || m[2].toLowerCase() !== "pass") continue;
    const kind = m[1].toLowerCase();
    if (kind === "dmarc") return from;
    const property = kind === "dkim" ? /header\.d\s*=\s*([^\s;]+)/i.exec(m[3])?.[1] : /smtp\.mailfrom\s*=\s*(?:[^@\s;]*@)?([^\s;]+)/i.exec(m[3])?.[1];
    if (aligned(property?.toLowerCase())) return from;
  }
  return undefined;
}
