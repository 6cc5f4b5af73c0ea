import type { BounceReason, BounceVerdict } from "./bounce-class";
import { daysBetween } from "./warmup-schedule";
import type { SuppressionReason } from "../mta-host/suppression";

/**
 * Who goes on the suppression list, from what the host saw: pure. A hard
 * bounce suppresses at once; soft bounces only when the same recipient
 * keeps failing for a reason of its own (a full mailbox, a disabled-looking
 * one: not our rate limits, greylisting, a policy block of our reputation
 * or a network fault, which say nothing about the recipient) on
 * SOFT_BOUNCE_LIMIT different days within SOFT_BOUNCE_WINDOW_DAYS, as
 * Amazon SES's suppression does for repeated soft bounces; a complaint
 * suppresses at once, but only one that authenticated on arrival (a forged
 * one is counted apart and changes nothing); an unsubscribe at once.
 */

/** Days of soft bounces, for one recipient, that put it on the list. */
export const SOFT_BOUNCE_LIMIT = 3;
/** Within how many days those soft bounces must fall. */
export const SOFT_BOUNCE_WINDOW_DAYS = 14;

/** Soft reasons that are about the recipient, and so may add up to a suppression (a reason not read never does). */
const RECIPIENT_SOFT_REASONS: readonly BounceReason[] = ["mailbox-full", "mailbox-disabled", "unknown-user", "no-such-domain"];

/** What the host saw about one recipient: a bounce, a complaint or an unsubscribe, on a day. */
export type SendingEvent =
  /** `final`: the message was given up on (bounced, expired, a DSN's failed); a deferral, retried, is not. */
  | { kind: "bounce"; recipient: string; date: string; verdict: BounceVerdict; detail: string; final: boolean }
  | { kind: "complaint"; recipient: string; date: string; authenticated: boolean; detail: string }
  | { kind: "unsubscribe"; recipient: string; date: string; detail: string };

/** One recipient to put on the list, with the reason, the day and the detail. */
export interface SuppressionDecision {
  recipient: string;
  /** The host tool's reasons (mta-host/suppression.ts), all but `manual`, which only an operator gives. */
  reason: Exclude<SuppressionReason, "manual">;
  /** The day the last event that decided it happened. */
  since: string;
  detail: string;
}

/** What decideSuppressions decided over a batch of events. */
export interface SuppressionOutcome {
  suppress: SuppressionDecision[];
  /** Complaints that did not authenticate on arrival: counted, never acted on. */
  forgedComplaints: number;
  /** Soft results that do not count towards a suppression (deferrals, rate limits, our reputation, the network). */
  ignoredSoftBounces: number;
}

/** Decide, over a batch of events (any order), which recipients to suppress and why; the first decisive event per recipient wins. */
export function decideSuppressions(events: readonly SendingEvent[]): SuppressionOutcome {
  const ordered = [...events].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const decided = new Map<string, SuppressionDecision>();
  const softDays = new Map<string, string[]>();
  let forgedComplaints = 0;
  let ignoredSoftBounces = 0;
  for (const event of ordered) {
    const recipient = event.recipient.toLowerCase();
    if (decided.has(recipient)) continue;
    if (event.kind === "complaint") {
      if (!event.authenticated) {
        forgedComplaints++;
        continue;
      }
      decided.set(recipient, { recipient, reason: "complaint", since: event.date, detail: event.detail });
    } else if (event.kind === "unsubscribe") {
      decided.set(recipient, { recipient, reason: "unsubscribe", since: event.date, detail: event.detail });
    } else if (event.verdict.kind === "hard") {
      decided.set(recipient, { recipient, reason: "hard-bounce", since: event.date, detail: event.detail });
    } else if (!event.final || !RECIPIENT_SOFT_REASONS.includes(event.verdict.reason)) {
      // Postfix logs a deferral at every retry: a receiver's outage must not add up to a suppression.
      ignoredSoftBounces++;
    } else {
      const days = [...new Set([...(softDays.get(recipient) ?? []), event.date])].filter((d) => Math.abs(daysBetween(d, event.date)) < SOFT_BOUNCE_WINDOW_DAYS);
      softDays.set(recipient, days);
      if (days.length >= SOFT_BOUNCE_LIMIT) {
        decided.set(recipient, { recipient, reason: "soft-bounces", since: event.date, detail: `${days.length} days of soft bounces (${event.verdict.reason}) since ${days[0]}: ${event.detail}` });
      }
    }
  }
  return { suppress: [...decided.values()].sort((a, b) => (a.recipient < b.recipient ? -1 : 1)), forgedComplaints, ignoredSoftBounces };
}
