/**
 * `postforge report` over a host summary as the host makes it: three weeks
 * of a warming address (the counts made by the host's own accounting from
 * log lines in Postfix's shape, the caps by the warm-up schedule), printed
 * as a table and JSON, and written as HTML that Debian's Chromium renders
 * headless with no console error, every chart with its series and
 * thresholds, and a screenshot named in the test's output.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { main } from "../cli/postforge";
import { accountEvents, accountLogLines, emptyAccounting } from "../components/monitoring/log-accounting";
import { HOST_SUMMARY_FORMAT, type HostSummary, type SendingReport } from "../components/monitoring/report";
import { RECEIVER_GROUPS } from "../components/sending/receiver-groups";
import { addDays, warmupDayOn, warmupSchedule } from "../components/sending/warmup-schedule";
import { reportsSummaryJson } from "../cli/reports/command";

const START = "2026-11-10";
const DAYS = 21;
const schedule = warmupSchedule({ startDate: START, ramp: [{ day: 1, dailyCap: 200 }, { day: 10, dailyCap: 400 }, { day: 21, dailyCap: 800 }], groups: {}, extraDomains: {} } as never);

/** The lines Postfix writes for one message to one recipient, and its result. */
function message(id: string, to: string, result: "sent" | "bounced" | "deferred"): string[] {
  const at = (process: string, text: string) => `Nov 10 10:00:00 mail ${process}[1]: ${text}`;
  const status =
    result === "sent"
      ? "dsn=2.0.0, status=sent (250 2.0.0 Ok)"
      : result === "bounced"
        ? "dsn=5.1.1, status=bounced (host mx[198.18.0.9] said: 550 5.1.1 user unknown (in reply to RCPT TO command))"
        : "dsn=4.7.0, status=deferred (host mx[198.18.0.9] said: 421 4.7.0 try later (in reply to RCPT TO command))";
  return [
    at("postfix/submission/smtpd", `${id}: client=unknown[10.0.0.5], sasl_method=PLAIN, sasl_username=webapp`),
    at("postfix/qmgr", `${id}: from=<noreply@example.com>, size=900, nrcpt=1 (queue active)`),
    at("postfix/smtp", `${id}: to=<${to}>, relay=mx[198.18.0.9]:25, delay=0.1, delays=0/0/0/0.1, ${status}`),
    ...(result === "deferred" ? [] : [at("postfix/qmgr", `${id}: removed`)]),
  ];
}

