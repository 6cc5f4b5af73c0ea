import { sendingRates, RATE_WINDOW_DAYS, type SendingCounts } from "../sending/rates";
import { addDays } from "../sending/warmup-schedule";
import { parseCountKey, type AccountingState, type Labels } from "./log-accounting";
import { METRICS, metricDefinition, prometheusLabel, prometheusName, type DimensionName, type MetricDefinition, type MetricName } from "./metrics";

/**
 * From the host's counts and readings to what it publishes: CloudWatch
 * datums (PutMetricData) and Prometheus text. Pure.
 */

/** One gauge's reading. */
export interface Reading {
  metric: MetricName;
  labels?: Labels;
  value: number;
}

/** One CloudWatch datum, as PutMetricData's MetricData takes it. */
export interface MetricDatum {
  MetricName: string;
  Dimensions: { Name: DimensionName; Value: string }[];
  Value: number;
  Unit: string;
}

/** Sums of counts by one dimension set: the key is the dimension values joined, in the set's order. */
function rollup(totals: Record<string, number>, metric: MetricDefinition, dimensions: readonly DimensionName[]): Map<string, { labels: Labels; value: number }> {
  const below = dimensions.filter((d) => d !== "Host") as (keyof Labels)[];
  const out = new Map<string, { labels: Labels; value: number }>();
  for (const [key, value] of Object.entries(totals)) {
    const parsed = parseCountKey(key);
    if (parsed.metric !== metric.name) continue;
    // A count without one of the set's labels (a delivery of a message whose sender was not seen) is in Host's sum only.
    if (below.some((d) => parsed.labels[d] === undefined)) continue;
    const labels: Labels = Object.fromEntries(below.map((d) => [d, parsed.labels[d]]));
    const k = below.map((d) => labels[d]).join("\u0000");
    const entry = out.get(k) ?? { labels, value: 0 };
    entry.value += value;
    out.set(k, entry);
  }
  return out;
}

function dimensionsOf(host: string, labels: Labels): MetricDatum["Dimensions"] {
  return [{ Name: "Host", Value: host }, ...Object.entries(labels).map(([Name, Value]) => ({ Name: Name as DimensionName, Value: Value as string }))];
}

/** The counts of the window's days (the rates' inputs). */
export function windowCounts(state: AccountingState, today: string, days = RATE_WINDOW_DAYS): SendingCounts {
  const from = addDays(today, -(days - 1));
  const sum = (metric: MetricName) => {
    let n = 0;
    for (const [day, counts] of Object.entries(state.days)) {
      if (day < from || day > today) continue;
      for (const [key, value] of Object.entries(counts)) if (parseCountKey(key).metric === metric) n += value;
    }
    return n;
  };
  const delivered = sum("Delivered");
  const hardBounces = sum("HardBounced");
  return { sent: delivered + hardBounces + sum("SoftBounced"), delivered, hardBounces, complaints: sum("Complaints") };
}

/** BounceRate and ComplaintRate (percent) over the window, each only from the minimum volume (a few messages make no rate). */
export function rateReadings(state: AccountingState, today: string): Reading[] {
  const rates = ratePercents(windowCounts(state, today));
  const out: Reading[] = [];
  if (rates.bounce !== undefined) out.push({ metric: "BounceRate", value: rates.bounce });
  if (rates.complaint !== undefined) out.push({ metric: "ComplaintRate", value: rates.complaint });
  return out;
}

/** The bounce and complaint rates of `counts` as percents to four places, each undefined below the minimum volume (sendingRates). */
export function ratePercents(counts: SendingCounts): { bounce?: number; complaint?: number } {
  const rates = sendingRates(counts);
  return {
    ...(rates.bounce.value !== undefined ? { bounce: round(rates.bounce.value * 100) } : {}),
    ...(rates.complaint.value !== undefined ? { complaint: round(rates.complaint.value * 100) } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/**
 * The datums of one publication: each counter's growth since `published`
 * (what was last sent successfully), at every dimension set the catalogue
 * gives it (Host's sum always, zero included, so graphs and alarms see
 * a quiet minute as zero, not as missing data), and each reading.
 */
export function cloudWatchDatums(host: string, totals: Record<string, number>, published: Record<string, number>, readings: readonly Reading[]): MetricDatum[] {
  const growth: Record<string, number> = {};
  for (const [key, value] of Object.entries(totals)) {
    const delta = value - (published[key] ?? 0);
    if (delta > 0) growth[key] = delta;
  }
  const out: MetricDatum[] = [];
  for (const metric of METRICS as readonly MetricDefinition[]) {
    if (metric.kind !== "counter") continue;
    for (const set of metric.dimensions) {
      const sums = rollup(growth, metric, set);
      if (set.length === 1 && sums.size === 0) sums.set("", { labels: {}, value: 0 });
      for (const { labels, value } of sums.values()) out.push({ MetricName: metric.name, Dimensions: dimensionsOf(host, labels), Value: value, Unit: metric.unit });
    }
  }
  for (const r of readings) {
    const metric = metricDefinition(r.metric)!;
    out.push({ MetricName: r.metric, Dimensions: dimensionsOf(host, r.labels ?? {}), Value: r.value, Unit: metric.unit });
  }
  // Readings by a label also publish Host's sum where the catalogue asks for it (DnsblListed: how many lists).
  for (const name of new Set(readings.filter((r) => r.labels && Object.keys(r.labels).length > 0).map((r) => r.metric))) {
    const metric = metricDefinition(name)!;
    if (!metric.dimensions.some((s) => s.length === 1) || readings.some((r) => r.metric === name && !r.labels)) continue;
    const total = readings.filter((r) => r.metric === name).reduce((n, r) => n + r.value, 0);
    out.push({ MetricName: name, Dimensions: dimensionsOf(host, {}), Value: total, Unit: metric.unit });
  }
  return out;
}

/** PutMetricData takes at most 1,000 datums a call. */
export function datumBatches(datums: readonly MetricDatum[], size = 1000): MetricDatum[][] {
  const out: MetricDatum[][] = [];
  for (let i = 0; i < datums.length; i += size) out.push(datums.slice(i, i + size));
  return out;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * The Prometheus text exposition (format 0.0.4): counters cumulative at
 * their finest labels (PromQL's sum() does the rollups), readings as gauges,
 * every series labelled with the host. Each metric has its HELP and TYPE even
 * when it has no series yet, so a dashboard's query names a known metric.
 */
export function prometheusText(host: string, totals: Record<string, number>, readings: readonly Reading[]): string {
  const lines: string[] = [];
  for (const metric of METRICS as readonly MetricDefinition[]) {
    const name = prometheusName(metric);
    lines.push(`# HELP ${name} ${metric.help}`, `# TYPE ${name} ${metric.kind}`);
    const series: { labels: Labels; value: number }[] =
      metric.kind === "counter"
        ? Object.entries(totals)
            .map(([key, value]) => ({ ...parseCountKey(key), value }))
            .filter((c) => c.metric === metric.name)
        : readings.filter((r) => r.metric === metric.name).map((r) => ({ labels: r.labels ?? {}, value: r.value }));
    if (metric.kind === "counter" && series.length === 0) series.push({ labels: {}, value: 0 });
    for (const s of series.sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)))) {
      const labels = [`host="${escapeLabel(host)}"`, ...Object.entries(s.labels).map(([k, v]) => `${prometheusLabel(k as DimensionName)}="${escapeLabel(v as string)}"`)];
      lines.push(`${name}{${labels.join(",")}} ${s.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
