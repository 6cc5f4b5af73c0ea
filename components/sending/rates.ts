/**
 * Sending rates as the mailbox providers and Amazon SES judge them, and the
 * thresholds their published rules set: one source for the dashboard, the
 * alarms, the report and the policy pack (issue: monitoring). Pure.
 *
 * - Bounce rate: hard bounces over messages sent (SES: "bounces ÷ sends";
 *   review at 5%, sending paused at 10%,
 *   docs.aws.amazon.com/ses/latest/dg/reputationdashboard-bounces.html).
 * - Complaint rate: complaints over messages delivered (SES counts
 *   complaints over deliveries; review at 0.1%, paused at 0.5%; Gmail and
 *   Yahoo's 2024 bulk-sender rules: keep it under 0.1%, never reach 0.3%,
 *   support.google.com/a/answer/81126).
 * Both over a window of the last 14 days (`RATE_WINDOW_DAYS`, the
 * suppression window too), with a floor of messages below which a rate says
 * nothing (one bounce in ten sends is not a 10% sender).
 */

/** The window the rates are computed over, in days. */
export const RATE_WINDOW_DAYS = 14;

/** Below this many messages in the window a rate is not judged (SES also waits for "a representative volume"). */
export const RATE_MINIMUM_VOLUME = 100;

/** A rate's thresholds: warn at the first, critical at the second (fractions, not percents). */
export interface RateThresholds {
  warn: number;
  critical: number;
  /** Where the numbers come from. */
  source: string;
}

/** Hard bounces over sends: warn at 5%, critical at 10% (SES). */
export const BOUNCE_RATE_THRESHOLDS: RateThresholds = { warn: 0.05, critical: 0.1, source: "Amazon SES reputation: review at 5%, sending paused at 10%" };
/** Complaints over deliveries: warn at 0.1%, critical at 0.3% (Gmail, Yahoo; SES reviews at 0.1%). */
export const COMPLAINT_RATE_THRESHOLDS: RateThresholds = {
  warn: 0.001,
  critical: 0.003,
  source: "Gmail and Yahoo bulk-sender rules (2024): under 0.1%, never 0.3%; Amazon SES reviews at 0.1%",
};

/** A threshold (a fraction) as the percent alarms, charts and reports show: 0.001 is 0.1. */
export function thresholdPercent(fraction: number): number {
  return Math.round(fraction * 100 * 1000) / 1000;
}

/** What happened in the window. */
export interface SendingCounts {
  /** Messages handed to receivers: delivered, bounced or deferred at least once (each recipient once). */
  sent: number;
  delivered: number;
  hardBounces: number;
  complaints: number;
}

/** One rate judged: its value (undefined below the minimum volume), and ok, warn or critical. */
export interface JudgedRate {
  value?: number;
  level: "ok" | "warn" | "critical" | "too-few";
  /** The denominator it was computed over. */
  over: number;
}

function judge(numerator: number, denominator: number, thresholds: RateThresholds): JudgedRate {
  if (denominator < RATE_MINIMUM_VOLUME) return { level: "too-few", over: denominator };
  const value = numerator / denominator;
  return { value, over: denominator, level: value >= thresholds.critical ? "critical" : value >= thresholds.warn ? "warn" : "ok" };
}

/** The bounce rate (hard bounces over sends) and the complaint rate (complaints over deliveries), judged. */
export function sendingRates(counts: SendingCounts): { bounce: JudgedRate; complaint: JudgedRate } {
  return {
    bounce: judge(counts.hardBounces, counts.sent, BOUNCE_RATE_THRESHOLDS),
    complaint: judge(counts.complaints, counts.delivered, COMPLAINT_RATE_THRESHOLDS),
  };
}
