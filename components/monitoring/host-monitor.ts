/**
 * The monitoring half of the host's postforge-mailops (bundled with it; see
 * components/sending/host-mailops.ts): the readings taken each minute, the
 * publication to CloudWatch and to the Prometheus text file, the exporter,
 * and the daily blocklist check. What it counts is ./log-accounting.ts,
 * what it publishes ./publish.ts: pure, and tested apart.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { log, readJson, writeAtomically } from "../sending/host-files";
import { addressInRanges } from "../address-ranges";
import { PATHS } from "../mta-host/layout";
import type { MonitoringSettings } from "../mta-host/monitoring";
import { DNSBLS, dnsblQueryName, judgeDnsblAnswer } from "../sending/dnsbl";
import { addDays } from "../sending/warmup-schedule";
import { DAYS_KEPT, emptyAccounting, type AccountingState } from "./log-accounting";
import { readReportMail, type ReportMail } from "../reports/report-mail";
import { HOST_SUMMARY_FORMAT, type HostSummary } from "./report";
import { cloudWatchDatums, datumBatches, prometheusText, rateReadings, type Reading } from "./publish";

export function readSettings(): MonitoringSettings {
  return JSON.parse(fs.readFileSync(PATHS.monitoringSettings, "utf8")) as MonitoringSettings;
}

/** The counts so far; a file that does not parse is moved aside (named in the log) rather than overwritten. */
export function readAccounting(): AccountingState {
  let text: string;
  try {
    text = fs.readFileSync(PATHS.accountingState, "utf8");
  } catch {
    return emptyAccounting();
  }
  try {
    return { ...emptyAccounting(), ...(JSON.parse(text) as Partial<AccountingState>) };
  } catch (error) {
    const aside = `${PATHS.accountingState}.corrupt-${Date.now()}`;
    fs.renameSync(PATHS.accountingState, aside);
    log(`${PATHS.accountingState} did not parse (${(error as Error).message}); moved to ${aside}, counting starts again`);
    return emptyAccounting();
  }
}

export function saveAccounting(state: AccountingState): void {
  writeAtomically(PATHS.accountingState, JSON.stringify(state));
}

/**
 * Where publication starts when nothing records what CloudWatch took (a new host, or the file lost): the
 * totals before this run's counts, so this run's growth goes out and no history is sent as one minute.
 */
export function ensurePublishedBaseline(totalsBefore: Record<string, number>): void {
  if (!fs.existsSync(PATHS.publishedState)) writeAtomically(PATHS.publishedState, JSON.stringify(totalsBefore));
}

/**
 * The report messages new in the role mailboxes since the last run, each judged (readReportMail: authenticated
 * on arrival by the host's own Authentication-Results, about our domains). A message is known by its Maildir
 * name's unique part, so one an operator's IMAP client moved to cur/ (and flagged) is not counted again.
 */
export function newReportMails(settings: MonitoringSettings, state: AccountingState): ReportMail[] {
  const mails: ReportMail[] = [];
  const baselined = new Set(state.reportsBaselinedMaildirs ?? []);
  for (const maildir of settings.reportMaildirs ?? []) {
    const present = new Set<string>();
    let listed = true;
    for (const sub of ["new", "cur"]) {
      const dir = path.join(maildir, sub);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch (error) {
        // A Maildir not made yet (no mail so far) is empty; one that cannot be listed keeps what it knew.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") listed = false;
        continue;
      }
      for (const name of names) {
        if (name.startsWith(".")) continue;
        const key = `${maildir}/${name.split(":")[0]}`;
        present.add(key);
        if (state.reportsSeen[key]) continue;
        // A new Maildir's first look takes what it holds as seen (an upgraded host's archive, a mailbox added with a domain).
        if (!baselined.has(maildir)) {
          state.reportsSeen[key] = true;
          continue;
        }
        const text = readRegularFile(path.join(dir, name), 20 * 2 ** 20);
        // Gone (an IMAP client moved it to cur/ meanwhile): read there, next time or in this loop.
        if (text === undefined) continue;
        state.reportsSeen[key] = true;
        try {
          mails.push(readReportMail(text, { authservId: settings.hostname, domains: settings.domains }));
        } catch (error) {
          log(`report ${name} in ${maildir} could not be read: ${(error as Error).message}`);
        }
      }
    }
    if (!listed) continue;
    baselined.add(maildir);
    // Forget what the mailbox no longer holds (an operator deleted it): the set stays the mailboxes' size.
    for (const key of Object.keys(state.reportsSeen)) if (key.startsWith(`${maildir}/`) && !present.has(key)) delete state.reportsSeen[key];
  }
  state.reportsBaselinedMaildirs = [...baselined].sort();
  return mails;
}

