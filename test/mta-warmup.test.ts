/**
 * The warm-up enforced by the real daemons: the example stack's host with a
 * small ramp (3 a day, then 6, then no cap), receivers that play Gmail,
 * Microsoft and a small provider, and the host's own postforge-warmup run as
 * its cron line runs it, with the date moved by POSTFORGE_TODAY. Mail over
 * the cap waits in the hold queue, is never bounced or lost, and leaves as
 * the date advances.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseMailHostConfig, PATHS } from "../components/mta-host";
import type { KnotServer } from "./support/dns-tools";
import { LAB, requireLab } from "./support/lab";
import { startMailHost, type MailHostDaemons } from "./support/mta-daemons";
import { config as fixtureConfig, createKeys, hostSecrets, passwordOf, startLabDns } from "./support/mta-e2e-fixture";
import { message, submit } from "./support/mta-lab-clients";
import { startSmtpReceiver, type SmtpReceiver } from "./support/mta-e2e-smtp";
import { run } from "./support/mta-tools";

/** The fixture host's config with one change: a ramp small enough to fill in a test. */
const START = "2026-12-01";
const config = parseMailHostConfig({
  ...fixtureConfig,
  warmup: { startDate: START, ramp: [{ day: 1, dailyCap: 3 }, { day: 2, dailyCap: 6 }] },
});
const WEBAPP = { login: "webapp", password: passwordOf("webapp") };

let knot: KnotServer | undefined;
let host: MailHostDaemons | undefined;
const receivers: Record<string, SmtpReceiver> = {};

async function logs(): Promise<string> {
  return host ? `--- postfix.log ---\n${(await host.postfixLog()).slice(-5000)}` : "(no host)";
}

/** The host's postforge-warmup, as cron runs it, on a given date. */
async function warmup(command: "release" | "status", date: string): Promise<string> {
  const result = await run(host!.root.at(PATHS.warmupTool), [command], 30_000, { ...process.env, POSTFORGE_TODAY: date });
  assert.ok(result.ok, `postforge-warmup ${command}: ${result.output}`);
  return result.stdout;
}

async function status(date: string): Promise<{ day: string; caps: Record<string, number> | null; admitted: Record<string, number>; held: Record<string, unknown> }> {
  return JSON.parse(await warmup("status", date));
}

/** The queue as postqueue -j lists it. */
async function queue(): Promise<{ queue_name: string; queue_id: string; recipients: { address: string }[] }[]> {
  const listed = await run("postqueue", ["-c", host!.root.at(PATHS.postfixDir), "-j"]);
  assert.ok(listed.ok, listed.output);
  return listed.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Each message submitted, by its Message-ID, with its recipients. */
const submitted = new Map<string, string[]>();

async function send(...recipients: string[]): Promise<string> {
  const m = message({ from: "noreply@example.com", to: `Someone <${recipients[0]}>` });
  const t = await submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients, data: m.text });
  assert.ok(t.accepted, `${recipients.join(", ")}: ${t.final.text}\n${await logs()}`);
  submitted.set(m.id, recipients);
  return m.id;
}

const arrived = (id: string) => Object.values(receivers).some((r) => r.messages.some((m) => m.data.includes(`<${id}>`)));

