/**
 * Load benchmark for the mail host (not a test), in the mail lab: the
 * example stack's host installed as the instance installs it (see
 * test/support/mta-daemons.ts), knotd as the lab's DNS, a node receiver as
 * the provider's MX on port 25 reached through DNS. The application submits
 * from LAB.APPLICATION, an ordinary address of the submission network that no
 * limit exempts: N messages, C sessions at a time, one fresh session
 * (STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA) per message, as the `webapp` login.
 *
 * Rounds alternate three hosts, each fresh, the same message shape:
 * - unsigned: the production host with `smtpd_milters` emptied after install
 *   (the floor of signing), its monitoring stopped;
 * - unwarmed: the production host's config without its warm-up, so no
 *   policy service at RCPT (the floor of the warm-up's cost), its
 *   monitoring stopped;
 * - unmonitored: the production host with its monitoring stopped (the
 *   exporter killed, postforge-mailops apply not run): the floor of the
 *   monitoring's cost;
 * - signed: the production host (both OpenDKIM signers, the warm-up policy
 *   at RCPT with the example stack's ramp, VERP), with its monitoring as in
 *   production: postforge-mailops apply (count, publish to the lab's
 *   CloudWatch, write the Prometheus text) every minute as cron runs it, so
 *   once a round, at its start, in the burst; and the exporter scraped from
 *   an admin address every second (a scrape interval is usually 15 to 60 s).
 * It reports each round and the median rate of each kind, end to end (first
 * submission to last delivery), and the ratios signed / unsigned (target: at
 * least 0.8), unmonitored / unwarmed (the warm-up's price, neither
 * monitored; target: at least 0.9) and signed / unmonitored (the
 * monitoring's price; target: at least 0.95). N stays under day 1's cap (480), so nothing is held: this measures
 * the policy in the path, not the hold.
 *
 *   MTA_LOAD_MESSAGES     N per round, default 300
 *   MTA_LOAD_CONCURRENCY  C, default 10
 *   MTA_LOAD_ROUNDS       rounds of each kind, default 2
 *   MTA_LOAD_WAIT_MS      delivery wait after the last submission, default 120000
 *
 * Needs root and .ci/run's packages: `npm run bench:mta` runs it in the lab.
 * Exits non-zero when any message was refused, lost, duplicated, or (signed
 * rounds) left without both signatures.
 */
import { performance } from "node:perf_hooks";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import type { KnotServer } from "../test/support/dns-tools";
import { LAB, requireLab } from "../test/support/lab";
import { collectArrivals, messageIdOf, stampArrivals, submitBatch } from "../test/support/mta-batch";
import { parseMailHostConfig, PATHS } from "../components/mta-host";
import { METRICS_PORT } from "../components/mta-host/monitoring";
import { request } from "node:http";
import { run } from "../test/support/mta-tools";
import { startMailHost, type MailHostDaemons } from "../test/support/mta-daemons";
import { config, createKeys, hostSecrets, labResolver, passwordOf, startFixtureHost, startLabDns } from "../test/support/mta-e2e-fixture";
import { startSmtpReceiver, type ReceivedMessage, type SmtpReceiver } from "../test/support/mta-e2e-smtp";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const N = envInt("MTA_LOAD_MESSAGES", 300);
const C = envInt("MTA_LOAD_CONCURRENCY", 10);
const ROUNDS = envInt("MTA_LOAD_ROUNDS", 2);
const WAIT_MS = envInt("MTA_LOAD_WAIT_MS", 120_000);
/** Messages of each signed round checked with mailauth's DKIM verifier (both signatures must pass). */
const DKIM_SAMPLE = 5;

