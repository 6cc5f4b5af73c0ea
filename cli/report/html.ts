import { RECEIVER_GROUP_NAMES, RECEIVER_GROUPS, type ReceiverGroup } from "../../components/sending/receiver-groups";
import type { SendingReport } from "../../components/monitoring/report";
import type { DomainDay, TlsDomainDay } from "../../components/reports/summary";

/**
 * The sending report as one self-contained HTML page: inline CSS and SVG
 * charts drawn here (no script, no font, no request to anywhere: it opens
 * from a file, a mail attachment or a CI artifact the same). Each chart is a
 * <figure data-chart>, each line a <path data-series>, each threshold a
 * <line data-threshold>, so a test (and a reader's tools) can find them.
 */

const COLOURS: Record<ReceiverGroup, string> = { gmail: "#d93025", microsoft: "#0078d4", yahoo: "#6001d2", other: "#5f6368" };
const W = 720;
const H = 240;
const PAD = { left: 56, right: 16, top: 16, bottom: 40 };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

interface Series {
  id: string;
  label: string;
  colour: string;
  dashed?: boolean;
  /** One value per day; undefined is a gap (too few messages to judge). */
  values: (number | undefined)[];
}

interface Chart {
  id: string;
  title: string;
  unit: string;
  series: Series[];
  thresholds?: { id: "warn" | "critical"; value: number; label: string }[];
  /** A fixed top of the axis (a share: 100%). */
  max?: number;
}

/** The axis' top: the first of 1, 2, 2.5, 5 times a power of ten above the data (and its thresholds). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= max * 1.05) return m * power;
  return 10 * power;
}

function svgChart(chart: Chart, dates: string[]): string {
  const all = [...chart.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)), ...(chart.thresholds ?? []).map((t) => t.value)];
  const max = chart.max ?? niceMax(Math.max(0, ...all));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (dates.length <= 1 ? innerW / 2 : (i * innerW) / (dates.length - 1));
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const grid = ticks
    .map((t) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/><text class="tick" x="${PAD.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${+t.toFixed(3)}${escape(chart.unit)}</text>`)
    .join("");
  const every = Math.max(1, Math.ceil(dates.length / 8));
  const labels = dates.map((d, i) => (i % every === 0 || i === dates.length - 1 ? `<text class="tick" x="${x(i).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${d.slice(5)}</text>` : "")).join("");
  const thresholds = (chart.thresholds ?? [])
    .map((t) => `<line class="threshold ${t.id}" data-threshold="${t.id}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t.value).toFixed(1)}" y2="${y(t.value).toFixed(1)}"><title>${escape(t.label)}</title></line>`)
    .join("");
  const lines = chart.series
    .map((s) => {
      // Gaps break the line: a day without a rate is not a zero.
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === undefined) return void (pen = false);
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      const points = s.values.map((v, i) => (v === undefined ? "" : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.colour}"><title>${escape(`${s.label}, ${dates[i]}: ${+v.toFixed(4)}${chart.unit}`)}</title></circle>`)).join("");
      return `<g class="series" data-series="${escape(s.id)}"><path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>${points}</g>`;
    })
    .join("");
  const legend = [
    ...chart.series.map((s) => `<span class="key"><i style="background:${s.colour}${s.dashed ? ";opacity:.5" : ""}"></i>${escape(s.label)}</span>`),
    ...(chart.thresholds ?? []).map((t) => `<span class="key"><i class="${t.id}"></i>${escape(t.label)}</span>`),
  ].join("");
  return `<figure class="chart" data-chart="${chart.id}"><figcaption>${escape(chart.title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(chart.title)}">${grid}${labels}${thresholds}${lines}</svg><div class="legend">${legend}</div></figure>`;
}

/** The charts of a report: the same figures the table prints. */
function reportCharts(report: SendingReport): Chart[] {
  const byGroup = (pick: (g: ReceiverGroup, i: number) => number | undefined): Series[] =>
    RECEIVER_GROUPS.map((g) => ({ id: g, label: RECEIVER_GROUP_NAMES[g], colour: COLOURS[g], values: report.days.map((_, i) => pick(g, i)) }));
  const t = report.thresholds;
  const lines = (limits: { warn: number; critical: number }): Chart["thresholds"] => [
    { id: "warn", value: limits.warn, label: `warn ${limits.warn}%` },
    { id: "critical", value: limits.critical, label: `critical ${limits.critical}%` },
  ];
  const warmed = RECEIVER_GROUPS.filter((g) => report.days.some((d) => d.groups[g].warmupCap !== undefined));
  return [
    { id: "delivery-rate", title: "Delivery rate by receiver group (delivered over delivered and bounced, per day)", unit: "%", max: 100, series: byGroup((g, i) => report.days[i].groups[g].deliveryRate) },
    {
      id: "bounce-rate",
      title: `Bounce rate by receiver group (hard bounces over sends, ${report.windowDays} days)`,
      unit: "%",
      series: byGroup((g, i) => report.days[i].groups[g].bounceRate),
      thresholds: lines(t.bounce),
    },
    {
      id: "complaint-rate",
      title: `Complaint rate by receiver group (complaints over deliveries, ${report.windowDays} days)`,
      unit: "%",
      series: byGroup((g, i) => report.days[i].groups[g].complaintRate),
      thresholds: lines(t.complaint),
    },
    {
      id: "warmup",
      title: "Warm-up: each group's daily cap against its volume (delivered and bounced)",
      unit: "",
      series: warmed.flatMap((g) => [
        { id: `${g}-volume`, label: `${RECEIVER_GROUP_NAMES[g]} volume`, colour: COLOURS[g], values: report.days.map((d) => d.groups[g].delivered + d.groups[g].hardBounced + d.groups[g].softBounced) },
        { id: `${g}-cap`, label: `${RECEIVER_GROUP_NAMES[g]} cap`, colour: COLOURS[g], dashed: true, values: report.days.map((d) => d.groups[g].warmupCap) },
      ]),
    },
  ];
}