/** Three weeks: Gmail at its cap, a small bounce rate that climbs in week three, Yahoo's complaints, Microsoft deferring. */
function summary(): HostSummary {
  const state = emptyAccounting();
  const warmupCaps: HostSummary["warmupCaps"] = {};
  let n = 0;
  for (let i = 0; i < DAYS; i++) {
    const date = addDays(START, i);
    const caps = warmupDayOn(schedule, date).caps!;
    warmupCaps[date] = caps;
    const lines: string[] = [];
    const gmail = Math.min(caps.gmail, 150 + 10 * i);
    for (let k = 0; k < gmail; k++) lines.push(...message(`G${++n}`, `g${k}@gmail.com`, k < (i >= 14 ? 9 : 2) ? "bounced" : "sent"));
    for (let k = 0; k < 60; k++) lines.push(...message(`M${++n}`, `m${k}@outlook.com`, k < 6 ? "deferred" : "sent"));
    for (let k = 0; k < 40; k++) lines.push(...message(`Y${++n}`, `y${k}@yahoo.com`, "sent"));
    accountLogLines(state, lines, date, { domains: ["example.com"] });
    accountEvents(state, i % 3 === 0 ? [{ kind: "complaint", recipient: `y${i}@yahoo.com`, date, authenticated: true, detail: "abuse" }] : [], 0, date, { domains: ["example.com"] });
  }
  return { format: HOST_SUMMARY_FORMAT, host: "mail.example.com", days: state.days, warmupCaps };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(["report", ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe("postforge report", () => {
  const dir = mkdtempSync(join(tmpdir(), "postforge-report-"));
  const file = join(dir, "summary.json");
  let report: SendingReport;
  before(async () => {
    writeFileSync(file, JSON.stringify(summary()));
    const json = await cli(["--summary", file, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    report = JSON.parse(json.stdout) as SendingReport;
  });

  it("lists every day with its counts, and the rates over the 14 days up to it, from 100 messages", () => {
    assert.equal(report.days.length, DAYS);
    assert.deepEqual([report.from, report.to], [START, addDays(START, DAYS - 1)]);
    const first = report.days[0];
    // Day 1: Gmail 150 (2 bounced), Microsoft 60 (6 deferred: no result yet), Yahoo 40, one complaint.
    assert.deepEqual(
      { submitted: first.submitted, delivered: first.delivered, deferred: first.deferred, hard: first.hardBounced, complaints: first.complaints },
      { submitted: 250, delivered: 148 + 54 + 40, deferred: 6, hard: 2, complaints: 1 },
    );
    assert.equal(first.bounceRate, Math.round((2 / 244) * 100 * 10_000) / 10_000);
    assert.equal(first.groups.gmail.warmupCap, 200);
    assert.equal(first.groups.gmail.deliveryRate, Math.round((148 / 150) * 100 * 10_000) / 10_000);
    // Microsoft's deferred messages never got a result: its delivery rate is over what did.
    assert.equal(first.groups.microsoft.deliveryRate, 100);
    // Too few to judge per group: Yahoo's 40 deliveries a day reach 100 on day 3.
    assert.equal(report.days[0].groups.yahoo.complaintRate, undefined);
    assert.equal(report.days[2].groups.yahoo.complaintRate, Math.round((1 / 120) * 100 * 10_000) / 10_000);
  });

  it("prints a table a day and each group against the thresholds", async () => {
    const table = await cli(["--summary", file]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split("\n");
    assert.equal(lines[0], `Sending report for mail.example.com, ${START} to 2026-11-30 (rates over the 14 days up to each day, from 100 messages)`);
    assert.match(lines[2], /^DATE\s+SUBMITTED\s+DELIVERED\s+DEFERRED\s+HARD\s+SOFT\s+COMPLAINTS\s+REFUSED\s+BOUNCE RATE\s+COMPLAINT RATE$/);
    assert.match(lines[3], /^2026-11-10\s+250\s+242\s+6\s+2\s+0\s+1\s+0\s+0\.82%\s+0\.41%$/);
    assert.equal(lines.filter((l) => /^2026-11-\d\d /.test(l)).length, DAYS);
    const gmail = lines.find((l) => l.trim().startsWith("Gmail"))!;
    assert.match(gmail, /\s800\s+\d+\.\d\d%\s+ok\s+0\.00%\s+ok$/);
    const yahoo = lines.find((l) => l.trim().startsWith("Yahoo"))!;
    // Four complaints (every third day) in the 14 days' 560 deliveries: 0.71%, over 0.3%.
    assert.match(yahoo, /\s0\.00%\s+ok\s+0\.71%\s+CRITICAL$/);
  });

  it("refuses what is not a host summary, naming the file and the fix", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ host: "x", days: { yesterday: { Delivered: -1 } } }));
    const refused = await cli(["--summary", bad, "--from", "Monday"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--from = "Monday": must be a date such as 2026-12-01/);
    assert.match(refused.stderr, /--summary\[0\] = ".*bad\.json": format = undefined: must be "postforge-host-summary\/1" \(the output of `postforge-mailops summary`\)/);
    assert.match(refused.stderr, /days\.yesterday: not a date/);
    assert.match(refused.stderr, /days\.yesterday\.Delivered = -1: must be a count/);
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--summary = nothing: give at least one host summary/);
  });

  it("writes an HTML report that Chromium renders with no console error, each chart with its series and thresholds", async (t) => {
    const html = join(dir, "report.html");
    // The receivers' reports over the same weeks (as `postforge reports --json` writes them): DMARC for two domains, TLS for one.
    const day = (i: number) => addDays(START, i);
    const reports = join(dir, "reports.json");
    writeFileSync(
      reports,
      // Typed as the command's own summary, so the document cannot drift from what it prints.
      reportsSummaryJson({
        dmarc: [
          ...Array.from({ length: DAYS }, (_, i) => ({ domain: "example.com", day: day(i), messages: 200, dmarcPass: 190 + (i % 5), unknownMessages: 3, unknownDelivered: 3, sources: [] })),
          ...Array.from({ length: 7 }, (_, i) => ({ domain: "example.org", day: day(i * 3), messages: 50, dmarcPass: 40, unknownMessages: 10, unknownDelivered: 10, sources: [] })),
        ],
        tls: Array.from({ length: DAYS }, (_, i) => ({ domain: "example.com", day: day(i), policyTypes: ["sts"], successful: 500, failed: i % 4, failures: [] })),
        failures: [],
        setApart: [],
        unreadable: [],
      }),
    );
    const written = await cli(["--summary", file, "--reports", reports, "--html", html]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, new RegExp(`HTML report: ${html.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n$`));
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) problems.push(`request to ${r.url()}: the report must be self-contained`);
      });
      await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
      const charts = await page.$$eval("figure.chart", (figures) =>
        figures.map((f) => ({
          id: f.getAttribute("data-chart"),
          width: f.getBoundingClientRect().width,
          series: [...f.querySelectorAll("[data-series]")].map((s) => ({ id: s.getAttribute("data-series"), drawn: (s.querySelector("path")?.getAttribute("d") ?? "").length > 0, points: s.querySelectorAll("circle").length })),
          thresholds: [...f.querySelectorAll("[data-threshold]")].map((l) => l.getAttribute("data-threshold")),
        })),
      );
      assert.deepEqual(problems, []);
      assert.deepEqual(charts.map((c) => c.id), ["delivery-rate", "bounce-rate", "complaint-rate", "warmup", "dmarc-pass", "tls-failures"]);
      const chart = (id: string) => charts.find((c) => c.id === id)!;
      for (const c of charts) assert.ok(c.width > 400, `${c.id} is laid out (${c.width} px)`);
      // One line per receiver group; a group with no mail (the others) has none drawn.
      assert.deepEqual(chart("delivery-rate").series.map((s) => [s.id, s.drawn, s.points]), [
        ["gmail", true, DAYS],
        ["microsoft", true, DAYS],
        ["yahoo", true, DAYS],
        ["other", false, 0],
      ]);
      // Rates from the 100th message: Gmail's and Microsoft's from day 1 (150 and 54 sends), Yahoo's from day 3.
      assert.deepEqual(chart("bounce-rate").series.map((s) => [s.id, s.points]), [["gmail", DAYS], ["microsoft", DAYS - 1], ["yahoo", DAYS - 2], ["other", 0]]);
      assert.deepEqual(chart("bounce-rate").thresholds, ["warn", "critical"]);
      assert.deepEqual(chart("complaint-rate").thresholds, ["warn", "critical"]);
      assert.deepEqual(chart("complaint-rate").series.find((s) => s.id === "yahoo")!.points, DAYS - 2);
      // The warm-up: each group's cap (every day) against its volume.
      assert.deepEqual(chart("warmup").series.map((s) => [s.id, s.points]), RECEIVER_GROUPS.flatMap((g) => [[`${g}-volume`, DAYS], [`${g}-cap`, DAYS]]));
      // The receivers' reports: a line per domain, a point per day reported.
      assert.deepEqual(chart("dmarc-pass").series.map((s) => [s.id, s.points]), [["example.com", DAYS], ["example.org", 7]]);
      assert.deepEqual(chart("tls-failures").series.map((s) => [s.id, s.points]), [["example.com", DAYS]]);
      // The table under the charts: a row a day.
      assert.equal(await page.$$eval("tbody tr", (rows) => rows.length), DAYS);
      const shot = join(dir, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(statSync(shot).size > 20_000, "the screenshot shows the charts");
      t.diagnostic(`screenshot of the HTML report: ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
