/**
 * Monitoring with the real daemons: the example stack's host sends a batch
 * whose outcomes are known (delivered to Gmail over TLS and to a small
 * provider, hard-bounced and deferred by Microsoft, a complaint through
 * Yahoo's feedback loop, a forged one, refusals at submission), its own
 * postforge-mailops runs as cron runs it, and:
 *
 * - the CloudWatch datums the host published (captured by the lab's AWS)
 *   add up to exactly those counts, by host, sending domain and receiver
 *   group, with the rates, the queue, the warm-up, the syncs, the
 *   certificate and the blocklists;
 * - every metric the dashboard's widgets and the alarms name is one the host
 *   published, with the same dimensions and unit (a misspelt metric or a
 *   missing dimension fails here, not on a dark dashboard);
 * - the Prometheus exporter serves the same counts to an admin network and
 *   nothing to anyone else;
 * - a CloudWatch outage loses nothing: the next call carries the minute it missed.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DnsRecord } from "../components/dns/model";
import { parseMailHostConfig, PATHS } from "../components/mta-host";
import { METRICS_PORT } from "../components/mta-host/monitoring";
import { alarmMetrics, mailHostAlarms } from "../components/monitoring/alarms";
import { dashboardMetrics, mailHostDashboardWidgets } from "../components/monitoring/dashboard";
import { grafanaQueries } from "../components/monitoring/grafana";
import { METRIC_NAMESPACE, metricDefinition } from "../components/monitoring/metrics";
import { DNSBLS } from "../components/sending/dnsbl";
import { main } from "../cli/postforge";
import type { SendingReport } from "../components/monitoring/report";
import { todayUtc } from "../components/sending/warmup-schedule";
import type { KnotServer } from "./support/dns-tools";
import { signedYahooReport, YAHOO_ZONE, yahooReport } from "./support/feedback-loop";
import { LAB, requireLab } from "./support/lab";
import { startMailHost, type CloudWatchCall, type MailHostDaemons } from "./support/mta-daemons";
import { config as fixtureConfig, createKeys, HOST, hostSecrets, passwordOf, startLabDns } from "./support/mta-e2e-fixture";
import { deliver, message, submit } from "./support/mta-lab-clients";
import { startSmtpReceiver, type SmtpReceiver } from "./support/mta-e2e-smtp";
import { makeTestRoot, run, type TestRoot } from "./support/mta-tools";

const TODAY = todayUtc();
/** A ramp whose cap the batch does not reach: the warm-up's figures are published, nothing is held. */
const config = parseMailHostConfig({ ...fixtureConfig, warmup: { startDate: TODAY, ramp: [{ day: 1, dailyCap: 1000 }, { day: 2, dailyCap: 2000 }] } });
const WEBAPP = { login: "webapp", password: passwordOf("webapp") };
const GMAIL_RECIPIENTS = 100;

/**
 * The blocklists as the lab serves them: SpamCop lists the host; Spamhaus, Barracuda and PSBL give each of
 * the "cannot tell" answers (127.255.255.254 for a public resolver, .252 for a typo'd zone, .255 over quota);
 * Mailspike does not list it.
 */
const CANNOT_TELL: Record<string, string> = { "zen.spamhaus.org": "127.255.255.254", "b.barracudacentral.org": "127.255.255.252", "psbl.surriel.com": "127.255.255.255" };
const HOST_REVERSED = LAB.MAIL_HOST.split(".").reverse().join(".");
const BLOCKLIST_ZONES: { apex: string; records: DnsRecord[] }[] = DNSBLS.map((list) => ({
  apex: list.zone,
  records: [
    // Every list publishes its test entry, 127.0.0.2.
    { name: `2.0.0.127.${list.zone}`, type: "A", ttl: 300, purpose: "host-address", address: "127.0.0.2" },
    ...(list.zone === "bl.spamcop.net" ? [{ name: `${HOST_REVERSED}.${list.zone}`, type: "A" as const, ttl: 300, purpose: "host-address" as const, address: "127.0.0.2" }] : []),
    ...(CANNOT_TELL[list.zone] ? [{ name: `${HOST_REVERSED}.${list.zone}`, type: "A" as const, ttl: 300, purpose: "host-address" as const, address: CANNOT_TELL[list.zone] }] : []),
  ],
}));

