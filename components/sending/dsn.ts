import { allParts, fieldLines, header, parseMime, type MimePart } from "./mime";

/**
 * Reading a bounce: an RFC 3464 delivery status notification (a
 * multipart/report whose message/delivery-status part names each recipient,
 * its Action, Status and the remote server's reply), or, from the mail
 * systems that send none, the human-readable text they send instead. Pure:
 * text in, recipients and their results out; ./bounce-class.ts judges them.
 */

export interface DsnRecipient {
  /** The address that failed (Final-Recipient), lower-case. */
  recipient: string;
  /** The address as first given (Original-Recipient), when the report says. */
  originalRecipient?: string;
  /** failed, delayed, delivered, relayed or expanded (RFC 3464 §2.3.3); absent in a text bounce. */
  action?: string;
  /** The enhanced status code (RFC 3463), such as 5.1.1. */
  status?: string;
  /** The remote server's reply, or the reporting system's reason, as text. */
  diagnostic?: string;
  /** The server that gave the reply (Remote-MTA). */
  remoteMta?: string;
}

/** A bounce message as read: who reported it, and each recipient's result. */
export interface ParsedBounce {
  /** "rfc3464": a message/delivery-status part; "text": read from the notification's text. */
  form: "rfc3464" | "text";
  /** The system that wrote the report (Reporting-MTA), when it says. */
  reportingMta?: string;
  recipients: DsnRecipient[];
  /** The Message-ID of the message that bounced, from the returned message or its headers. */
  originalMessageId?: string;
}

/** A bounce larger than this is read only up to it: what a report says comes first, the returned message after. */
export const MAX_BOUNCE_BYTES = 1 << 20;

/** A bounce message read as an RFC 3464 DSN, else by its text (Exim, Exchange); undefined when it names no recipient that failed or was delayed. */
export function parseBounce(raw: string): ParsedBounce | undefined {
  const message = parseMime(raw.length > MAX_BOUNCE_BYTES ? raw.slice(0, MAX_BOUNCE_BYTES) : raw);
  const parts = allParts(message);
  const originalMessageId = returnedMessageId(parts);
  const status = parts.find((p) => p.type === "message/delivery-status" || p.type === "message/global-delivery-status");
  if (status) {
    const report = parseDeliveryStatus(status.body);
    if (report.recipients.length > 0) return { form: "rfc3464", ...report, ...(originalMessageId ? { originalMessageId } : {}) };
  }
  const text = notificationText(message, parts);
  // A notification without a delivery-status part says whether it gave up or still tries only in words.
  const action = /\b(delayed|will (be )?retr(y|ied)|not yet been delivered|still trying|warning:)/i.test(text) ? "delayed" : "failed";
  const recipients = textRecipients(text).map((r) => ({ ...r, action }));
  if (recipients.length === 0) return undefined;
  return { form: "text", recipients, ...(originalMessageId ? { originalMessageId } : {}) };
}

/** The fields of a message/delivery-status body: one per-message group, then one group per recipient (RFC 3464 §2.1). */
export function parseDeliveryStatus(body: string): { reportingMta?: string; recipients: DsnRecipient[] } {
  const groups = body
    .replace(/\r\n/g, "\n")
    .split(/\n[ \t]*\n/)
    .map((g) => fields(g))
    .filter((g) => g.size > 0);
  const perMessage = groups.find((g) => !g.has("final-recipient") && !g.has("original-recipient"));
  const reportingMta = typed(perMessage?.get("reporting-mta"));
  const recipients: DsnRecipient[] = [];
  for (const g of groups) {
    const recipient = address(typed(g.get("final-recipient")) ?? typed(g.get("original-recipient")));
    if (!recipient) continue;
    const original = address(typed(g.get("original-recipient")));
    const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(g.get("status") ?? "")?.[1];
    const diagnostic = typed(g.get("diagnostic-code"));
    const remoteMta = typed(g.get("remote-mta"));
    recipients.push({
      recipient,
      ...(original && original !== recipient ? { originalRecipient: original } : {}),
      ...(g.get("action") ? { action: g.get("action")!.toLowerCase().split(/\s/)[0] } : {}),
      ...(status ? { status } : {}),
      ...(diagnostic ? { diagnostic } : {}),
      ...(remoteMta ? { remoteMta } : {}),
    });
  }
  return { ...(reportingMta ? { reportingMta } : {}), recipients };
}

/** The fields of one group, each name's first occurrence. */
function fields(group: string): Map<string, string> {
  return new Map([...fieldLines(group.trim())].map(([name, values]) => [name, values[0]]));
}