interface Round {
  kind: "unsigned" | "unwarmed" | "unmonitored" | "signed";
  submitRate: number;
  endToEndRate: number;
  ok: boolean;
  monitoring?: MonitoringLoad;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function round(kind: Round["kind"], keys: Awaited<ReturnType<typeof createKeys>>, receiver: SmtpReceiver, arrivals: Map<ReceivedMessage, number>): Promise<Round> {
  let host: MailHostDaemons | undefined;
  try {
    if (kind === "unwarmed") {
      const { warmup: _none, ...rest } = config;
      host = await startMailHost(parseMailHostConfig(rest), hostSecrets(keys));
    } else host = await startFixtureHost(keys, { withoutMilters: kind === "unsigned" });
    if (kind !== "signed") await host.kill("postforge-metrics", "SIGTERM");
    const monitoring = kind === "signed" ? busyMonitoring(host) : undefined;
    const batch = await submitBatch({ count: N, concurrency: C, credential: { login: "webapp", password: passwordOf("webapp") }, envelopeFrom: "noreply@example.com", recipient: "bob@provider.example" });
    const got = await collectArrivals(receiver, batch, kind === "unsigned" ? 0 : 2, WAIT_MS, arrivals);
    const monitored = await monitoring?.stop();
    if (monitored && (monitored.applies === 0 || monitored.failedApplies > 0 || monitored.scrapes === 0 || monitored.failedScrapes > 0)) {
      console.log(`  ! monitoring: ${JSON.stringify(monitored)}`);
      return { kind, submitRate: 0, endToEndRate: 0, ok: false };
    }
    let sampleFailures = 0;
    if (kind === "signed") {
      const dns = labResolver();
      const sample = receiver.messages.filter((m) => batch.accepted.has(messageIdOf(m.data) ?? "")).slice(0, DKIM_SAMPLE);
      for (const m of sample) {
        const { results } = await dkimVerify(m.data, { resolver: dns });
        if (results.filter((r) => r.status.result === "pass").map((r) => r.algo).sort().join(",") !== "ed25519-sha256,rsa-sha256") sampleFailures++;
      }
    }
    const submitMs = batch.endedAt - batch.startedAt;
    const e2eMs = got.lastArrival - batch.startedAt;
    const ok = batch.accepted.size === N && got.lost.length === 0 && got.duplicates === 0 && got.underSigned.length === 0 && sampleFailures === 0;
    const r: Round = { kind, submitRate: batch.accepted.size / (submitMs / 1000), endToEndRate: got.copies.size / (e2eMs / 1000), ok, ...(monitored ? { monitoring: monitored } : {}) };
    console.log(
      `${kind.padEnd(9)} accepted ${batch.accepted.size}/${N}, delivered ${got.copies.size}, lost ${got.lost.length}, duplicates ${got.duplicates}, under-signed ${got.underSigned.length}` +
        `${kind === "signed" ? `, DKIM sample ${DKIM_SAMPLE - sampleFailures}/${DKIM_SAMPLE} pass, ${monitored!.applies} apply (${monitored!.applyCpuMs.map((c) => c.toFixed(0)).join(", ")} ms CPU), ${monitored!.scrapes} scrapes (exporter ${monitored!.exporterCpuMs.toFixed(0)} ms CPU)` : ""}; submission ${r.submitRate.toFixed(1)} msg/s, end to end ${r.endToEndRate.toFixed(1)} msg/s`,
    );
    for (const line of [...batch.failures, ...got.underSigned].slice(0, 10)) console.log(`  ! ${line}`);
    if (!ok) console.log(`--- postfix.log (tail) ---\n${(await host.postfixLog()).split("\n").slice(-30).join("\n")}`);
    return r;
  } finally {
    await host?.stop();
    receiver.messages.length = 0;
  }
}

/**
 * The host's monitoring as in production: apply as cron runs it (its PATH, as root, once a minute: a round
 * is shorter, so once, in the burst), and a Prometheus scrape from an admin network's address every
 * second (busier than any scrape config), until stopped.
 */
function busyMonitoring(host: MailHostDaemons): { stop: () => Promise<MonitoringLoad> } {
  let running = true;
  const load: MonitoringLoad = { applies: 0, failedApplies: 0, applyCpuMs: [], scrapes: 0, failedScrapes: 0, exporterCpuMs: 0 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let firstApplied: () => void = () => undefined;
  const first = new Promise<void>((r) => (firstApplied = r));
  const exporterStart = exporterCpuMs();
  const applies = (async () => {
    while (running) {
      // The CPU of apply and everything it runs (postqueue, postforge-warmup, the AWS CLI): the shell's cutime + cstime once it has waited.
      const done = await run("sh", ["-c", '"$0" apply >/dev/null 2>&1; s=$?; read -r stat < /proc/$$/stat; echo "$stat" | awk \'{ print $16 + $17 }\'; exit $s', host.root.at(PATHS.mailopsTool)], 60_000, host.toolEnv());
      load.applies++;
      if (!done.ok) load.failedApplies++;
      load.applyCpuMs.push((Number(done.stdout.trim()) * 1000) / CLOCK_TICKS);
      firstApplied();
      // cron's minute, cut short when the round ends.
      for (let waited = 0; running && waited < 60_000; waited += 200) await sleep(200);
    }
  })();
  const scrapes = (async () => {
    // The exporter has figures to serve once apply has written them (503 before: a fresh host's first minute).
    await first;
    while (running) {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request({ host: LAB.MAIL_HOST, port: METRICS_PORT, path: "/metrics", localAddress: LAB.APPLICATION, timeout: 5000 }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode === 200));
        });
        req.on("error", () => resolve(false));
        req.end();
      });
      load.scrapes++;
      if (!ok) load.failedScrapes++;
      await sleep(1000);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await Promise.all([applies, scrapes]);
      load.exporterCpuMs = (await exporterStart.then(async (start) => (await exporterCpuMs()) - start)) || 0;
      return load;
    },
  };
}

/** USER_HZ: /proc's CPU times are in these ticks. */
const CLOCK_TICKS = 100;

