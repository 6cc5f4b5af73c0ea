/**
 * Sending operations with the real daemons: the example stack's host with a
 * small warm-up ramp (3 a day, then 6, then no cap), receivers that play
 * Gmail, Microsoft (which refuses an unknown user with 550 and rate-limits
 * with 452) and a small provider (which accepts, then bounces with a DSN),
 * and the host's own postforge-warmup and postforge-mailops run as their cron
 * lines run them, with the date moved by POSTFORGE_TODAY.
 *
 * Warm-up: mail over the cap waits in the hold queue, is never bounced or
 * lost, and leaves as the date advances. Bounces and complaints: every
 * message leaves with its recipient's VERP bounce address; the 550 and the
 * DSN each put their recipient on the suppression list, and the next
 * submission to it is refused with the 5xx; the 452 is retried and
 * suppresses nothing; a forged complaint changes nothing.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseMailHostConfig, PATHS } from "../components/mta-host";
import type { KnotServer } from "./support/dns-tools";
import { LAB, requireLab } from "./support/lab";
import { startMailHost, type MailHostDaemons } from "./support/mta-daemons";
import { config as fixtureConfig, createKeys, HOST, hostSecrets, passwordOf, startLabDns, UNSUBSCRIBE_KEY, type FixtureKey } from "./support/mta-e2e-fixture";
import { oneClickUnsubscribeUrl } from "../components/sending/one-click";
import { request as httpsRequest } from "node:https";
import { deliver, message, submit } from "./support/mta-lab-clients";
import { startSmtpReceiver, type SmtpReceiver } from "./support/mta-e2e-smtp";
import { run } from "./support/mta-tools";
import { signedYahooReport, YAHOO_ZONE, yahooReport } from "./support/feedback-loop";

/** The fixture host's config with one change: a ramp small enough to fill in a test. */
const START = "2026-12-01";
const config = parseMailHostConfig({
  ...fixtureConfig,
  warmup: { startDate: START, ramp: [{ day: 1, dailyCap: 3 }, { day: 2, dailyCap: 6 }] },
});
const WEBAPP = { login: "webapp", password: passwordOf("webapp") };

/** One HTTPS request to the host's port 443 from a stranger's address (a mailbox provider), its certificate not checked (self-signed in the lab). */
function https(method: "GET" | "POST", path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: LAB.MAIL_HOST,
        port: 443,
        method,
        path,
        localAddress: LAB.STRANGER,
        servername: HOST,
        rejectUnauthorized: false,
        headers: body === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (c: string) => (text += c));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A provider's DSN (RFC 3464) after it accepted a message: to its VERP envelope sender, about one recipient. */