/** A regular file's text (latin1, byte for byte), opened without following a link; undefined when it is gone, not regular, or over `limit`. */
function readRegularFile(file: string, limit: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > limit) return undefined;
    return fs.readFileSync(fd).toString("latin1");
  } finally {
    fs.closeSync(fd);
  }
}

/** Seconds since a file was written, or undefined when it never was. */
function ageOf(file: string, nowMs: number): number | undefined {
  try {
    return Math.max(0, Math.round((nowMs - fs.statSync(file).mtimeMs) / 1000));
  } catch {
    return undefined;
  }
}

/** The queue as postqueue -j lists it: size, held, and the oldest message not held. */
function queueReadings(nowMs: number): Reading[] {
  const listed = spawnSync("postqueue", ["-c", PATHS.postfixDir, "-j"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (listed.status !== 0) {
    log(`postqueue -j failed: ${(listed.stderr || "").trim()}`);
    return [];
  }
  let size = 0;
  let held = 0;
  let oldest = nowMs / 1000;
  for (const line of listed.stdout.split("\n")) {
    if (!line) continue;
    const m = JSON.parse(line) as { queue_name: string; arrival_time: number };
    size++;
    if (m.queue_name === "hold") held++;
    else oldest = Math.min(oldest, m.arrival_time);
  }
  return [
    { metric: "QueueSize", value: size },
    { metric: "HeldMessages", value: held },
    { metric: "OldestQueuedAge", value: Math.max(0, Math.round(nowMs / 1000 - oldest)) },
  ];
}

/** Today's caps and use, from postforge-warmup status (the tool that enforces them). */
function warmupReadings(env: NodeJS.ProcessEnv): Reading[] {
  if (!fs.existsSync(PATHS.warmupTool)) return [];
  const done = spawnSync(PATHS.warmupTool, ["status"], { encoding: "utf8", env });
  if (done.status !== 0) {
    log(`postforge-warmup status failed: ${(done.stderr || "").trim()}`);
    return [];
  }
  const status = JSON.parse(done.stdout) as { caps: Record<string, number> | null; admitted: Record<string, number> };
  if (!status.caps) return [];
  return Object.entries(status.caps).flatMap(([group, cap]) => [
    { metric: "WarmupCap" as const, labels: { ReceiverGroup: group }, value: cap },
    { metric: "WarmupUsed" as const, labels: { ReceiverGroup: group }, value: status.admitted[group] ?? 0 },
  ]);
}

function lineCount(file: string): number {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

/** The last blocklist check, as `dnsbl` saved it. */
interface DnsblState {
  checkedAt: string;
  address: string;
  results: { list: string; outcome: "listed" | "not-listed" | "unknown"; detail: string }[];
}

/** A blocklist result older than this is not published as one: the daily check has stopped (DnsblUnknown says so). */
const DNSBL_STALE_HOURS = 36;

/** One source of readings, kept from spoiling the others: a failure is logged and that source says nothing this minute. */
function guarded(what: string, read: () => Reading[]): Reading[] {
  try {
    return read();
  } catch (error) {
    log(`${what}: ${(error as Error).message}; not published this minute`);
    return [];
  }
}

/** Every reading of this minute. */
export function readings(nowMs: number, today: string, state: AccountingState, env: NodeJS.ProcessEnv = process.env): Reading[] {
  return [
    ...guarded("the queue", () => queueReadings(nowMs)),
    ...guarded("the warm-up", () => warmupReadings(env)),
    ...guarded("the rates", () => rateReadings(state, today)),
    ...guarded("the syncs", () => {
      const out: Reading[] = [{ metric: "SuppressionPending", value: lineCount(PATHS.suppressionPending) }];
      const inStep = ageOf(PATHS.suppressionInStep, nowMs);
      if (inStep !== undefined) out.push({ metric: "SuppressionSyncAge", value: inStep });
      // The heartbeat of the timer's runs, or the first boot's apply (run by cloud-init, not the timer), whichever is later.
      const ages = [ageOf(PATHS.syncChecked, nowMs), ageOf(`${PATHS.syncState}/applied.sha256`, nowMs)].filter((a): a is number => a !== undefined);
      if (ages.length > 0) out.push({ metric: "ConfigSyncAge", value: Math.min(...ages) });
      return out;
    }),
    ...guarded("the certificate", () => {
      // The boot script serves a self-signed certificate before ACME answers, so there is one from the first boot.
      const cert = new X509Certificate(fs.readFileSync(PATHS.tlsCert));
      return [{ metric: "CertificateDaysLeft", value: Math.floor((Date.parse(cert.validTo) - nowMs) / 86_400_000) }];
    }),
    ...guarded("the blocklist check", () => {
      const dnsbl = readJson<DnsblState | undefined>(PATHS.dnsblState, undefined);
      if (!dnsbl) return [];
      if (nowMs - Date.parse(dnsbl.checkedAt) > DNSBL_STALE_HOURS * 3_600_000) return [{ metric: "DnsblUnknown", value: DNSBLS.length }];
      return [
        ...dnsbl.results.map((r) => ({ metric: "DnsblListed" as const, labels: { Blocklist: r.list }, value: r.outcome === "listed" ? 1 : 0 })),
        { metric: "DnsblUnknown" as const, value: dnsbl.results.filter((r) => r.outcome === "unknown").length },
      ];
    }),
  ];
}

/**
 * One minute's publication: the Prometheus text (always), and CloudWatch's datums through the AWS CLI.
 * What CloudWatch took is remembered, so a failed call's counts go with the next one.
 */
export function publish(nowMs: number, today: string, env: NodeJS.ProcessEnv = process.env): number {
  const settings = readSettings();
  const state = readAccounting();
  const current = readings(nowMs, today, state, env);
  recordCaps(today, current);
  fs.mkdirSync(PATHS.metricsDir, { recursive: true, mode: 0o755 });
  writeAtomically(PATHS.metricsText, prometheusText(settings.hostname, state.totals, current), 0o644);
  // No record of what CloudWatch took (a new host, or the file lost): from now on, not the host's whole history as one minute.
  const published = readJson<Record<string, number>>(PATHS.publishedState, state.totals);
  // Host's sums first: if a later call fails, what alarms watch went out; that minute's breakdowns are lost (logged) rather than sent twice.
  const datums = cloudWatchDatums(settings.hostname, state.totals, published, current).sort((a, b) => a.Dimensions.length - b.Dimensions.length);
  for (const [i, batch] of datumBatches(datums).entries()) {
    const file = path.join(PATHS.mailopsState, `.datums-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(batch), { mode: 0o600 });
    const done = spawnSync(
      "aws",
      ["cloudwatch", "put-metric-data", "--namespace", settings.namespace, "--metric-data", `file://${file}`, "--region", settings.region, "--cli-connect-timeout", "5", "--cli-read-timeout", "10"],
      { encoding: "utf8", env },
    );
    fs.rmSync(file, { force: true });
    if (done.status !== 0) {
      const why = (done.stderr || done.error?.message || "").trim();
      if (i === 0) {
        log(`CloudWatch PutMetricData failed (${done.status}); the counts go with the next minute's: ${why}`);
        return 1;
      }
      log(`CloudWatch PutMetricData failed (${done.status}) after ${i} of its calls; this minute's remaining breakdowns are lost: ${why}`);
      break;
    }
  }
  writeAtomically(PATHS.publishedState, JSON.stringify(state.totals));
  return 0;
}

/** The root's DNSSEC key (dns-root-data, as OpenDKIM uses it): a forged "listed" answer in a signed zone fails validation. */
const ROOT_KEY = "/usr/share/dns/root.key";

function trustAnchor(): string[] {
  return fs.existsSync(ROOT_KEY) ? ["-f", ROOT_KEY] : [];
}

/** Today's warm-up caps kept by day (DAYS_KEPT of them), for `summary` and so `postforge report`. */
function recordCaps(today: string, current: readonly Reading[]): void {
  const caps = current.filter((r) => r.metric === "WarmupCap");
  if (caps.length === 0) return;
  const kept = readJson<Record<string, Record<string, number>>>(PATHS.warmupCapsState, {});
  kept[today] = Object.fromEntries(caps.map((r) => [r.labels!.ReceiverGroup!, r.value]));
  const oldest = addDays(today, -DAYS_KEPT);
  for (const day of Object.keys(kept)) if (day < oldest) delete kept[day];
  writeAtomically(PATHS.warmupCapsState, JSON.stringify(kept));
}

/** What `summary` prints: the host, its counts by day, and its warm-up caps by day (the input of `postforge report`). */
export function summary(): HostSummary {
  return { format: HOST_SUMMARY_FORMAT, host: readSettings().hostname, days: readAccounting().days, warmupCaps: readJson<Record<string, Record<string, number>>>(PATHS.warmupCapsState, {}) };
}

/** One A query by unbound-host (from the root, DNSSEC-validated): its run, and the addresses it printed. */
function unboundA(name: string): { done: SpawnSyncReturns<string>; out: string; addresses: string[] } {
  const done = spawnSync("unbound-host", [...trustAnchor(), "-t", "A", name], { encoding: "utf8", timeout: 20_000 });
  const out = done.stdout ?? "";
  return { done, out, addresses: [...out.matchAll(/has address (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]) };
}

/** The address to check: the host's own name, resolved (the Elastic IP), unless given. */
function hostAddress(settings: MonitoringSettings, given?: string): string | undefined {
  return given || unboundA(settings.hostname).addresses[0];
}

/**
 * The blocklists, asked through the host's own resolver: unbound-host
 * resolves from the root by itself (libunbound, as OpenDKIM does), never
 * through the VPC's shared resolver, whose queries Spamhaus refuses
 * (127.255.255.254). Each answer judged by ../sending/dnsbl.ts.
 */
export function dnsbl(addressArg?: string): number {
  const settings = readSettings();
  const address = hostAddress(settings, addressArg);
  if (!address) {
    // Said, and published as "cannot tell" for every list: an old result must not stand in for today's.
    const detail = `cannot resolve ${settings.hostname} to check its address against the blocklists`;
    log(detail);
    writeAtomically(PATHS.dnsblState, JSON.stringify({ checkedAt: new Date().toISOString(), address: "", results: DNSBLS.map((l) => ({ list: l.name, outcome: "unknown", detail })) } satisfies DnsblState));
    return 1;
  }
  const results: DnsblState["results"] = [];
  for (const list of DNSBLS) {
    const query = dnsblQueryName(address, list.zone);
    if (!query) continue;
    const { done, out, addresses } = unboundA(query);
    const answer =
      done.status !== 0 || /SERVFAIL|REFUSED|timed out/i.test(out + (done.stderr ?? ""))
        ? { failure: (done.stderr || out || done.error?.message || `exit ${done.status}`).trim() }
        : addresses.length > 0
          ? { addresses }
          : /NXDOMAIN/.test(out)
            ? ({ nxdomain: true } as const)
            : { failure: `no address in the answer: ${out.trim()}` };
    const verdict = judgeDnsblAnswer(list, answer);
    const outcome = verdict.state === "clear" ? "not-listed" : verdict.state;
    results.push({ list: list.name, outcome, detail: verdict.detail });
    if (outcome !== "not-listed") log(`${list.name}: ${verdict.detail}`);
  }
  writeAtomically(PATHS.dnsblState, JSON.stringify({ checkedAt: new Date().toISOString(), address, results } satisfies DnsblState));
  return 0;
}

/**
 * The exporter: GET /metrics serves the text apply wrote, to the admin networks only; any other client
 * is closed on without a byte (the security group also keeps them out; this holds where it is opened wider).
 */
export function serveMetrics(): Promise<never> {
  const settings = readSettings();
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" || (request.url !== "/metrics" && request.url !== "/")) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    let body: string;
    try {
      body = fs.readFileSync(PATHS.metricsText, "utf8");
    } catch {
      response.writeHead(503, { "Content-Type": "text/plain" }).end("no figures yet: postforge-mailops apply writes them every minute\n");
      return;
    }
    response.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
  });
  server.on("connection", (socket) => {
    const remote = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (!addressInRanges(remote, settings.adminClients)) socket.destroy();
  });
  server.maxConnections = 32;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  // Dual-stack, for IPv6 admin networks too (IPv4 clients arrive as ::ffff:a.b.c.d); IPv4 alone where the host has no IPv6.
  server.once("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EAFNOSUPPORT" && error.code !== "EADDRNOTAVAIL") throw error;
    server.listen(settings.metricsPort, "0.0.0.0");
  });
  server.listen(settings.metricsPort, "::");
  return new Promise<never>(() => undefined);
}