const fmt = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(2)}%`);

/** What the DMARC and TLS reports said, for the report's second half (from `postforge reports --json`). */
export interface ReceiverReports {
  dmarc: DomainDay[];
  tls: TlsDomainDay[];
}

/** The receivers' reports as charts over the report's days: DMARC pass share and TLS failures, a line per domain. */
function receiverReportCharts(reports: ReceiverReports, dates: readonly string[]): Chart[] {
  const palette = ["#1a73e8", "#188038", "#e37400", "#9334e6", "#d93025", "#5f6368"];
  const domains = [...new Set([...reports.dmarc.map((d) => d.domain), ...reports.tls.map((t) => t.domain)])].sort();
  const colour = (d: string) => palette[domains.indexOf(d) % palette.length];
  const dmarcDomains = [...new Set(reports.dmarc.map((d) => d.domain))].sort();
  const tlsDomains = [...new Set(reports.tls.map((t) => t.domain))].sort();
  return [
    {
      id: "dmarc-pass",
      title: "DMARC pass share by From domain (receivers' aggregate reports, per day)",
      unit: "%",
      max: 100,
      series: dmarcDomains.map((domain) => ({
        id: domain,
        label: domain,
        colour: colour(domain),
        values: dates.map((date) => {
          const day = reports.dmarc.find((d) => d.domain === domain && d.day === date);
          return day && day.messages > 0 ? Math.round((day.dmarcPass / day.messages) * 10_000) / 100 : undefined;
        }),
      })),
    },
    {
      id: "tls-failures",
      title: "TLS sessions that failed by policy domain (receivers' TLS reports, per day)",
      unit: "",
      series: tlsDomains.map((domain) => ({ id: domain, label: domain, colour: colour(domain), values: dates.map((date) => reports.tls.find((t) => t.domain === domain && t.day === date)?.failed) })),
    },
  ];
}

export function renderReportHtml(report: SendingReport, receiverReports?: ReceiverReports): string {
  const dates = report.days.map((d) => d.date);
  const extra = receiverReports ? receiverReportCharts(receiverReports, dates) : [];
  const rows = report.days
    .map((d) => `<tr><td>${d.date}</td>${[d.submitted, d.delivered, d.deferred, d.hardBounced, d.softBounced, d.complaints, d.refused].map((n) => `<td>${n}</td>`).join("")}<td>${fmt(d.bounceRate)}</td><td>${fmt(d.complaintRate)}</td></tr>`)
    .join("\n");
  const title = `Sending report: ${report.hosts.join(", ")}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #202124; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 4px; } p.sub { color: #5f6368; margin: 0 0 16px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure.chart { margin: 0; border: 1px solid #dadce0; border-radius: 8px; padding: 12px; }
figcaption { font-weight: 600; margin-bottom: 8px; }
svg { width: 100%; height: auto; }
.grid { stroke: #eee; } .tick { font-size: 11px; fill: #5f6368; }
.threshold { stroke-width: 1.5; stroke-dasharray: 4 3; } .threshold.warn { stroke: #f9ab00; } .threshold.critical { stroke: #d93025; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; margin-top: 4px; }
.key i { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
.key i.warn { background: #f9ab00; } .key i.critical { background: #d93025; }
table { border-collapse: collapse; margin-top: 24px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; } th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p class="sub">${report.from} to ${report.to}. Rates over the ${report.windowDays} days up to each day, as Amazon SES computes them, shown from ${report.minimumVolume} messages; lines are the providers' thresholds.</p>
<div class="charts">
${[...reportCharts(report), ...extra].map((c) => svgChart(c, dates)).join("\n")}
</div>
<table>
<thead><tr><th>Date</th><th>Submitted</th><th>Delivered</th><th>Deferred</th><th>Hard</th><th>Soft</th><th>Complaints</th><th>Refused</th><th>Bounce rate</th><th>Complaint rate</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
