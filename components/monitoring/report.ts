import { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS, RATE_MINIMUM_VOLUME, RATE_WINDOW_DAYS, thresholdPercent } from "../sending/rates";
import { RECEIVER_GROUPS, type ReceiverGroup } from "../sending/receiver-groups";
import { addDays } from "../sending/warmup-schedule";
import { parseCountKey } from "./log-accounting";
import { ratePercents } from "./publish";

/**
 * The sending report: what the host recorded (its `postforge-mailops
 * summary`), day by day and per receiver group, with the rates as SES
 * computes them over the 14 days up to each day and the warm-up's caps
 * beside the volume. Pure: `postforge report` prints it as a table, as
 * JSON, and as the HTML report.
 */

/** The tag of a host summary's format; `postforge report` refuses any other. */
export const HOST_SUMMARY_FORMAT = "postforge-host-summary/1";

/** What `postforge-mailops summary` prints on the host. */
export interface HostSummary {
  format: typeof HOST_SUMMARY_FORMAT;
  host: string;
  /** Each UTC day's counts, keyed as log-accounting's countKey. */
  days: Record<string, Record<string, number>>;
  /** Each day's warm-up cap per receiver group, where a ramp held. */
  warmupCaps: Record<string, Record<string, number>>;
}

/** One day's figures, for all groups or one. */
export interface DayFigures {
  submitted: number;
  delivered: number;
  deferred: number;
  hardBounced: number;
  softBounced: number;
  complaints: number;
  refused: number;
  /** Delivered over delivered and bounced that day (percent); undefined with no result that day. */
  deliveryRate?: number;
  /** Hard bounces over sends in the 14 days up to the day (percent), from the minimum volume. */
  bounceRate?: number;
  /** Complaints over deliveries in the 14 days up to the day (percent), from the minimum volume. */
  complaintRate?: number;
}

/** One day: its figures in all, and per receiver group with the warm-up cap. */
export interface ReportDay extends DayFigures {
  date: string;
  groups: Record<ReceiverGroup, DayFigures & { warmupCap?: number }>;
}

/** The report: the hosts, the span, the window and thresholds the rates use, and each day. */
export interface SendingReport {
  hosts: string[];
  from: string;
  to: string;
  windowDays: number;
  minimumVolume: number;
  thresholds: { bounce: { warn: number; critical: number }; complaint: { warn: number; critical: number } };
  days: ReportDay[];
}

type Counts = Omit<DayFigures, "deliveryRate" | "bounceRate" | "complaintRate">;

const FIELDS: Record<string, keyof Counts> = {
  Submitted: "submitted",
  Delivered: "delivered",
  Deferred: "deferred",
  HardBounced: "hardBounced",
  SoftBounced: "softBounced",
  Complaints: "complaints",
  Refused: "refused",
};

const zero = (): Counts => ({ submitted: 0, delivered: 0, deferred: 0, hardBounced: 0, softBounced: 0, complaints: 0, refused: 0 });
const pct = (n: number, d: number) => Math.round((n / d) * 100 * 10_000) / 10_000;

/** One day's counts, in all or for one group, summed over the hosts. */
function countsOn(summaries: readonly HostSummary[], date: string, group?: ReceiverGroup): Counts {
  const out = zero();
  for (const s of summaries)
    for (const [key, value] of Object.entries(s.days[date] ?? {})) {
      const { metric, labels } = parseCountKey(key);
      const field = FIELDS[metric];
      if (!field || (group && labels.ReceiverGroup !== group)) continue;
      out[field] += value;
    }
  return out;
}

function figures(summaries: readonly HostSummary[], date: string, group?: ReceiverGroup): DayFigures {
  const day = countsOn(summaries, date, group);
  const window = Array.from({ length: RATE_WINDOW_DAYS }, (_, i) => countsOn(summaries, addDays(date, -i), group)).reduce((a, b) => {
    for (const k of Object.keys(a) as (keyof Counts)[]) a[k] += b[k];
    return a;
  }, zero());
  const results = day.delivered + day.hardBounced + day.softBounced;
  // The window's rates as the host publishes them (hard bounces over sends, complaints over deliveries, from the minimum volume).
  const rates = ratePercents({ sent: window.delivered + window.hardBounced + window.softBounced, delivered: window.delivered, hardBounces: window.hardBounced, complaints: window.complaints });
  return {
    ...day,
    ...(results > 0 ? { deliveryRate: pct(day.delivered, results) } : {}),
    ...(rates.bounce !== undefined ? { bounceRate: rates.bounce } : {}),
    ...(rates.complaint !== undefined ? { complaintRate: rates.complaint } : {}),
  };
}

/** The report over the summaries' days (or from..to), every day in the span listed, quiet ones as zeros. */
export function buildSendingReport(summaries: readonly HostSummary[], span: { from?: string; to?: string } = {}): SendingReport {
  const known = [...new Set(summaries.flatMap((s) => [...Object.keys(s.days), ...Object.keys(s.warmupCaps ?? {})]))].sort();
  const from = span.from ?? known[0];
  const to = span.to ?? known[known.length - 1];
  const days: ReportDay[] = [];
  if (from !== undefined && to !== undefined)
    for (let date = from; date <= to; date = addDays(date, 1)) {
      const groups = Object.fromEntries(
        RECEIVER_GROUPS.map((g) => {
          const caps = summaries.map((s) => s.warmupCaps?.[date]?.[g]).filter((c): c is number => c !== undefined);
          return [g, { ...figures(summaries, date, g), ...(caps.length > 0 ? { warmupCap: caps.reduce((a, b) => a + b, 0) } : {}) }];
        }),
      ) as ReportDay["groups"];
      days.push({ date, ...figures(summaries, date), groups });
    }
  const asPct = (t: { warn: number; critical: number }) => ({ warn: thresholdPercent(t.warn), critical: thresholdPercent(t.critical) });
  return {
    hosts: summaries.map((s) => s.host),
    from: from ?? "",
    to: to ?? "",
    windowDays: RATE_WINDOW_DAYS,
    minimumVolume: RATE_MINIMUM_VOLUME,
    thresholds: { bounce: asPct(BOUNCE_RATE_THRESHOLDS), complaint: asPct(COMPLAINT_RATE_THRESHOLDS) },
    days,
  };
}

/** Problems with a file given as a host summary, as `field: what is wrong` (empty when it reads). */
export function hostSummaryProblems(value: unknown): string[] {
  if (!value || typeof value !== "object") return ["is not a JSON object: give the output of `postforge-mailops summary` on the host"];
  const v = value as Partial<HostSummary>;
  const problems: string[] = [];
  if (v.format !== HOST_SUMMARY_FORMAT) problems.push(`format = ${JSON.stringify(v.format)}: must be "${HOST_SUMMARY_FORMAT}" (the output of \`postforge-mailops summary\`)`);
  if (typeof v.host !== "string") problems.push("host: missing");
  if (!v.days || typeof v.days !== "object") problems.push("days: missing");
  else
    for (const [day, counts] of Object.entries(v.days)) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) problems.push(`days.${day}: not a date (YYYY-MM-DD)`);
      for (const [key, n] of Object.entries(counts ?? {})) if (typeof n !== "number" || !Number.isFinite(n) || n < 0) problems.push(`days.${day}.${key} = ${JSON.stringify(n)}: must be a count`);
    }
  return problems;
}