let knot: KnotServer | undefined;
let host: MailHostDaemons | undefined;
let scratch: TestRoot | undefined;
const receivers: Record<string, SmtpReceiver> = {};

async function logs(): Promise<string> {
  return host ? `--- postfix.log ---\n${(await host.postfixLog()).slice(-5000)}` : "(no host)";
}

async function waitUntil(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The host's postforge-mailops, as cron runs it. */
async function mailops(command: string, ...args: string[]): Promise<{ ok: boolean; output: string }> {
  return run(host!.root.at(PATHS.mailopsTool), [command, ...args], 60_000, host!.toolEnv({ POSTFORGE_TODAY: TODAY }));
}

const count = async (pattern: RegExp) => ((await host!.postfixLog()).match(new RegExp(pattern.source, "g")) ?? []).length;

/** Every datum of the calls, and the counters' sums by metric and dimensions (`Delivered|Host=...|ReceiverGroup=gmail`). */
function sums(calls: CloudWatchCall[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const call of calls)
    for (const d of call.data) {
      if (metricDefinition(d.MetricName)?.kind !== "counter") continue;
      const key = [d.MetricName, ...d.Dimensions.map((x) => `${x.Name}=${x.Value}`)].join("|");
      out.set(key, (out.get(key) ?? 0) + d.Value);
    }
  return out;
}

/** The last value a gauge was published with, at the given dimensions. */
function last(calls: CloudWatchCall[], metric: string, dimensions: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify({ Host: HOST, ...dimensions });
  let value: number | undefined;
  for (const call of calls) for (const d of call.data) if (d.MetricName === metric && JSON.stringify(Object.fromEntries(d.Dimensions.map((x) => [x.Name, x.Value]))) === want) value = d.Value;
  return value;
}

/** GET /metrics from an address of the lab: the status and body, or the error when the exporter closes on it. */
function scrape(localAddress: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: LAB.MAIL_HOST, port: METRICS_PORT, path: "/metrics", localAddress, timeout: 5000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (c: string) => (body += c));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

describe("monitoring on the host: known outcomes become exactly these figures, in CloudWatch and Prometheus (Postfix, postforge-mailops)", { timeout: 300_000 }, () => {
  let calls: CloudWatchCall[] = [];
  let refusedRetriesAccepted = 0;
  let dnsblSaid = "";

  before(async () => {
    requireLab("the monitoring end-to-end test");
    scratch = await makeTestRoot("postforge-monitoring-");
    // Gmail's receiver offers STARTTLS with a certificate of its own (self-signed: Postfix says "Untrusted").
    const keyFile = join(scratch.root, "gmail.key");
    const certFile = join(scratch.root, "gmail.crt");
    const made = await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx.gmail.com", "-keyout", keyFile, "-out", certFile]);
    assert.ok(made.ok, made.output);
    const keys = await createKeys();
    knot = await startLabDns(keys, [YAHOO_ZONE, ...BLOCKLIST_ZONES]);
    receivers.gmail = await startSmtpReceiver("mx.gmail.com", { address: LAB.RECEIVERS[2], port: 25, tls: { key: await readFile(keyFile, "utf8"), cert: await readFile(certFile, "utf8") } });
    receivers.microsoft = await startSmtpReceiver("mx.outlook.com", {
      address: LAB.RECEIVERS[3],
      port: 25,
      rcptReply: (rcpt) => (rcpt.startsWith("gone-") ? "550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup" : rcpt.startsWith("busy-") ? "452 4.7.0 Temporarily rate limited due to IP reputation" : undefined),
    });
    receivers.small = await startSmtpReceiver("mx.provider.example", { address: LAB.RECEIVERS[0], port: 25 });
    host = await startMailHost(config, hostSecrets(keys));

    const send = async (recipient: string, envelopeFrom = "noreply@example.com") => {
      const m = message({ from: "noreply@example.com", to: `Someone <${recipient}>` });
      return submit({ credential: WEBAPP, envelopeFrom, recipients: [recipient], data: m.text });
    };
    // The batch: 100 to Gmail, 1 to the small provider, 2 Microsoft refuses (550), 1 it defers (452).
    const recipients = [...Array.from({ length: GMAIL_RECIPIENTS }, (_, i) => `user${i + 1}@gmail.com`), "bob@provider.example", "gone-1@outlook.com", "gone-2@outlook.com", "busy-1@outlook.com"];
    for (let i = 0; i < recipients.length; i += 10) {
      const done = await Promise.all(recipients.slice(i, i + 10).map((r) => send(r)));
      for (const t of done) assert.ok(t.accepted, `${t.final.text}\n${await logs()}`);
    }
    await waitUntil("every result is logged", async () => (await count(/postfix\/smtp\[\d+\]: \w+: to=<[^>]+>, .*status=sent/)) === GMAIL_RECIPIENTS + 1 && (await count(/to=<gone-\d@outlook\.com>.*status=bounced/)) === 2 && (await count(/to=<busy-1@outlook\.com>.*status=deferred/)) === 1);

    // Yahoo's feedback loop complains about user1 (signed), a stranger forges one about user2.
    assert.ok((await deliver({ from: LAB.RECEIVERS[1], helo: "mta.yahoo.com", envelopeFrom: "feedback@arf.mail.yahoo.com", recipients: ["fbl@example.com"], data: await signedYahooReport("user1@gmail.com") })).accepted);
    assert.ok((await deliver({ envelopeFrom: "forger@reporter.example", recipients: ["fbl@example.com"], data: yahooReport("user2@gmail.com") })).accepted);
    await waitUntil("both reports reach the intake", async () => (await count(/relay=postforge-complaint.*status=sent/)) === 2);
    // The host's own DSNs for the two 550s reach the intake too (their VERP addresses).
    await waitUntil("the host's DSNs reach the intake", async () => (await count(/relay=postforge-bounce.*status=sent/)) === 2);
    const first = await mailops("apply");
    assert.ok(first.ok, first.output);

    // Refused at submission: the suppressed recipient (once the reloaded table is read), and a sender webapp may not use.
    for (;;) {
      const t = await send("user1@gmail.com");
      if (!t.accepted) {
        assert.match(t.final.text, /suppressed since/);
        break;
      }
      refusedRetriesAccepted++;
      assert.ok(refusedRetriesAccepted < 40, "the suppression never took");
      await new Promise((r) => setTimeout(r, 250));
    }
    const notOwned = await send("user3@gmail.com", "billing@example.com");
    assert.equal(notOwned.accepted, false);
    assert.match(notOwned.final.text, /not owned by user/);
    if (refusedRetriesAccepted > 0) await waitUntil("the accepted retries are delivered", async () => (await count(/postfix\/smtp\[\d+\]: \w+: to=<[^>]+>, .*status=sent/)) === GMAIL_RECIPIENTS + 1 + refusedRetriesAccepted);

    // The config sync's heartbeat, written as systemd runs the drop-in's ExecStartPost after a sync that succeeded.
    const dropIn = await readFile(host.root.at(PATHS.syncCheckedDropIn), "utf8");
    const post = /^ExecStartPost=\/bin\/sh -c '(.+)'$/m.exec(dropIn)![1].replace(/%%/g, "%");
    assert.ok((await run("sh", ["-c", post])).ok);
    // The daily blocklist check, through unbound-host from the lab's root.
    const checked = await mailops("dnsbl", LAB.MAIL_HOST);
    assert.ok(checked.ok, checked.output);
    dnsblSaid = checked.output;
    const second = await mailops("apply");
    assert.ok(second.ok, second.output);
    calls = await host.cloudwatchCalls();
  });

  after(async () => {
    const errors: unknown[] = [];
    for (const stop of [() => host?.stop(), ...Object.values(receivers).map((r) => () => r.stop()), () => knot?.stop(), () => scratch?.cleanup()]) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });

  it("publishes to the Postforge namespace in the host's region, each call within PutMetricData's limits", () => {
    assert.ok(calls.length >= 2, `calls: ${calls.length}`);
    for (const call of calls) {
      assert.equal(call.namespace, METRIC_NAMESPACE);
      assert.equal(call.region, config.awsRegion);
      assert.ok(call.data.length <= 1000);
    }
  });

  it("counts exactly what happened: by host, by sending domain, by receiver group", async () => {
    const rejects = ((await host!.postfixLog()).match(/.*(?:reject|rate limit).*/g) ?? []).join("\n");
    const probes = await count(/postfix\/submissions?\/smtpd\[\d+\]: NOQUEUE: reject: CONNECT from .*Client host rejected: Access denied/);
    const delivered = GMAIL_RECIPIENTS + 1 + refusedRetriesAccepted;
    const expected: Record<string, number> = {
      [`Submitted|Host=${HOST}`]: delivered + 3,
      [`Submitted|Host=${HOST}|Domain=example.com`]: delivered + 3,
      [`Delivered|Host=${HOST}`]: delivered,
      [`Delivered|Host=${HOST}|Domain=example.com`]: delivered,
      [`Delivered|Host=${HOST}|ReceiverGroup=gmail`]: delivered - 1,
      [`Delivered|Host=${HOST}|ReceiverGroup=other`]: 1,
      [`HardBounced|Host=${HOST}`]: 2,
      [`HardBounced|Host=${HOST}|Domain=example.com`]: 2,
      [`HardBounced|Host=${HOST}|ReceiverGroup=microsoft`]: 2,
      [`SoftBounced|Host=${HOST}`]: 0,
      [`Deferred|Host=${HOST}`]: 1,
      [`Deferred|Host=${HOST}|Domain=example.com`]: 1,
      [`Deferred|Host=${HOST}|ReceiverGroup=microsoft`]: 1,
      [`Complaints|Host=${HOST}`]: 1,
      [`Complaints|Host=${HOST}|ReceiverGroup=gmail`]: 1,
      [`UnauthenticatedReports|Host=${HOST}`]: 1,
      // The lab's readiness probe connects to 587 from the host's own address, which is no submission client: refused, and counted.
      [`Refused|Host=${HOST}`]: 2 + probes,
      [`Refused|Host=${HOST}|Reason=client-not-allowed`]: probes,
      [`Refused|Host=${HOST}|Reason=suppressed`]: 1,
      [`Refused|Host=${HOST}|Reason=sender-not-allowed`]: 1,
      [`DkimSigningFailures|Host=${HOST}`]: 0,
    };
    const got = sums(calls);
    for (const [key, value] of Object.entries(expected)) assert.equal(got.get(key), value, `${key}; all: ${JSON.stringify([...got].filter(([k, v]) => v !== 0 || k in expected))}\nrefusals logged:\n${rejects}`);
    // Nothing else was counted: every other counter series is zero.
    for (const [key, value] of got) if (!(key in expected) && !key.startsWith("OutboundTlsSessions|")) assert.equal(value, 0, key);
  });

  it("counts the outbound TLS sessions Postfix logged, by how the certificate was judged", async () => {
    const got = sums(calls);
    const logged = await count(/postfix\/smtp\[\d+\]: Untrusted TLS connection established to mx\.gmail\.com/);
    assert.ok(logged > 0, "Postfix used the receiver's STARTTLS");
    assert.equal(got.get(`OutboundTlsSessions|Host=${HOST}|TlsLevel=Untrusted`), logged);
    assert.equal(got.get(`OutboundTlsSessions|Host=${HOST}`), logged);
  });

  it("publishes the rates over the window as SES computes them, and the readings of the queue, the warm-up, the syncs, the certificate and the blocklists", async () => {
    const delivered = GMAIL_RECIPIENTS + 1 + refusedRetriesAccepted;
    const round = (n: number) => Math.round(n * 10_000) / 10_000;
    assert.equal(last(calls, "BounceRate"), round((100 * 2) / (delivered + 2)));
    assert.equal(last(calls, "ComplaintRate"), round(100 / delivered));
    // The 452'd message waits for its retry; nothing is held.
    assert.equal(last(calls, "QueueSize"), 1);
    assert.equal(last(calls, "HeldMessages"), 0);
    const oldest = last(calls, "OldestQueuedAge")!;
    assert.ok(oldest >= 0 && oldest < 600, String(oldest));
    const status = JSON.parse((await run(host!.root.at(PATHS.warmupTool), ["status"], 30_000, host!.toolEnv())).stdout) as { admitted: Record<string, number> };
    assert.equal(last(calls, "WarmupCap", { ReceiverGroup: "gmail" }), 1000);
    assert.equal(last(calls, "WarmupUsed", { ReceiverGroup: "gmail" }), status.admitted.gmail);
    assert.equal(last(calls, "WarmupUsed", { ReceiverGroup: "microsoft" }), 3);
    assert.equal(last(calls, "SuppressionPending"), 0);
    assert.ok(last(calls, "SuppressionSyncAge")! < 300);
    assert.ok(last(calls, "ConfigSyncAge")! < 300);
    const cert = new X509Certificate(await readFile(host!.root.at(PATHS.tlsCert)));
    assert.equal(last(calls, "CertificateDaysLeft"), Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000));
    // SpamCop lists the host; each 127.255.255.x answer says nothing (never "listed"); Mailspike does not list it.
    for (const list of DNSBLS) assert.equal(last(calls, "DnsblListed", { Blocklist: list.name }), list.zone === "bl.spamcop.net" ? 1 : 0, list.name);
    assert.equal(last(calls, "DnsblListed"), 1);
    assert.equal(last(calls, "DnsblUnknown"), 3);
  });

  it("says why a blocklist's answer says nothing, and which list lists the host", () => {
    assert.match(dnsblSaid, /SpamCop: 127\.0\.0\.2 /);
    assert.match(dnsblSaid, /Spamhaus ZEN: 127\.255\.255\.254: .*cannot tell/);
    assert.match(dnsblSaid, /Barracuda.*: 127\.255\.255\.252: .*cannot tell/);
    assert.match(dnsblSaid, /PSBL.*: 127\.255\.255\.255: .*cannot tell/);
    assert.doesNotMatch(dnsblSaid, /Mailspike/);
  });

  it("reports what the host recorded: postforge report over its summary gives the same day", async () => {
    const file = join(scratch!.root, "summary.json");
    await writeFile(file, (await run(host!.root.at(PATHS.mailopsTool), ["summary"], 30_000, host!.toolEnv())).stdout);
    let out = "";
    assert.equal(await main(["report", "--summary", file, "--json"], { stdout: (t) => (out += t), stderr: (t) => (out += t) }), 0, out);
    const day = (JSON.parse(out) as SendingReport).days.find((d) => d.date === TODAY)!;
    const delivered = GMAIL_RECIPIENTS + 1 + refusedRetriesAccepted;
    assert.deepEqual(
      [day.submitted, day.delivered, day.deferred, day.hardBounced, day.complaints, day.groups.gmail.delivered, day.groups.gmail.warmupCap, day.groups.microsoft.hardBounced],
      [delivered + 3, delivered, 1, 2, 1, delivered - 1, 1000, 2],
    );
  });

  it("publishes every metric the dashboard's widgets and the alarms name, with their dimensions and units", () => {
    const published = new Map<string, string>();
    for (const call of calls) for (const d of call.data) published.set([d.MetricName, ...d.Dimensions.map((x) => x.Name)].join("|"), d.Unit);
    const widgets = dashboardMetrics(mailHostDashboardWidgets({ hostname: HOST, instanceId: "i-lab", region: config.awsRegion, domains: config.domains.map((d) => d.domain) }));
    const alarms = mailHostAlarms(HOST, "i-lab").flatMap(alarmMetrics).map((m) => ({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions }));
    const named = [...widgets, ...alarms].filter((m) => m.namespace === METRIC_NAMESPACE);
    assert.ok(named.length > 40);
    const missing = named.filter((m) => m.dimensions.Host !== HOST || !published.has([m.metricName, ...Object.keys(m.dimensions)].join("|")));
    assert.deepEqual(missing, [], "named by a widget or an alarm, published by nothing");
    for (const m of named) assert.equal(published.get([m.metricName, ...Object.keys(m.dimensions)].join("|")), metricDefinition(m.metricName)!.unit, m.metricName);
    // The one metric not the host's: EC2's own status check, on the instance.
    assert.deepEqual([...widgets, ...alarms].filter((m) => m.namespace !== METRIC_NAMESPACE).map((m) => `${m.namespace} ${m.metricName}`), ["AWS/EC2 StatusCheckFailed", "AWS/EC2 StatusCheckFailed"]);
  });

  it("serves the same counts to Prometheus from an admin network, and nothing to a stranger", async () => {
    const admin = await scrape(LAB.APPLICATION);
    assert.ok("status" in admin && admin.status === 200, JSON.stringify(admin));
    const body = (admin as { body: string }).body;
    const delivered = GMAIL_RECIPIENTS + 1 + refusedRetriesAccepted;
    assert.match(body, /^# TYPE postforge_delivered_total counter$/m);
    assert.match(body, new RegExp(`^postforge_delivered_total\\{host="mail\\.example\\.com",domain="example\\.com",receiver_group="gmail"\\} ${delivered - 1}$`, "m"));
    assert.match(body, /^postforge_hard_bounced_total\{host="mail\.example\.com",domain="example\.com",receiver_group="microsoft"\} 2$/m);
    assert.match(body, /^postforge_complaints_total\{host="mail\.example\.com",receiver_group="gmail"\} 1$/m);
    assert.match(body, /^postforge_dnsbl_listed\{host="mail\.example\.com",blocklist="SpamCop"\} 1$/m);
    assert.match(body, /^postforge_queue_size\{host="mail\.example\.com"\} 1$/m);
    // Every line is HELP, TYPE or a sample: the exposition format Prometheus parses.
    for (const line of body.trimEnd().split("\n")) assert.match(line, /^(# (HELP|TYPE) postforge_\w+ .+|postforge_\w+\{[^}]*\} -?\d+(\.\d+)?)$/, line);
    // The shipped Grafana dashboard queries only series the exporter serves, with the labels it groups by.
    for (const q of grafanaQueries(JSON.parse(await readFile(join(__dirname, "..", "dist", "grafana", "postforge-mail-host.json"), "utf8")))) {
      const series = body.split("\n").filter((l) => l.startsWith(`${q.metric}{`));
      assert.ok(series.some((l) => q.labels.every((label) => l.includes(`${label}="`))), `Grafana queries ${q.metric} by ${q.labels.join(", ")}: no such series`);
    }
    const stranger = await scrape(LAB.STRANGER);
    assert.ok("error" in stranger, `a stranger got ${JSON.stringify(stranger).slice(0, 200)}`);
  });

  it("counts nothing twice, and a CloudWatch outage loses nothing: the next call carries what the failed one could not", async () => {
    const before = (await host!.cloudwatchCalls()).length;
    const quiet = await mailops("publish");
    assert.ok(quiet.ok, quiet.output);
    const calm = (await host!.cloudwatchCalls()).slice(before);
    assert.equal(sums(calm).get(`Delivered|Host=${HOST}`), 0);
    assert.equal(sums(calm).get(`Submitted|Host=${HOST}`), 0);

    await host!.setCloudwatchAvailable(false);
    const m = message({ from: "noreply@example.com", to: "Someone <late@gmail.com>" });
    assert.ok((await submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients: ["late@gmail.com"], data: m.text })).accepted);
    await waitUntil("the late message is delivered", async () => (await count(/to=<late@gmail\.com>.*status=sent/)) === 1);
    const failed = await mailops("apply");
    assert.equal(failed.ok, false, "apply says the publication failed");
    assert.match(failed.output, /CloudWatch PutMetricData failed .*the counts go with the next minute's/);
    await host!.setCloudwatchAvailable(true);
    const retried = await mailops("apply");
    assert.ok(retried.ok, retried.output);
    const recovered = sums((await host!.cloudwatchCalls()).slice(before + 1));
    assert.equal(recovered.get(`Delivered|Host=${HOST}`), 1);
    assert.equal(recovered.get(`Delivered|Host=${HOST}|ReceiverGroup=gmail`), 1);
    assert.equal(recovered.get(`Submitted|Host=${HOST}`), 1);
  });
});
