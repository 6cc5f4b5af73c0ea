/**
 * Load benchmark for the mail host (not a test): the same stack as
 * test/mta-e2e.test.ts (the rendered config relocated onto loopback,
 * Postfix, both OpenDKIM signers, Dovecot, knotd serving the zone, the node
 * receiver as relayhost), then N messages submitted on 587 with STARTTLS +
 * AUTH PLAIN, C sessions at a time (one fresh session per message), and a
 * bounded wait until the receiver has them all. Every message must arrive
 * exactly once (by Message-ID) carrying both DKIM-Signature headers; a
 * sample of them is also verified with mailauth against knotd.
 *
 *   MTA_LOAD_MESSAGES     N, default 200
 *   MTA_LOAD_CONCURRENCY  C, default 10
 *   MTA_LOAD_WAIT_MS      delivery wait after the last submission, default 120000
 *
 * Needs root and .ci/run's packages, like the e2e test. Exits non-zero when
 * anything was lost, duplicated, unsigned or refused.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import { renderZoneFile } from "../components/dns/zonefile";
import { startKnot, type KnotServer } from "../test/support/dns-tools";
import type { MailHostDaemons } from "../test/support/mta-daemons";
import { createKeys, DOMAIN, freeMailPorts, HOST, knotResolver, startFixtureHost, SUBMITTER, zones } from "../test/support/mta-e2e-fixture";
import { SmtpClient, startSmtpReceiver, type ReceivedMessage, type SmtpReceiver } from "../test/support/mta-e2e-smtp";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const N = envInt("MTA_LOAD_MESSAGES", 200);
const C = Math.min(envInt("MTA_LOAD_CONCURRENCY", 10), N);
const WAIT_MS = envInt("MTA_LOAD_WAIT_MS", 120_000);
/** Messages checked with mailauth's DKIM verifier (both signatures must pass). */
const DKIM_SAMPLE = 5;

