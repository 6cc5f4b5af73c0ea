import { RECEIVER_GROUPS, type ReceiverGroup } from "./receiver-groups";
import type { WarmupConfig } from "./warmup";

/**
 * IP warm-up as code: how many messages a new address may send each day,
 * per receiver group, from the day it started sending until the ramp ends
 * and the caps lift. Pure: the schedule, the caps of a day, and the config
 * schema; the host enforces them (mail over a day's cap waits in the queue,
 * never bounced), the plan shows them, a policy asks for them.
 *
 * The default ramp, and where each number comes from:
 * - 45 days, ending at 50,000 messages a day: Amazon SES's automatic warm-up
 *   of a dedicated IP ("the maximum daily amount of mail increases from the
 *   first day until you reach a maximum of 50,000 emails within 45 days",
 *   docs.aws.amazon.com/ses/latest/dg/dedicated-ip-warming.html), the only
 *   length and volume a provider publishes.
 * - 480 on day 1: Twilio SendGrid's automated warm-up allows 20 messages an
 *   hour on day 0 (twilio.com/docs/sendgrid/ui/sending-email/warming-up-an-ip-address,
 *   "Automated IP warmup hourly send schedule"), 480 over a day.
 * - In between, the same factor each day (about ×1.11), so that day 45 is
 *   50,000; rounded down to tens. SendGrid's table grows about ×1.4 a day,
 *   but there mail over an hour's cap overflows to the account's warm IPs;
 *   a host with one address has none, so over-cap mail waits, and the
 *   gentler SES length is the one that keeps it waiting days, not weeks.
 * - Each receiver group gets the whole cap: Gmail, Microsoft and Yahoo judge
 *   an address on the mail they receive from it (SES's managed warm-up
 *   tracks each ISP apart: "an IP warmed only on Gmail traffic counts as
 *   cold for Hotmail", docs.aws.amazon.com/ses/latest/dg/managed-dedicated-sending.html).
 * After day 45 the caps lift. SES then advises about 1,000 messages a day to
 * each provider to stay warm; that is not enforced.
 */

export const DEFAULT_RAMP_DAYS = 45;
export const DEFAULT_FIRST_DAILY_CAP = 480;
export const DEFAULT_LAST_DAILY_CAP = 50_000;

/** From `day` (1 is the start date) until the next step's day, at most `dailyCap` messages a day. */
export interface RampStep {
  day: number;
  dailyCap: number;
}

/** The default ramp, one step a day: 480 on day 1 to 50,000 on day 45 (see above). */
export function defaultRamp(): RampStep[] {
  const factor = (DEFAULT_LAST_DAILY_CAP / DEFAULT_FIRST_DAILY_CAP) ** (1 / (DEFAULT_RAMP_DAYS - 1));
  return Array.from({ length: DEFAULT_RAMP_DAYS }, (_, i) => ({
    day: i + 1,
    dailyCap: i === DEFAULT_RAMP_DAYS - 1 ? DEFAULT_LAST_DAILY_CAP : Math.floor((DEFAULT_FIRST_DAILY_CAP * factor ** i) / 10) * 10,
  }));
}

/** A warm-up with every ramp written out: what the host enforces and the plan shows. */
export interface WarmupSchedule {
  startDate: string;
  /** The last day any group is capped; from the day after, the caps lift. */
  lastDay: number;
  /** The date of the last day. */
  endDate: string;
  ramps: Record<ReceiverGroup, RampStep[]>;
  extraDomains: Partial<Record<ReceiverGroup, string[]>>;
}

export function warmupSchedule(config: WarmupConfig): WarmupSchedule {
  const base = config.ramp === "default" ? defaultRamp() : config.ramp;
  const ramps = Object.fromEntries(RECEIVER_GROUPS.map((g) => [g, config.groups[g] ?? base])) as Record<ReceiverGroup, RampStep[]>;
  const lastDay = Math.max(...RECEIVER_GROUPS.map((g) => ramps[g][ramps[g].length - 1].day));
  return { startDate: config.startDate, lastDay, endDate: addDays(config.startDate, lastDay - 1), ramps, extraDomains: config.extraDomains };
}

/** Today's place in a warm-up: the day number, and each group's cap (none once the ramp is over). */
export interface WarmupDay {
  /** 1 on startDate; 0 or less before it. */
  day: number;
  /** "before": not started yet, day 1's caps hold; "warming": capped; "lifted": the ramp is over. */
  state: "before" | "warming" | "lifted";
  /** Messages a day per receiver group; absent once lifted. */
  caps?: Record<ReceiverGroup, number>;
}

/** The caps on a date (YYYY-MM-DD, UTC). */
export function warmupDayOn(schedule: WarmupSchedule, date: string): WarmupDay {
  const day = daysBetween(schedule.startDate, date) + 1;
  if (day > schedule.lastDay) return { day, state: "lifted" };
  // Before the start the first day's caps hold: a host that sends early is still new.
  const effective = Math.max(day, 1);
  const caps = Object.fromEntries(RECEIVER_GROUPS.map((g) => [g, capOnDay(schedule.ramps[g], effective)])) as Record<ReceiverGroup, number>;
  return { day, state: day < 1 ? "before" : "warming", caps };
}

/** A ramp's cap on a day: the last step at or before it (a group whose ramp ended earlier keeps its last cap until all lift). */
export function capOnDay(ramp: readonly RampStep[], day: number): number {
  let cap = ramp[0].dailyCap;
  for (const step of ramp) if (step.day <= day) cap = step.dailyCap;
  return cap;
}

/** Today's date in UTC, YYYY-MM-DD; POSTFORGE_TODAY overrides it (reproducible plans, and tests). */
export function todayUtc(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): string {
  const fixed = env.POSTFORGE_TODAY;
  if (fixed !== undefined) {
    if (!isCalendarDate(fixed)) throw new Error(`POSTFORGE_TODAY = ${JSON.stringify(fixed)}: must be a date written YYYY-MM-DD, such as 2026-12-01`);
    return fixed;
  }
  return now.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** True for a calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
}