interface MonitoringLoad {
  applies: number;
  failedApplies: number;
  applyCpuMs: number[];
  scrapes: number;
  failedScrapes: number;
  exporterCpuMs: number;
}

/** The exporter's own CPU so far (utime + stime from /proc), in ms. */
async function exporterCpuMs(): Promise<number> {
  const found = await run("pgrep", ["-f", "postforge-mailops serve-metrics"]);
  const pid = found.stdout.trim().split("\n")[0];
  if (!pid) return 0;
  const stat = (await run("cat", [`/proc/${pid}/stat`])).stdout;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

async function main(): Promise<number> {
  requireLab("bench/mta-load.ts");
  if (process.getuid?.() !== 0) throw new Error("bench/mta-load.ts runs the daemons as root");
  let knot: KnotServer | undefined;
  let receiver: SmtpReceiver | undefined;
  try {
    const keys = await createKeys();
    knot = await startLabDns(keys);
    receiver = await startSmtpReceiver("mx.provider.example", { address: LAB.RECEIVERS[0], port: 25 });
    const arrivals = stampArrivals(receiver);
    console.log(`${N} messages a round from ${LAB.APPLICATION} (not exempt from any limit), ${C} sessions at a time, one session per message; ${ROUNDS} rounds of each kind, each on a fresh host`);
    if (N >= 480) throw new Error(`MTA_LOAD_MESSAGES=${N}: keep it under the warm-up's day-1 cap (480), or the signed rounds hold mail and measure the hold`);
    const started = performance.now();
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      rounds.push(await round("unsigned", keys, receiver, arrivals));
      rounds.push(await round("unwarmed", keys, receiver, arrivals));
      rounds.push(await round("unmonitored", keys, receiver, arrivals));
      rounds.push(await round("signed", keys, receiver, arrivals));
    }
    const rate = (kind: Round["kind"], field: "submitRate" | "endToEndRate") => median(rounds.filter((r) => r.kind === kind).map((r) => r[field]));
    console.log("");
    console.log(`median end to end: unsigned ${rate("unsigned", "endToEndRate").toFixed(1)} msg/s, signed ${rate("signed", "endToEndRate").toFixed(1)} msg/s, ratio ${(rate("signed", "endToEndRate") / rate("unsigned", "endToEndRate")).toFixed(2)} (target >= 0.80)`);
    console.log(`median submission: unsigned ${rate("unsigned", "submitRate").toFixed(1)} msg/s, signed ${rate("signed", "submitRate").toFixed(1)} msg/s, ratio ${(rate("signed", "submitRate") / rate("unsigned", "submitRate")).toFixed(2)}`);
    // The warm-up's price between two hosts that differ only by it (neither monitored).
    console.log(`warm-up in the path: end to end unwarmed ${rate("unwarmed", "endToEndRate").toFixed(1)} msg/s, unmonitored (with the policy) ${rate("unmonitored", "endToEndRate").toFixed(1)} msg/s, ratio ${(rate("unmonitored", "endToEndRate") / rate("unwarmed", "endToEndRate")).toFixed(2)} (target >= 0.90); submission ${rate("unwarmed", "submitRate").toFixed(1)} vs ${rate("unmonitored", "submitRate").toFixed(1)} msg/s, ratio ${(rate("unmonitored", "submitRate") / rate("unwarmed", "submitRate")).toFixed(2)}`);
    console.log(`monitoring: end to end unmonitored ${rate("unmonitored", "endToEndRate").toFixed(1)} msg/s, signed (apply each minute, scraped every second) ${rate("signed", "endToEndRate").toFixed(1)} msg/s, ratio ${(rate("signed", "endToEndRate") / rate("unmonitored", "endToEndRate")).toFixed(2)} (target >= 0.95); submission ${rate("unmonitored", "submitRate").toFixed(1)} vs ${rate("signed", "submitRate").toFixed(1)} msg/s, ratio ${(rate("signed", "submitRate") / rate("unmonitored", "submitRate")).toFixed(2)}`);
    const cpu = rounds.flatMap((r) => r.monitoring?.applyCpuMs ?? []);
    const perScrape = median(rounds.filter((r) => r.monitoring && r.monitoring.scrapes > 0).map((r) => r.monitoring!.exporterCpuMs / r.monitoring!.scrapes));
    console.log(`monitoring's own CPU: apply ${median(cpu).toFixed(0)} ms a run (median of ${cpu.length}; cron runs it once a minute: ${((median(cpu) / 60_000) * 100).toFixed(2)}% of one core), the exporter ${perScrape.toFixed(1)} ms a scrape`);
    console.log(`bench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return rounds.every((r) => r.ok) ? 0 : 1;
  } finally {
    for (const stop of [() => receiver?.stop(), () => knot?.stop()]) {
      try {
        await stop();
      } catch (error) {
        console.error(`cleanup: ${(error as Error).message}`);
      }
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