function message(id: string, seq: number): string {
  return [
    `From: App <${SUBMITTER.address}>`,
    `To: Bob <bob@example.net>`,
    `Subject: Load ${seq}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `Load benchmark message ${seq}.`,
    ".a line that starts with a dot",
    "",
  ].join("\r\n");
}

/** One submission session: connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, QUIT. Throws on any unexpected reply. */
async function submit(port: number, id: string, seq: number): Promise<void> {
  const { client, greeting } = await SmtpClient.connect(port);
  try {
    const expect = async (step: string, code: number, reply: Promise<{ code: number; text: string }>) => {
      const r = await reply;
      if (r.code !== code) throw new Error(`${step}: expected ${code}, got ${r.text}`);
    };
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
    await expect("EHLO", 250, client.command("EHLO client.example.net"));
    await expect("STARTTLS", 220, client.starttls(HOST));
    await expect("EHLO after TLS", 250, client.command("EHLO client.example.net"));
    await expect("AUTH", 235, client.authPlain(SUBMITTER.address, SUBMITTER.password));
    await expect("MAIL", 250, client.command(`MAIL FROM:<${SUBMITTER.address}>`));
    await expect("RCPT", 250, client.command("RCPT TO:<bob@example.net>"));
    await expect("DATA", 250, client.data(message(id, seq)));
  } finally {
    await client.quit();
  }
}

const messageIdOf = (data: string) => /^Message-ID:[ \t]*<([^>\r\n]*)>/im.exec(data)?.[1];
const dkimHeaderCount = (data: string) => {
  const headerEnd = data.indexOf("\r\n\r\n");
  return (headerEnd < 0 ? data : data.slice(0, headerEnd)).match(/^DKIM-Signature:/gim)?.length ?? 0;
};
const rate = (count: number, ms: number) => (ms > 0 ? (count / (ms / 1000)).toFixed(1) : "n/a");

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error("bench/mta-load.ts runs the daemons as root");
  let knot: KnotServer | undefined;
  let receiver: SmtpReceiver | undefined;
  let host: MailHostDaemons | undefined;
  try {
    const setupStart = performance.now();
    const keys = await createKeys();
    knot = await startKnot(zones(keys).map((z) => ({ apex: z.apex, text: renderZoneFile(z.apex, z.records) })));
    const dns = knotResolver(knot.port);

    receiver = await startSmtpReceiver("mx.example.net");
    // Arrival time of every message, stamped as the receiver records it.
    const arrivals: number[] = [];
    const received = receiver.messages;
    const push = received.push.bind(received);
    received.push = (...items: ReceivedMessage[]) => {
      for (let i = 0; i < items.length; i++) arrivals.push(performance.now());
      return push(...items);
    };

    const ports = await freeMailPorts();
    host = await startFixtureHost(ports, keys, receiver.port);
    console.log(`stack up in ${((performance.now() - setupStart) / 1000).toFixed(1)} s (submission 127.0.0.1:${ports.submission}, receiver :${receiver.port}, knotd :${knot.port})`);
    console.log(`submitting ${N} messages, ${C} at a time (STARTTLS + AUTH PLAIN, one session per message)`);

    const run = randomBytes(4).toString("hex");
    const ids = Array.from({ length: N }, (_, i) => `load-${run}-${i}@${DOMAIN}`);
    const failures: string[] = [];
    let next = 0;
    let accepted = 0;
    const submitStart = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        // Each worker takes the next index until none remain: at most N iterations in all.
        while (next < N) {
          const i = next++;
          try {
            await submit(ports.submission, ids[i], i);
            accepted++;
          } catch (error) {
            failures.push(`#${i}: ${(error as Error).message}`);
          }
        }
      }),
    );
    const submitEnd = performance.now();

    // Bounded wait for delivery of everything accepted.
    const deadline = submitEnd + WAIT_MS;
    const wanted = new Set(ids);
    const deliveredCount = () => received.reduce((n, m) => n + (wanted.has(messageIdOf(m.data) ?? "") ? 1 : 0), 0);
    while (deliveredCount() < accepted && performance.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const waitedOut = deliveredCount() < accepted;
    // A short grace period so a late duplicate would still be seen.
    await new Promise((res) => setTimeout(res, 1_000));

    const seen = new Map<string, number>();
    const unsigned: string[] = [];
    let strangers = 0;
    let lastArrival = submitStart;
    received.forEach((m, i) => {
      const id = messageIdOf(m.data);
      if (!id || !wanted.has(id)) {
        strangers++;
        return;
      }
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (dkimHeaderCount(m.data) !== 2) unsigned.push(`${id}: ${dkimHeaderCount(m.data)} DKIM-Signature header(s)`);
      lastArrival = Math.max(lastArrival, arrivals[i] ?? lastArrival);
    });
    const delivered = seen.size;
    const lost = ids.filter((id) => !seen.has(id)).length;
    const duplicates = [...seen.values()].reduce((n, c) => n + (c - 1), 0);

    // Sample a few arrivals through mailauth's DKIM verifier against knotd.
    const sampleFailures: string[] = [];
    const sample = received.filter((m) => wanted.has(messageIdOf(m.data) ?? "")).filter((_, i, all) => i % Math.max(1, Math.floor(all.length / DKIM_SAMPLE)) === 0).slice(0, DKIM_SAMPLE);
    for (const m of sample) {
      const { results } = await dkimVerify(m.data, { resolver: dns });
      const passed = results.filter((x) => x.status.result === "pass").map((x) => x.algo).sort().join(",");
      if (passed !== "ed25519-sha256,rsa-sha256") sampleFailures.push(`${messageIdOf(m.data)}: ${results.map((x) => `${x.algo} ${x.status.result}`).join(", ")}`);
    }

    const submitMs = submitEnd - submitStart;
    const e2eMs = lastArrival - submitStart;
    console.log("");
    console.log(`messages submitted     ${N} (accepted ${accepted}, refused ${N - accepted})`);
    console.log(`delivered              ${delivered}`);
    console.log(`lost                   ${lost}`);
    console.log(`duplicates             ${duplicates}`);
    console.log(`missing DKIM headers   ${unsigned.length}`);
    console.log(`DKIM verified (sample) ${sample.length - sampleFailures.length}/${sample.length} with both rsa-sha256 and ed25519-sha256 passing`);
    console.log(`submission wall time   ${(submitMs / 1000).toFixed(2)} s, ${rate(accepted, submitMs)} msgs/s`);
    console.log(`end to end             ${(e2eMs / 1000).toFixed(2)} s (first submit -> last delivery), ${rate(delivered, e2eMs)} msgs/s`);
    if (strangers > 0) console.log(`other messages at the receiver: ${strangers}`);
    if (waitedOut) console.log(`delivery wait gave up after ${WAIT_MS} ms`);
    for (const line of [...failures, ...unsigned, ...sampleFailures].slice(0, 20)) console.log(`  ! ${line}`);
    const ok = accepted === N && lost === 0 && duplicates === 0 && unsigned.length === 0 && sampleFailures.length === 0;
    if (!ok && host) console.log(`--- postfix.log (tail) ---\n${(await host.postfixLog()).split("\n").slice(-40).join("\n")}`);
    return ok ? 0 : 1;
  } finally {
    for (const stop of [() => host?.stop(), () => receiver?.stop(), () => knot?.stop()]) {
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
