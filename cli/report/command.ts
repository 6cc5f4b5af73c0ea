import * as fs from "node:fs";
import * as path from "node:path";
import { buildSendingReport, hostSummaryProblems, type DayFigures, type HostSummary, type SendingReport } from "../../components/monitoring/report";
import { RECEIVER_GROUP_NAMES, RECEIVER_GROUPS } from "../../components/sending/receiver-groups";
import { FlagProblems, parseCommandLine } from "../flag-check";
import type { Io } from "../postforge";
import { REPORT_USAGE } from "../usage";
import { renderReportHtml, type ReceiverReports } from "./html";

/**
 * `postforge report`: the sending report from the hosts' own summaries
 * (`postforge-mailops summary`), as a table, JSON or a self-contained HTML
 * page. Reads files only.
 */
export async function reportCommand(args: string[], io: Io): Promise<number> {
  const values = parseCommandLine(
    args,
    { summary: { type: "string", multiple: true }, reports: { type: "string" }, from: { type: "string" }, to: { type: "string" }, html: { type: "string" }, json: { type: "boolean" } },
    `Usage:\n${REPORT_USAGE}`,
  );
  const problems = new FlagProblems();
  const files = (values.summary as string[] | undefined) ?? [];
  if (files.length === 0) problems.add(["--summary"], undefined, "give at least one host summary: on the host, `postforge-mailops summary > summary.json`, then --summary summary.json");
  for (const flag of ["from", "to"] as const) {
    const v = values[flag] as string | undefined;
    if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) problems.add([`--${flag}`], v, "must be a date such as 2026-12-01");
  }
  const summaries: HostSummary[] = [];
  files.forEach((file, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      problems.add(["--summary", i], file, `cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return;
    }
    const wrong = hostSummaryProblems(parsed);
    for (const w of wrong) problems.add(["--summary", i], file, w);
    if (wrong.length === 0) summaries.push(parsed as HostSummary);
  });
  // The receivers' reports (`postforge reports --json`), charted beside the host's figures.
  let receiverReports: ReceiverReports | undefined;
  const reportsFile = values.reports as string | undefined;
  if (reportsFile !== undefined) {
    try {
      const parsed = JSON.parse(fs.readFileSync(reportsFile, "utf8")) as Partial<ReceiverReports>;
      if (!Array.isArray(parsed.dmarc) || !Array.isArray(parsed.tls)) problems.add(["--reports"], reportsFile, "has no dmarc and tls lists: give the output of `postforge reports --json`");
      else receiverReports = { dmarc: parsed.dmarc, tls: parsed.tls };
    } catch (error) {
      problems.add(["--reports"], reportsFile, `cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  const html = values.html as string | undefined;
  if (html !== undefined && !fs.existsSync(path.dirname(path.resolve(html)))) problems.add(["--html"], html, "its directory does not exist");
  problems.throwIfAny();

  const report = buildSendingReport(summaries, { from: values.from as string | undefined, to: values.to as string | undefined });
  if (html !== undefined) fs.writeFileSync(html, renderReportHtml(report, receiverReports));
  if (values.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  io.stdout(renderReportTable(report) + (html !== undefined ? `\nHTML report: ${html}\n` : ""));
  return 0;
}

const rate = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)}%`);

/** Where a rate stands against its thresholds. */
function level(value: number | undefined, t: { warn: number; critical: number }): string {
  if (value === undefined) return "too few";
  return value >= t.critical ? "CRITICAL" : value >= t.warn ? "warn" : "ok";
}

function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd());
}

const counts = (f: DayFigures) => [f.submitted, f.delivered, f.deferred, f.hardBounced, f.softBounced, f.complaints, f.refused].map(String);

function renderReportTable(report: SendingReport): string {
  if (report.days.length === 0) return `Sending report for ${report.hosts.join(", ")}: no days recorded yet.\n`;
  const last = report.days[report.days.length - 1];
  const lines = [
    `Sending report for ${report.hosts.join(", ")}, ${report.from} to ${report.to} (rates over the ${report.windowDays} days up to each day, from ${report.minimumVolume} messages)`,
    "",
    ...columns([
      ["DATE", "SUBMITTED", "DELIVERED", "DEFERRED", "HARD", "SOFT", "COMPLAINTS", "REFUSED", "BOUNCE RATE", "COMPLAINT RATE"],
      ...report.days.map((d) => [d.date, ...counts(d), rate(d.bounceRate), rate(d.complaintRate)]),
    ]),
    "",
    `By receiver group on ${last.date} (bounce rate warns at ${report.thresholds.bounce.warn}%, critical at ${report.thresholds.bounce.critical}%; complaint rate at ${report.thresholds.complaint.warn}% and ${report.thresholds.complaint.critical}%):`,
    ...columns([
      ["GROUP", "DELIVERED", "DEFERRED", "HARD", "SOFT", "COMPLAINTS", "WARM-UP CAP", "BOUNCE RATE", "", "COMPLAINT RATE", ""],
      ...RECEIVER_GROUPS.map((g) => {
        const f = last.groups[g];
        // Submissions count by sending domain and refusals by reason: neither has a receiver group.
        return [RECEIVER_GROUP_NAMES[g], ...[f.delivered, f.deferred, f.hardBounced, f.softBounced, f.complaints].map(String), f.warmupCap === undefined ? "-" : String(f.warmupCap), rate(f.bounceRate), level(f.bounceRate, report.thresholds.bounce), rate(f.complaintRate), level(f.complaintRate, report.thresholds.complaint)];
      }),
    ]).map((l) => `  ${l}`),
  ];
  return `${lines.join("\n")}\n`;
}