function providerDsn(to: string, recipient: string, date: string, status: string, diagnostic: string): string {
  return [
    "From: Mail Delivery System <MAILER-DAEMON@mx.provider.example>",
    `To: <${to}>`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${date}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain",
    "",
    "Your message could not be delivered.",
    "--b1",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.provider.example",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    "Action: failed",
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${diagnostic}`,
    "--b1--",
    "",
  ].join("\r\n");
}

let knot: KnotServer | undefined;
let keys: FixtureKey[];
let host: MailHostDaemons | undefined;
const receivers: Record<string, SmtpReceiver> = {};

async function logs(): Promise<string> {
  return host ? `--- postfix.log ---\n${(await host.postfixLog()).slice(-5000)}` : "(no host)";
}

/** The host's postforge-warmup, as cron runs it, on a given date. */
async function warmup(command: "release" | "status", date: string): Promise<string> {
  const result = await run(host!.root.at(PATHS.warmupTool), [command], 30_000, host!.toolEnv({ POSTFORGE_TODAY: date }));
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
    keys = await createKeys();
    knot = await startLabDns(keys, [YAHOO_ZONE]);
    receivers.gmail = await startSmtpReceiver("mx.gmail.com", { address: LAB.RECEIVERS[2], port: 25 });
    receivers.microsoft = await startSmtpReceiver("mx.outlook.com", {
      address: LAB.RECEIVERS[3],
      port: 25,
      rcptReply: (rcpt) =>
        rcpt.startsWith("gone-")
          ? "550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
          : rcpt.startsWith("busy-")
            ? "452 4.7.0 Temporarily rate limited due to IP reputation"
            : rcpt.startsWith("full-")
              ? "452 4.2.2 The recipient's mailbox is full"
              : undefined,
    });
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
    // Requeued as it was submitted: still with its VERP envelope sender, still signed once by each key.
    const released = receivers.gmail.messages.find((m) => m.data.includes(`<${gmailDay1[3]}>`))!;
    assert.equal(released.mailFrom, "noreply+user4=gmail.com@example.com");
    assert.equal((released.data.split("\r\n\r\n")[0].match(/^DKIM-Signature:/gim) ?? []).length, 2);
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
    // The host's counts agree: each recipient submitted once (held mail when the warm-up released it) and delivered once.
    const applied = await run(host!.root.at(PATHS.mailopsTool), ["apply"], 30_000, host!.toolEnv({ POSTFORGE_TODAY: "2026-12-03" }));
    assert.ok(applied.ok, applied.output);
    const summary = JSON.parse((await run(host!.root.at(PATHS.mailopsTool), ["summary"], 30_000, host!.toolEnv())).stdout) as { days: Record<string, Record<string, number>> };
    const total = (metric: string) => Object.values(summary.days).flatMap((d) => Object.entries(d)).filter(([k]) => k.split("{")[0] === metric).reduce((n, [, v]) => n + v, 0);
    const recipientCount = [...submitted.values()].flat().length;
    assert.equal(total("Submitted"), recipientCount);
    assert.equal(total("Delivered"), recipientCount);
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

  describe("bounces and complaints come back to the host and decide the suppression list", () => {
    const DAY = "2026-12-03";
    const mailops = async () => {
      const result = await run(host!.root.at(PATHS.mailopsTool), ["apply"], 30_000, host!.toolEnv({ POSTFORGE_TODAY: DAY }));
      assert.ok(result.ok, `postforge-mailops apply: ${result.output}\n${await logs()}`);
      return result.output;
    };
    const fblMaildir = () => join(host!.root.at(PATHS.mailRoot), "example.com", "fbl", "Maildir", "new");
    const listed = async () => {
      const result = await run(host!.root.at(PATHS.suppressTool), ["export"], 30_000, host!.toolEnv());
      assert.ok(result.ok, result.output);
      return result.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { address: string; reason: string; since: string; detail: string });
    };
    /** Submissions refused once the list holds (postforge-suppress reloads Postfix; a fresh smtpd reads the new table). */
    const refusedSoon = async (recipient: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const m = message({ from: "noreply@example.com", to: `Someone <${recipient}>` });
        const t = await submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients: [recipient], data: m.text });
        if (!t.accepted || Date.now() > deadline) return t;
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    it("every message leaves with a VERP envelope sender in its domain (SPF aligned), naming its recipient; the header From is untouched", () => {
      const got = receivers.gmail.messages.find((m) => m.rcptTo[0] === "user1@gmail.com")!;
      assert.equal(got.mailFrom, "noreply+user1=gmail.com@example.com");
      assert.match(got.data, /^From: noreply@example\.com\r$/m);
    });

    it("Microsoft's 550 is a hard bounce on the list, its 452 is retried and suppresses nothing; the next submission is refused with the reason and date", async () => {
      await send("gone-1@outlook.com");
      await send("busy-1@outlook.com");
      await waitUntil("both results are logged", async () => /to=<gone-1@outlook\.com>.*status=bounced/.test(await host!.postfixLog()) && /to=<busy-1@outlook\.com>.*status=deferred/.test(await host!.postfixLog()));
      // The host's own DSN for the 550 goes to the VERP address, and so to the intake, too: one decision either way.
      await waitUntil("the host's DSN reaches the intake", async () => /postforge-bounce.*status=sent/.test(await host!.postfixLog()));
      await mailops();
      const entries = await listed();
      const gone = entries.find((e) => e.address === "gone-1@outlook.com");
      assert.equal(gone?.reason, "hard-bounce", JSON.stringify(entries));
      // The first event decides the date: the log line (read on the tool's day) or the host's own DSN (dated by the real clock).
      assert.ok([DAY, new Date().toISOString().slice(0, 10)].includes(gone!.since), gone!.since);
      assert.match(gone!.detail, /550 5\.1\.1 RESOLVER\.ADR\.RecipientNotFound/);
      assert.ok(!entries.some((e) => e.address === "busy-1@outlook.com"), "a rate limit says nothing about the recipient");
      // The 452 waits in the queue for its retry: deferred, not bounced, not lost.
      assert.ok((await queue()).some((m) => m.queue_name === "deferred" && m.recipients.some((r) => r.address === "busy-1@outlook.com")));
      const refused = await refusedSoon("gone-1@outlook.com");
      assert.equal(refused.accepted, false);
      assert.match(refused.final.text, /^550 5\.1\.1 <gone-1@outlook\.com>: Recipient address rejected: suppressed since \d{4}-\d\d-\d\d \(hard-bounce: 5\.1\.1 .*RecipientNotFound/);
    });

    it("a DSN the small provider sends after accepting puts its recipient on the list, read from the VERP address", async () => {
      const id = await send("moved-away@provider.example");
      await waitUntil("the provider accepts it", () => arrived(id));
      const original = receivers.small.messages.find((m) => m.data.includes(`<${id}>`))!;
      assert.equal(original.mailFrom, "noreply+moved-away=provider.example@example.com");
      const dsn = providerDsn(original.mailFrom, "moved-away@provider.example", "Thu, 03 Dec 2026 09:00:00 +0000", "5.1.1", "550 5.1.1 <moved-away@provider.example>: Recipient address rejected: User unknown in local recipient table");
      const t = await deliver({ from: LAB.RECEIVERS[0], helo: "mx.provider.example", envelopeFrom: "", recipients: [original.mailFrom], data: dsn });
      assert.ok(t.accepted, t.final.text);
      await waitUntil("the DSN reaches the intake", async () => /to=<noreply\+moved-away=provider\.example@example\.com>.*relay=postforge-bounce.*status=sent/.test(await host!.postfixLog()));
      await mailops();
      const entry = (await listed()).find((e) => e.address === "moved-away@provider.example");
      assert.equal(entry?.reason, "hard-bounce");
      // A made-up DSN to the VERP address of someone this host never mailed changes nothing.
      const sentBefore = ((await host!.postfixLog()).match(/relay=postforge-bounce.*status=sent/g) ?? []).length;
      const forged = providerDsn("noreply+victim=provider.example@example.com", "victim@provider.example", "Thu, 03 Dec 2026 09:30:00 +0000", "5.1.1", "550 5.1.1 user unknown");
      assert.ok((await deliver({ envelopeFrom: "", recipients: ["noreply+victim=provider.example@example.com"], data: forged })).accepted);
      await waitUntil("the made-up DSN reaches the intake", async () => ((await host!.postfixLog()).match(/relay=postforge-bounce.*status=sent/g) ?? []).length > sentBefore);
      assert.match(await mailops(), /1 bounce report\(s\) about recipients this host did not send to in 14 days: counted, not acted on/);
      assert.ok(!(await listed()).some((e) => e.address === "victim@provider.example"));
      assert.match(entry!.detail, /^5\.1\.1 550 5\.1\.1 <moved-away@provider\.example>: Recipient address rejected: User unknown/);
      assert.equal((await refusedSoon("moved-away@provider.example")).accepted, false);
    });

    it("a complaint that did not authenticate on arrival is kept in the feedback-loop mailbox, counted, and changes nothing", async () => {
      const before = await listed();
      const inMailbox = (await readdir(fblMaildir()).catch(() => [] as string[])).length;
      // Yahoo's shape, unsigned, from a stranger: whoever sent it, it proves nothing.
      // To fbl+yahoo@ (a feedback loop registered with an extension): the alias still reaches the mailbox and the intake once.
      const t = await deliver({ envelopeFrom: "forger@reporter.example", recipients: ["fbl+yahoo@example.com"], data: yahooReport("user2@gmail.com") });
      assert.ok(t.accepted, t.final.text);
      await waitUntil("the report reaches the intake", async () => /relay=postforge-complaint.*status=sent/.test(await host!.postfixLog()));
      const said = await mailops();
      assert.match(said, /1 complaint\(s\) that did not authenticate on arrival: counted, not acted on/);
      assert.deepEqual(await listed(), before);
      await waitUntil("the report is in the fbl@ mailbox too", async () => (await readdir(fblMaildir()).catch(() => [] as string[])).length === inMailbox + 1);
    });

    it("a complaint Yahoo's feedback loop signed puts its recipient on the list as a complaint, refused at the next submission", async () => {
      const signed = await signedYahooReport("user3@gmail.com");
      assert.match(signed, /^DKIM-Signature: /);
      const t = await deliver({ from: LAB.RECEIVERS[1], helo: "mta.yahoo.com", envelopeFrom: "feedback@arf.mail.yahoo.com", recipients: ["fbl@example.com"], data: signed });
      assert.ok(t.accepted, t.final.text);
      await waitUntil("the signed report reaches the intake", async () => ((await host!.postfixLog()).match(/relay=postforge-complaint.*status=sent/g) ?? []).length >= 2);
      const said = await mailops();
      const entry = (await listed()).find((e) => e.address === "user3@gmail.com");
      const kept = await readdir(fblMaildir());
      const lastReport = (await Promise.all(kept.map((f) => readFile(join(fblMaildir(), f), "utf8")))).find((m) => m.includes("user3@gmail.com")) ?? "";
      assert.equal(entry?.reason, "complaint", `${JSON.stringify(await listed())}\n${said}\n${lastReport.split(/\r?\n\r?\n/)[0]}`);
      assert.equal(entry?.detail, "abuse report from Yahoo!-Mail-Feedback/2.0");
      const refused = await refusedSoon("user3@gmail.com");
      assert.equal(refused.final.text, `550 5.7.1 <user3@gmail.com>: Recipient address rejected: suppressed since ${entry!.since} (complaint: abuse report from Yahoo!-Mail-Feedback/2.0)`);
    });

    it("deferrals are retried and never suppress, however many days they last", async () => {
      const id = await send("full-1@outlook.com");
      const deferrals = async () => ((await host!.postfixLog()).match(/to=<full-1@outlook\.com>.*status=deferred/g) ?? []).length;
      await waitUntil("the first deferral", async () => (await deferrals()) >= 1);
      const queued = (await queue()).find((m) => m.recipients.some((r) => r.address === "full-1@outlook.com"))!;
      for (const [i, day] of ["2026-12-04", "2026-12-06", "2026-12-09"].entries()) {
        if (i > 0) {
          // The queue's next retry, now rather than in minutes.
          await run("postqueue", ["-c", host!.root.at(PATHS.postfixDir), "-i", queued.queue_id]);
          await waitUntil(`deferral ${i + 1}`, async () => (await deferrals()) >= i + 1);
        }
        const result = await run(host!.root.at(PATHS.mailopsTool), ["apply"], 30_000, host!.toolEnv({ POSTFORGE_TODAY: day }));
        assert.ok(result.ok, result.output);
        assert.ok(!(await listed()).some((e) => e.address === "full-1@outlook.com"), `after ${i + 1} day(s) of deferrals`);
      }
      assert.ok((await queue()).some((m) => m.queue_id === queued.queue_id && m.queue_name === "deferred"));
      assert.ok(!arrived(id));
    });

    it("final soft bounces for the recipient's own reason (a full mailbox) suppress on the third day within two weeks, not before", async () => {
      const id = await send("fullbox@provider.example");
      await waitUntil("the provider accepts it", () => arrived(id));
      const verp = receivers.small.messages.find((m) => m.data.includes(`<${id}>`))!.mailFrom;
      for (const [i, date] of ["Fri, 04 Dec 2026 09:00:00 +0000", "Mon, 07 Dec 2026 09:00:00 +0000", "Thu, 10 Dec 2026 09:00:00 +0000"].entries()) {
        const sent = ((await host!.postfixLog()).match(/relay=postforge-bounce.*status=sent/g) ?? []).length;
        const report = providerDsn(verp, "fullbox@provider.example", date, "5.2.2", "552 5.2.2 <fullbox@provider.example>: mailbox full");
        const t = await deliver({ from: LAB.RECEIVERS[0], helo: "mx.provider.example", envelopeFrom: "", recipients: [verp], data: report });
        assert.ok(t.accepted, t.final.text);
        await waitUntil(`DSN ${i + 1} reaches the intake`, async () => ((await host!.postfixLog()).match(/relay=postforge-bounce.*status=sent/g) ?? []).length > sent);
        await mailops();
        const entry = (await listed()).find((e) => e.address === "fullbox@provider.example");
        if (i < 2) assert.equal(entry, undefined, `after ${i + 1} day(s)`);
        else {
          assert.equal(entry?.reason, "soft-bounces");
          assert.equal(entry?.since, "2026-12-10");
          assert.match(entry!.detail, /^3 days of soft bounces \(mailbox-full\) since 2026-12-04/);
        }
      }
    });

    it("RFC 8058 one-click: a provider's POST to the URL the application put in List-Unsubscribe suppresses the recipient; GET, a forged URL or another body change nothing", async () => {
      const recipient = "reader@gmail.com";
      const url = new URL(oneClickUnsubscribeUrl(HOST, UNSUBSCRIBE_KEY, recipient));
      assert.equal(url.host, HOST);
      const before = await listed();
      // A link scanner's GET: a page with a button, nothing recorded.
      const page = await https("GET", url.pathname);
      assert.equal(page.status, 200);
      assert.match(page.body, /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
      // A URL made with another key, one for another recipient, and the right URL with another body.
      assert.equal((await https("POST", new URL(oneClickUnsubscribeUrl(HOST, "another-key-another-key-another-key-1234", recipient)).pathname, "List-Unsubscribe=One-Click")).status, 404);
      const [encodedOther] = url.pathname.split("/").pop()!.split(".");
      assert.equal((await https("POST", `/unsubscribe/${Buffer.from("victim@gmail.com").toString("base64url")}.${url.pathname.split(".").pop()}`, "List-Unsubscribe=One-Click")).status, 404, encodedOther);
      assert.equal((await https("POST", url.pathname, "unsubscribe=yes")).status, 400);
      await mailops();
      assert.deepEqual(await listed(), before);
      // The provider's one-click POST (RFC 8058 §3.2).
      const done = await https("POST", url.pathname, "List-Unsubscribe=One-Click");
      assert.equal(done.status, 200, done.body);
      await mailops();
      const entry = (await listed()).find((e) => e.address === recipient);
      // Dated by the server's clock (a daemon: the real date, not the tools' POSTFORGE_TODAY).
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(entry, { address: recipient, reason: "unsubscribe", since: today, detail: "one-click unsubscribe (RFC 8058)" });
      const refused = await refusedSoon(recipient);
      assert.equal(refused.final.text, `550 5.7.1 <${recipient}>: Recipient address rejected: suppressed since ${today} (unsubscribe: one-click unsubscribe (RFC 8058))`);
    });

    it("every change is written through to the host's DynamoDB table; one made in an outage waits and cron's sync sends it", async () => {
      const local = await listed();
      const items = await host!.dynamodbItems();
      assert.deepEqual(Object.keys(items).sort(), local.map((e) => e.address).sort());
      for (const e of local) assert.deepEqual(items[e.address], { address: { S: e.address }, reason: { S: e.reason }, since: { S: e.since }, detail: { S: e.detail } });

      await host!.setDynamodbAvailable(false);
      const added = await run(host!.root.at(PATHS.suppressTool), ["add", "outage@provider.example", "manual", "added while DynamoDB was down"], 30_000, host!.toolEnv({ POSTFORGE_TODAY: DAY }));
      assert.ok(added.ok, added.output);
      assert.match(added.output, /the list is saved here; the DynamoDB copy is behind and sync retries it/);
      assert.ok((await listed()).some((e) => e.address === "outage@provider.example"), "the host refuses it at once");
      assert.equal((await host!.dynamodbItems())["outage@provider.example"], undefined);
      // Still down: sync keeps it pending.
      assert.ok((await run(host!.root.at(PATHS.suppressTool), ["sync"], 30_000, host!.toolEnv())).ok);
      assert.equal((await host!.dynamodbItems())["outage@provider.example"], undefined);
      await host!.setDynamodbAvailable(true);
      const synced = await run(host!.root.at(PATHS.suppressTool), ["sync"], 30_000, host!.toolEnv());
      assert.ok(synced.ok, synced.output);
      assert.equal((await host!.dynamodbItems())["outage@provider.example"]?.reason.S, "manual");
      assert.equal(await readFile(host!.root.at(PATHS.suppressionPending), "utf8").catch(() => "gone"), "gone");
      // A removal is written through the same way.
      assert.ok((await run(host!.root.at(PATHS.suppressTool), ["remove", "outage@provider.example"], 30_000, host!.toolEnv())).ok);
      assert.equal((await host!.dynamodbItems())["outage@provider.example"], undefined);
    });

    it("nothing is lost: every message submitted reached each recipient, waits in the queue for its retry, or came back to its VERP address", async () => {
      const arrivals = Object.values(receivers).flatMap((r) => r.messages);
      const queued = await queue();
      const log = await host!.postfixLog();
      const unaccounted: string[] = [];
      for (const [id, recipients] of submitted) {
        for (const recipient of recipients) {
          if (arrivals.some((m) => m.data.includes(`<${id}>`) && m.rcptTo.includes(recipient))) continue;
          if (queued.some((m) => m.recipients.some((r) => r.address === recipient))) continue;
          // Refused by the receiver: bounced, and the DSN went to the recipient's VERP address on this host.
          const verp = `noreply+${recipient.replace("@", "=")}@example.com`;
          if (new RegExp(`to=<${recipient.replace(/[.+]/g, "\\$&")}>.*status=bounced`).test(log) && log.includes(`to=<${verp}>, relay=postforge-bounce`)) continue;
          unaccounted.push(`${recipient} (${id})`);
        }
      }
      assert.deepEqual(unaccounted, [], `${submitted.size} messages submitted`);
      assert.ok(submitted.size >= 17, `${submitted.size} messages`);
    });

    it("a replacement host starts from the table: it refuses at once every recipient its predecessor refused", async () => {
      const before = await listed();
      assert.ok(before.length >= 4, JSON.stringify(before));
      const items = await host!.dynamodbItems();
      await host!.stop();
      host = undefined;
      // A new instance: an empty disk, the same table.
      host = await startMailHost(config, hostSecrets(keys), { dynamodbItems: items });
      assert.deepEqual(await listed(), before);
      const m = message({ from: "noreply@example.com", to: "Someone <gone-1@outlook.com>" });
      const refused = await submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients: ["gone-1@outlook.com"], data: m.text });
      assert.equal(refused.accepted, false);
      assert.match(refused.final.text, /^550 5\.1\.1 <gone-1@outlook\.com>: Recipient address rejected: suppressed since /);
    });
  });
});
