import { COMPLAINT_FEEDBACK_TYPES, type ComplaintReport } from "./arf";
import { classifyBounce } from "./bounce-class";
import type { DeliveryResult } from "./delivery-log";
import type { ParsedBounce } from "./dsn";
import type { SendingEvent } from "./suppression-policy";

/**
 * What the readers found, as the events the suppression policy decides on:
 * one place that turns a delivery-log result, a DSN and a complaint report
 * into SendingEvents, used by `postforge bounces` and by the host's own
 * intake (postforge-mailops) alike. Pure.
 */

/** A remote result kept for the list's detail, printable and short (it ends up in an SMTP reply). */
function detailOf(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, 300);
}

/** Delivery-log results that were not deliveries, as bounce events; `dateOf` gives a result's day (undefined: skipped). */
export function deliveryEvents(results: readonly DeliveryResult[], dateOf: (result: DeliveryResult) => string | undefined): SendingEvent[] {
  const events: SendingEvent[] = [];
  for (const r of results) {
    const date = dateOf(r);
    if (!r.verdict || !date) continue;
    events.push({ kind: "bounce", recipient: r.recipient, date, verdict: r.verdict, detail: detailOf(`${r.dsn} ${r.text}`), final: r.status === "bounced" || r.status === "expired" });
  }
  return events;
}

/**
 * A bounce message's failed recipients, as bounce events. `verpAddress`: the bounce address it came
 * to, which names the one recipient that message was sent to (VERP): then the event is about that
 * recipient alone, whatever else the report lists (a forger's report naming others changes nothing).
 * The report's recipient whose VERP encoding the address ends with is the one read (so a sender
 * with a "+" of its own decodes right); else a report naming one failed recipient (a forwarding
 * address, say) is about the VERP recipient; a report naming several, none of them it, is none.
 */
export function bounceEvents(parsed: ParsedBounce | undefined, date: string, verpAddress?: string): SendingEvent[] {
  const failed = (parsed?.recipients ?? []).filter((r) => r.action !== "delivered" && r.action !== "relayed" && r.action !== "expanded");
  const event = (recipient: string, r: (typeof failed)[number]): SendingEvent => ({
    kind: "bounce",
    recipient,
    date,
    verdict: classifyBounce(r),
    detail: detailOf(`${r.status ?? ""} ${r.diagnostic ?? ""}`),
    final: r.action !== "delayed",
  });
  if (verpAddress === undefined) return failed.map((r) => event(r.recipient, r));
  const address = verpAddress.trim().toLowerCase();
  const named = failed.find((r) => address.endsWith(`+${r.recipient.toLowerCase().replace("@", "=")}@${address.slice(address.lastIndexOf("@") + 1)}`));
  if (named) return [event(named.recipient.toLowerCase(), named)];
  const recipient = verpRecipient(address);
  return recipient && failed.length === 1 ? [event(recipient, failed[0])] : [];
}

/** A complaint report's recipients, as complaint events; not-spam, auth-failure and the like are no complaint about our mail. */
export function complaintEvents(report: ComplaintReport | undefined, authenticated: boolean, date: string): SendingEvent[] {
  if (!report || !COMPLAINT_FEEDBACK_TYPES.includes(report.feedbackType)) return [];
  return report.recipients.map((recipient) => ({ kind: "complaint", recipient, date, authenticated, detail: detailOf(`${report.feedbackType} report from ${report.userAgent ?? "a feedback loop"}`) }));
}

/** A message's own date (Arrival-Date, else Date), as YYYY-MM-DD; `fallback` when it has none that parses. */
export function messageDate(raw: string, fallback: string): string {
  const field = /^(?:Arrival-Date|Date):\s*(.+)$/im.exec(raw.slice(0, 65536))?.[1];
  const parsed = field ? Date.parse(field) : NaN;
  return Number.isNaN(parsed) ? fallback : new Date(parsed).toISOString().slice(0, 10);
}

/**
 * The recipient a VERP bounce address names: Postfix writes the sender noreply@ours, for
 * alice@example.org, as noreply+alice=example.org@ours (default_verp_delimiters "+="); the
 * recipient is what follows the first "+". Undefined for any other address.
 */
export function verpRecipient(address: string): string | undefined {
  const m = /^[^@+]+\+(.+)=([^=@]+)@[^@]+$/.exec(address.trim());
  if (!m) return undefined;
  const recipient = `${m[1]}@${m[2]}`.toLowerCase();
  return /^[^@\s]+@[a-z0-9.-]+\.[a-z0-9-]+$/.test(recipient) ? recipient : undefined;
}
