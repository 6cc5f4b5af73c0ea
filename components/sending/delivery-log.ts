import { classifyBounce, type BounceVerdict } from "./bounce-class";

/**
 * The synchronous half of delivery results: what Postfix's delivery agents
 * log for each recipient (`postfix/smtp[123]: 4F2A1: to=<a@example.net>,
 * relay=mx.example.net[192.0.2.1]:25, ..., dsn=5.1.1, status=bounced (host
 * mx.example.net[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO
 * command))`), each judged with the same classifier as a DSN
 * (./bounce-class.ts), the remote text kept. Pure: lines in, results out.
 */

export interface DeliveryResult {
  /** The log line's own timestamp, as written. */
  time: string;
  /** The Postfix queue id of the message. */
  queueId: string;
  /** The delivery agent: smtp, lmtp, local, virtual, pipe, error, retry. */
  agent: string;
  recipient: string;
  /** The address as first given, when an alias or canonical map rewrote it (orig_to=). */
  originalRecipient?: string;
  /** The server tried: `mx.example.net[192.0.2.1]:25`, or `none`. */
  relay?: string;
  /** The enhanced status code. */
  dsn: string;
  /** sent, deferred, bounced or expired. */
  status: "sent" | "deferred" | "bounced" | "expired";
  /** What the server or Postfix said, in the parentheses after the status. */
  text: string;
  /** Hard or soft, for a result that did not deliver. */
  verdict?: BounceVerdict;
}

const DELIVERY = /^(.*?)\s+\S+\s+postfix(?:-[\w-]+)?\/(smtp|lmtp|local|virtual|pipe|error|retry|discard)\[\d+\]:\s+([0-9A-Za-z]+):\s+to=<([^>]*)>,(.*)$/;

const FIELDS = { dsn: /(?:^|,)\s*dsn=([^,\s]+)/, relay: /(?:^|,)\s*relay=([^,\s]+)/ };

/** The agents whose results are about mail that left (or failed to): not the host's own deliveries to Dovecot or to the intake's pipes. */
export const REMOTE_DELIVERY_AGENTS: readonly string[] = ["smtp", "error", "retry"];

/** Postfix writes lines of at most a few kilobytes (line_length_limit 2048 for replies): a longer one is cut here. */
export const MAX_LOG_LINE = 8192;

/** One log line's delivery result, or undefined for any other line. */
export function parseDeliveryLine(raw: string): DeliveryResult | undefined {
  const line = raw.length > MAX_LOG_LINE ? raw.slice(0, MAX_LOG_LINE) : raw;
  // Most lines are not deliveries (qmgr, smtpd, cleanup): a substring test before the pattern.
  if (!line.includes(" to=<") || !line.includes("status=")) return undefined;
  const m = DELIVERY.exec(line);
  if (!m) return undefined;
  const [, time, agent, queueId, recipient, rest] = m;
  const field = (name: keyof typeof FIELDS) => FIELDS[name].exec(rest)?.[1];
  // "status=expired, returned to sender (...)": words may come between the status and the reason; a line cut
  // short has no closing parenthesis. The last status= is the one (a reply may quote another).
  const at = rest.lastIndexOf("status=");
  const statusMatch = /^status=(sent|deferred|bounced|expired)\b[^(]*(?:\((.*?)\)?)?\s*$/.exec(rest.slice(at));
  const dsn = field("dsn");
  if (!statusMatch || !dsn || recipient === "") return undefined;
  const status = statusMatch[1] as DeliveryResult["status"];
  const text = statusMatch[2] ?? "";
  const original = /orig_to=<([^>]*)>/.exec(rest)?.[1];
  const relay = field("relay");
  const action = status === "sent" ? "delivered" : status === "deferred" ? "delayed" : "failed";
  return {
    time: time.trim(),
    queueId,
    agent,
    recipient: recipient.toLowerCase(),
    ...(original && original.toLowerCase() !== recipient.toLowerCase() ? { originalRecipient: original.toLowerCase() } : {}),
    ...(relay ? { relay } : {}),
    dsn,
    status,
    text,
    ...(status === "sent" ? {} : { verdict: classifyBounce({ status: dsn, diagnostic: text, action }) }),
  };
}

/** Every delivery result of a log, in order. */
export function parseDeliveryLog(log: string): DeliveryResult[] {
  const out: DeliveryResult[] = [];
  for (const line of log.split("\n")) {
    const result = parseDeliveryLine(line);
    if (result) out.push(result);
  }
  return out;
}