async function waitUntil(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the warm-up on the host: over the cap mail waits in the queue and leaves as the date advances (Postfix, postforge-warmup)", { timeout: 240_000 }, () => {
  before(async () => {
    requireLab("the warm-up end-to-end test");
    const keys = await createKeys();
    knot = await startLabDns(keys);
    receivers.gmail = await startSmtpReceiver("mx.gmail.com", { address: LAB.RECEIVERS[2], port: 25 });
    receivers.microsoft = await startSmtpReceiver("mx.outlook.com", { address: LAB.RECEIVERS[3], port: 25 });
    receivers.small = await startSmtpReceiver("mx.provider.example", { address: LAB.RECEIVERS[0], port: 25 });
    host = await startMailHost(config, hostSecrets(keys));
  });

  after(async () => {
    const errors: unknown[] = [];
    for (const stop of [() => host?.stop(), ...Object.values(receivers).map((r) => () => r.stop()), () => knot?.stop()]) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });

  it("holds what is over a group's cap, releases it on the next day as the new cap allows, lifts after the ramp: none bounced, none lost", async () => {
    const sent: string[] = [];
    await warmup("release", START);
    assert.deepEqual((await status(START)).caps, { gmail: 3, microsoft: 3, yahoo: 3, other: 3 });

    // Day 1: five to Gmail (cap 3), one to Microsoft and one to the small provider (their own caps).
    const gmailDay1: string[] = [];
    for (let i = 1; i <= 5; i++) gmailDay1.push(await send(`user${i}@gmail.com`));
    sent.push(...gmailDay1, await send("ann@outlook.com"), await send("bob@provider.example"));
    // A message to Gmail and the small provider waits whole: one of its groups is full.
    const mixed = await send("user6@gmail.com", "carol@provider.example");
    sent.push(mixed);
    await waitUntil("the first three Gmail messages, Microsoft's and the provider's arrive", () => [...gmailDay1.slice(0, 3), sent[5], sent[6]].every(arrived));
    let held = (await queue()).filter((m) => m.queue_name === "hold");
    assert.equal(held.length, 3, `three held: ${JSON.stringify(held)}`);
    assert.deepEqual(held.flatMap((m) => m.recipients.map((r) => r.address)).sort(), ["carol@provider.example", "user4@gmail.com", "user5@gmail.com", "user6@gmail.com"]);
    assert.ok(!arrived(gmailDay1[3]) && !arrived(gmailDay1[4]) && !arrived(mixed), "held mail does not leave");
    const day1 = await status(START);
    assert.deepEqual(day1.admitted, { gmail: 3, microsoft: 1, other: 1 });
    assert.equal(Object.keys(day1.held).length, 3);
    // Postfix says why in its log, and the submission got 250 (the application need not retry).
    assert.match(await host!.postfixLog(), /hold: RCPT from [^:]+: <user4@gmail\.com>: Recipient address held by the warm-up: today's cap of 3 messages for gmail is reached; the message waits/);

    // Still day 1: the cron run releases nothing.
    await warmup("release", START);
    assert.equal((await queue()).filter((m) => m.queue_name === "hold").length, 3);

    // Day 2 (cap 6): all three leave; the day's count starts with them.
    await warmup("release", "2026-12-02");
    await waitUntil("the held messages leave on day 2", () => [gmailDay1[3], gmailDay1[4], mixed].every(arrived));
    assert.deepEqual((await status("2026-12-02")).admitted, { gmail: 3, other: 1 });
    // Four more to Gmail: three fit (3 + 3 = 6), one waits.
    const gmailDay2: string[] = [];
    for (let i = 7; i <= 10; i++) gmailDay2.push(await send(`user${i}@gmail.com`));
    sent.push(...gmailDay2);
    await waitUntil("three of day 2's four arrive", () => gmailDay2.slice(0, 3).every(arrived));
    held = (await queue()).filter((m) => m.queue_name === "hold");
    assert.deepEqual(held.flatMap((m) => m.recipients.map((r) => r.address)), ["user10@gmail.com"]);

    // Day 3: the ramp is over, the caps lift, what waited leaves and nothing more is held.
    await warmup("release", "2026-12-03");
    assert.equal((await status("2026-12-03")).caps, null);
    const late = await send("user11@gmail.com");
    sent.push(late);
    await waitUntil("everything arrives", () => sent.every(arrived));

    // Nothing bounced, nothing left in any queue, every message reached each of its recipients exactly once.
    assert.deepEqual(await queue(), []);
    assert.doesNotMatch(await host!.postfixLog(), /status=(bounced|expired)/);
    const arrivals = Object.values(receivers).flatMap((r) => r.messages);
    assert.equal(submitted.size, sent.length);
    for (const [id, recipients] of submitted) {
      const got = arrivals.filter((m) => m.data.includes(`<${id}>`)).flatMap((m) => m.rcptTo);
      assert.deepEqual(got.sort(), [...recipients].sort(), id);
    }
  });

  it("answers the policy protocol as Postfix speaks it, and counts neither unauthenticated requests nor the host's own domains", async () => {
    const ask = async (attributes: Record<string, string>) => {
      const request = Object.entries(attributes).map(([k, v]) => `${k}=${v}\n`).join("") + "\n";
      const result = await run("sh", ["-c", `printf '%s' "$REQUEST" | POSTFORGE_TODAY=2026-12-03 ${host!.root.at(PATHS.warmupTool)} policy`], 10_000, { ...process.env, REQUEST: request });
      assert.ok(result.ok, result.output);
      return result.stdout;
    };
    const before = (await status("2026-12-03")).admitted;
    assert.equal(await ask({ request: "smtpd_access_policy", protocol_state: "RCPT", recipient: "x@gmail.com", queue_id: "ABC", sasl_username: "" }), "action=DUNNO\n\n");
    assert.equal(await ask({ request: "smtpd_access_policy", protocol_state: "RCPT", recipient: "postmaster@example.com", queue_id: "ABD", sasl_username: "webapp" }), "action=DUNNO\n\n");
    assert.deepEqual((await status("2026-12-03")).admitted, before);
  });
});