/** `rfc822; user@example.com` → `user@example.com`; `smtp; 550 5.1.1 ...` → `550 5.1.1 ...`. */
function typed(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(";");
  const text = (semi >= 0 && /^[A-Za-z0-9-]+$/.test(value.slice(0, semi).trim()) ? value.slice(semi + 1) : value).trim();
  return text === "" ? undefined : text;
}

function address(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /<?([^\s<>"]+@[^\s<>";]+)>?/.exec(value);
  return m ? m[1].replace(/[.,;:]+$/, "").toLowerCase() : undefined;
}

/** The Message-ID of the returned message (message/rfc822 or text/rfc822-headers part). */
function returnedMessageId(parts: MimePart[]): string | undefined {
  for (const p of parts) {
    if (p.type === "message/rfc822" && p.parts[0]) {
      const id = header(p.parts[0], "message-id");
      if (id) return id.trim();
    }
    if (p.type === "text/rfc822-headers") {
      const id = /^message-id:\s*(\S+)/im.exec(p.body)?.[1];
      if (id) return id;
    }
  }
  return undefined;
}

/** The human-readable notification: the first text part, or the body of a single-part bounce, up to the returned message. */
function notificationText(message: MimePart, parts: MimePart[]): string {
  const text = message.parts.length === 0 ? message.body : (parts.find((p) => p !== message && p.type === "text/plain")?.body ?? "");
  // Stop where the returned message begins: its own addresses are not the failed ones. Line by line, each
  // line tested with plain string methods: a pattern over the whole text backtracks on a long line of dashes.
  const lines = text.split("\n");
  const cut = lines.findIndex((line) => {
    const lower = line.slice(0, 200).toLowerCase();
    if (lower.startsWith("content-type: message/rfc822") || lower.startsWith("received: ")) return true;
    return /-{2,}/.test(lower.slice(0, 10)) && RETURNED_MARKERS.some((m) => lower.includes(m));
  });
  return cut >= 0 ? lines.slice(0, cut).join("\n") : text;
}

/** How a notification introduces the message it returns, after a line of dashes. */
const RETURNED_MARKERS = ["original message", "returned message", "message headers follow", "message was", "copy of the message"];

const STATUS = /\b([245]\.\d{1,3}\.\d{1,3})\b/;
const REPLY = /\b([45]\d\d)[ -]/;

/**
 * Recipients named in a notification's text (Exim: "  user@example.com\n
 * SMTP error from remote mail server ...: 550 ..."; Postfix: "<user@example.com>:
 * host ... said: 550 ..."; Exchange: "user@example.com\n ... #550 5.1.1 ..."),
 * each with the text that follows it up to the next recipient.
 */
function textRecipients(text: string): DsnRecipient[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const found: { recipient: string; at: number; reason?: string }[] = [];
  const add = (address: string, at: number, reason?: string) => {
    const recipient = address.toLowerCase();
    if (!found.some((f) => f.recipient === recipient)) found.push({ recipient, at, ...(reason ? { reason } : {}) });
  };
  lines.forEach((line, i) => {
    // The address first: "<a@b>: reason" (Postfix), "a@b" then its reason below (Exim), "a@b ... unknown host".
    const first = /^\s*<?([A-Za-z0-9._%+=\-']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?(?::|\s*$|\s+\(|\s+on\s|\s+\.\.\.\s)/.exec(line);
    if (first) return add(first[1], i);
    // The reason first: "User's mailbox is full: <a@b>"; words, not a header field's name ("Return-Path: <a@b>").
    const last = /^\s*([A-Za-z][^<>:]{4,200}?):\s*<([A-Za-z0-9._%+=\-']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>\s*$/.exec(line);
    if (last && /\s/.test(last[1].trim())) add(last[2], i, last[1]);
  });
  return found.map((f, k) => {
    const until = k + 1 < found.length ? found[k + 1].at : Math.min(lines.length, f.at + 12);
    const diagnostic = (f.reason ?? lines
      .slice(f.at, until)
      .join(" ")
      .replace(/\s+/g, " ")
      .replace(/^\s*<?[^\s<>]+@[^\s<>]+>?:?\s*/, "")
      .replace(/^\.\.\.\s*/, ""))
      .trim();
    const status = STATUS.exec(diagnostic)?.[1];
    const reply = REPLY.exec(diagnostic)?.[1];
    return {
      recipient: f.recipient,
      ...(status ? { status } : reply ? { status: `${reply[0]}.0.0` } : {}),
      ...(diagnostic ? { diagnostic: diagnostic.slice(0, 1000) } : {}),
    };
  });
}
