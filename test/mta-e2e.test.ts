/**
 * The mail host end to end, in the mail lab (test/support/lab.ts), with the
 * files the example stack `selfhosted` boots with, installed the instance's
 * way (test/support/mta-daemons.ts: user-data's sync machinery fetches the
 * manifest, writes it, runs the boot script) and relocated by
 * test/support/mta-tools.ts `relocate` alone. Postfix, both OpenDKIM signers
 * and Dovecot run as root; knotd serves the lab's zones on the resolver
 * address Postfix uses; a node SMTP server plays the provider's MX
 * (mx.provider.example on port 25), reached by Postfix through DNS.
 *
 * Clients stand where users and attackers do: the application submits from
 * LAB.APPLICATION (in the submission network, exempt from nothing), a
 * stranger delivers to port 25 from LAB.STRANGER. Outbound mail is judged by
 * mailauth's `authenticate` (DKIM, SPF, DMARC and ARC together, as a
 * receiver does) and, for its signatures and h= lists, by Debian's
 * python3-dkim too.
 *
 * Needs root and .ci/run's packages; `npm test` runs it in the lab.
 */
import assert from "node:assert/strict";
import { parseDeliveryLog, type DeliveryResult } from "../components/sending/delivery-log";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DNSResolver } from "mailauth";
import { authenticate as mailauthAuthenticate } from "mailauth";
import { renderZoneFile } from "../components/dns/zonefile";
import { mailHostFiles, PATHS, roleMailboxes, syncFiles } from "../components/mta-host";
import { namedCheckzone, type KnotServer } from "./support/dns-tools";
import { dkimpyVerify } from "./support/dkimpy";
import { LAB, requireLab } from "./support/lab";
import type { MailHostDaemons } from "./support/mta-daemons";
import { config, createKeys, DOMAIN, HOST, HOST_IP, labResolver, MAILBOXES, passwordOf, SENDERS, startFixtureHost, startLabDns, zones, type Credential } from "./support/mta-e2e-fixture";
import { ImapClient } from "./support/mta-e2e-imap";
import { deliver, message, submit } from "./support/mta-lab-clients";
import { SmtpClient, startSmtpReceiver, type ReceivedMessage, type SmtpReceiver } from "./support/mta-e2e-smtp";
import { relocate, run, unrelocate } from "./support/mta-tools";

let knot: KnotServer | undefined;
let receiver: SmtpReceiver | undefined;
let host: MailHostDaemons | undefined;
let dns: DNSResolver;

// The header lists the signatures must carry, written out here (as mta-renderers.test.ts pins the
// rendered config), not read from the renderer's constants, so a header dropped there fails here.
const SIGNED = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "Sender", "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID"];
const OVERSIGNED = ["From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post"];
const credential = (login: string): Credential => ({ login, password: passwordOf(login) });
const WEBAPP = credential("webapp");
const BILLING = credential("billing");
const RECIPIENT = "bob@provider.example";

/** Diagnostics for a failed assertion: the daemons' own logs. */
async function logs(): Promise<string> {
  if (!host) return "(no mail host)";
  return `--- postfix.log ---\n${(await host.postfixLog()).slice(-6000)}\n--- dovecot.log ---\n${(await host.dovecotLog()).slice(-3000)}`;
}

async function received(id: string): Promise<ReceivedMessage> {
  assert.ok(receiver);
  return receiver.waitFor((m) => m.data.includes(`<${id}>`), 30_000).catch(async (e) => {
    throw new Error(`${(e as Error).message}\n${await logs()}`);
  });
}

/**
 * mailauth's verdicts on a received message, as a receiving MTA reaches them
 * (its full `authenticate`: DKIM, SPF, DMARC and ARC together, the header
 * From taken from the message), resolving only through the lab's DNS.
 */
async function authenticate(got: ReceivedMessage) {
  const verdict = await mailauthAuthenticate(got.data, { ip: got.remoteAddress, helo: got.helo, sender: got.mailFrom, mta: "mx.provider.example", resolver: dns });
  const results = verdict.dkim.results;
  const summary = results.map((r) => `${r.signingDomain} s=${r.selector} ${r.algo}: ${r.status.result} ${r.status.comment ?? ""}`).join("\n");
  assert.ok(verdict.spf, "SPF not evaluated");
  // No ARC set on mail we originate: "none", never a failed chain.
  assert.equal(verdict.arc && verdict.arc.status.result, "none", JSON.stringify(verdict.arc));
  return { results, summary, spfResult: verdict.spf, dmarcResult: verdict.dmarc };
}

async function waitForFiles(dir: string, count: number, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await readdir(dir).catch(() => [] as string[]);
    if (files.length >= count) return files;
    if (Date.now() > deadline) throw new Error(`${dir}: ${files.length} of ${count} messages after ${timeoutMs} ms\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const maildirNew = (address: string) => {
  const [local, domain] = address.split("@");
  return join(host!.root.at(PATHS.mailRoot), domain, local, "Maildir", "new");
};

/** How many messages every role mailbox holds, by address. */
async function mailboxCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of roleMailboxes(config)) counts[m.address] = (await readdir(maildirNew(m.address)).catch(() => [] as string[])).length;
  return counts;
}

describe("mail host end to end in the mail lab (Postfix, OpenDKIM RSA + Ed25519, Dovecot, knotd, mailauth, python3-dkim)", { timeout: 240_000 }, () => {
  before(async () => {
    requireLab("the mail-host end-to-end test");
    assert.equal(process.getuid?.(), 0, "the mail-host end-to-end test runs the daemons as root (CI runs .ci/run as root)");
    const keys = await createKeys();
    for (const zone of zones(keys)) {
      const check = await namedCheckzone(zone.apex, renderZoneFile(zone.apex, zone.records));
      assert.ok(check.ok, check.output);
    }
    knot = await startLabDns(keys);
    dns = labResolver();
    // The provider refuses two kinds of recipient at RCPT, as Gmail or Outlook would.
    receiver = await startSmtpReceiver("mx.provider.example", {
      address: LAB.RECEIVERS[0],
      port: 25,
      rcptReply: (rcpt) =>
        rcpt.startsWith("gone-") ? "550 5.1.1 The email account that you tried to reach does not exist" : rcpt.startsWith("full-") ? "452 4.2.2 The recipient's inbox is out of storage space" : undefined,
    });
    host = await startFixtureHost(keys);
  });

  after(async () => {
    const errors: unknown[] = [];
    for (const stop of [() => host?.stop(), () => receiver?.stop(), () => knot?.stop()]) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });

  describe("what runs is what the renderers produced", () => {
    it("every file the host boots with is the renderer's, byte for byte through unrelocate, with its owner and mode", async () => {
      assert.ok(host);
      assert.deepEqual(await host.installedDifferences(), []);
      // The relocation is exactly invertible on every file it is applied to.
      for (const file of [...syncFiles(config), ...mailHostFiles(config)]) {
        assert.equal(unrelocate(relocate(file.content, host.root.root), host.root.root), file.content, file.path);
      }
      // The boot script enabled and restarted the units whose daemons run here.
      const calls = await host.systemctlCalls();
      assert.ok(calls.includes("enable opendkim opendkim-ed25519 dovecot postfix postforge-unsubscribe postforge-metrics"), calls.join("\n"));
      assert.ok(calls.includes("restart opendkim opendkim-ed25519 dovecot postfix postforge-unsubscribe postforge-metrics"), calls.join("\n"));
    });

    it("has teeth: a file changed after install is reported", async () => {
      assert.ok(host);
      const path = host.root.at(PATHS.submissionClients);
      const original = await readFile(path, "utf8");
      try {
        await writeFile(path, `${original}0.0.0.0/0 OK\n`);
        assert.deepEqual(await host.installedDifferences(), [`${PATHS.submissionClients}: content differs from the renderer's beyond the relocation`]);
      } finally {
        await writeFile(path, original);
      }
      assert.deepEqual(await host.installedDifferences(), []);
    });
  });

  describe("port 25: mail for our addresses only, from where a stranger stands", () => {
    it("offers STARTTLS and no AUTH", async () => {
      const { client } = await SmtpClient.connect(25, { host: LAB.MAIL_HOST, localAddress: LAB.STRANGER });
      const reply = await client.command("EHLO mx.reporter.example");
      assert.ok(reply.lines.some((l) => /STARTTLS/i.test(l)), reply.text);
      assert.ok(!reply.lines.some((l) => /\bAUTH\b/i.test(l)), reply.text);
      const auth = await client.authPlain(WEBAPP.login, WEBAPP.password);
      assert.match(String(auth.code), /^5/, auth.text);
      await client.quit();
    });

    it("refuses relaying, address literals, unknown users, unknown sender domains and bad HELO names at SMTP time: 0 accepted, nothing queued", async () => {
      const before = await mailboxCounts();
      const probes: { what: string; helo?: string; from: string; to: string; expect: RegExp }[] = [
        { what: "relay to a foreign domain", from: "someone@reporter.example", to: "victim@provider.example", expect: /Relay access denied/i },
        { what: "address literal of the host", from: "someone@reporter.example", to: `x@[${LAB.MAIL_HOST}]`, expect: /address literals are not accepted/i },
        { what: "root at the host's literal", from: "someone@reporter.example", to: `root@[${LAB.MAIL_HOST}]`, expect: /address literals are not accepted/i },
        { what: "loopback literal", from: "someone@reporter.example", to: "x@[127.0.0.1]", expect: /Relay access denied|address literals are not accepted/i },
        { what: "unknown user of a served domain", from: "someone@reporter.example", to: `nobody@${DOMAIN}`, expect: /User unknown/i },
        { what: "unknown user at the host name", from: "someone@reporter.example", to: `nobody@${HOST}`, expect: /User unknown/i },
        { what: "sender domain that does not exist", from: "someone@no-such-host.provider.example", to: `postmaster@${DOMAIN}`, expect: /Sender address rejected: Domain not found/i },
        { what: "HELO that is no host name", helo: "localhost", from: "someone@reporter.example", to: `postmaster@${DOMAIN}`, expect: /Helo command rejected/i },
      ];
      for (const probe of probes) {
        const t = await deliver({ envelopeFrom: probe.from, recipients: [probe.to], data: message({ from: probe.from, to: probe.to }).text, ...(probe.helo ? { helo: probe.helo } : {}) });
        assert.equal(t.accepted, false, `${probe.what}: accepted\n${t.final.text}`);
        assert.match(String(t.final.code), /^5/, `${probe.what}: ${t.final.text}`);
        assert.match(t.final.text, probe.expect, probe.what);
      }
      const queue = await readdir(host!.root.at(`${PATHS.postfixQueue}/deferred`)).catch(() => [] as string[]);
      assert.deepEqual(queue, [], "nothing deferred");
      assert.deepEqual(await mailboxCounts(), before);
    });

    it("refuses SMTP smuggling: a bare <LF> in DATA is refused, and no smuggled message is delivered", async () => {
      const before = await mailboxCounts();
      for (const ending of ["\n.\n", "\n.\r\n", "\r\n.\n"]) {
        const { client } = await SmtpClient.connect(25, { host: LAB.MAIL_HOST, localAddress: LAB.STRANGER });
        await client.command("EHLO mx.reporter.example");
        assert.equal((await client.command("MAIL FROM:<someone@reporter.example>")).code, 250);
        assert.equal((await client.command(`RCPT TO:<postmaster@${DOMAIN}>`)).code, 250);
        assert.equal((await client.command("DATA")).code, 354);
        const smuggled = `From: someone@reporter.example\r\nSubject: outer\r\n\r\nbody${ending}MAIL FROM:<admin@${DOMAIN}>\r\nRCPT TO:<abuse@${DOMAIN}>\r\nDATA\r\nFrom: admin@${DOMAIN}\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n`;
        const reply = await client.raw(smuggled).catch((e: Error) => ({ code: 0, lines: [], text: e.message }));
        assert.match(String(reply.code), /^5/, `ending ${JSON.stringify(ending)}: ${reply.text}`);
        assert.match(reply.text, /bare <LF> received/i, reply.text);
        client.close();
      }
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await mailboxCounts(), before);
    });

    it("delivers every role mailbox's mail to its Maildir, readable over IMAPS with its password from the admin network (and from nowhere else)", async () => {
      assert.ok(host);
      const ids = new Map<string, string>();
      for (const m of roleMailboxes(config)) {
        const { text, id } = message({ from: "Reporter <reports@reporter.example>", to: `<${m.address}>`, subject: `For ${m.address}` });
        const t = await deliver({ envelopeFrom: "reports@reporter.example", recipients: [m.address], data: text });
        assert.ok(t.accepted, `${m.address}: ${t.final.text}\n${await logs()}`);
        ids.set(m.address, id);
      }
      for (const m of roleMailboxes(config)) {
        const files = await waitForFiles(maildirNew(m.address), 1);
        assert.equal(files.length, 1, `${m.address}: ${files.join(", ")}`);
        const onDisk = await readFile(join(maildirNew(m.address), files[0]), "utf8");
        assert.ok(onDisk.includes(`<${ids.get(m.address)}>`), `${m.address} holds someone else's message`);

        const { client, greeting } = await ImapClient.connect(993, HOST, { host: LAB.MAIL_HOST, localAddress: LAB.APPLICATION });
        assert.match(greeting, /^\* OK/);
        try {
          const login = await client.login(m.address, passwordOf(m.address));
          assert.equal(login.status, "OK", `${m.address}: ${login.text}\n${await logs()}`);
          const select = await client.command("SELECT INBOX");
          assert.match(select.text, /^\* 1 EXISTS\r$/m, select.text);
          const { body } = await client.fetchBody(1);
          assert.ok(body?.includes(`Message-ID: <${ids.get(m.address)}>`), body);
        } finally {
          await client.logout();
        }
      }
      // The same password from the stranger's address: refused (allow_nets).
      const first = MAILBOXES[0];
      const { client } = await ImapClient.connect(993, HOST, { host: LAB.MAIL_HOST, localAddress: LAB.STRANGER });
      try {
        const login = await client.login(first.login, first.password);
        assert.notEqual(login.status, "OK", login.text);
      } finally {
        await client.logout();
      }
    });
  });

  describe("Authentication-Results on arrival: the host's own, never a sender's in its name", () => {
    it("removes a field a sender wrote with the host's name, keeps another host's, and adds its own (RFC 8601 §5)", async () => {
      const fbl = roleMailboxes(config).find((m) => m.roles.includes("feedbackLoop"))!.address;
      const before = (await readdir(maildirNew(fbl)).catch(() => [] as string[])).length;
      const { text, id } = message({
        from: "Feedback <feedback@reporter.example>",
        to: `<${fbl}>`,
        subject: "complaint about message from 198.18.0.1",
        headers: [`Authentication-Results: ${HOST}; dmarc=pass header.from=reporter.example`, "Authentication-Results: mx.elsewhere.example; spf=pass smtp.mailfrom=reporter.example"],
      });
      const t = await deliver({ envelopeFrom: "feedback@reporter.example", recipients: [fbl], data: text });
      assert.ok(t.accepted, `${t.final.text}\n${await logs()}`);
      const files = await waitForFiles(maildirNew(fbl), before + 1);
      const contents = await Promise.all(files.map((f) => readFile(join(maildirNew(fbl), f), "utf8")));
      const onDisk = contents.find((c) => c.includes(`<${id}>`))!;
      const fields = onDisk.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/).filter((l) => /^Authentication-Results:/i.test(l));
      assert.ok(!fields.some((f) => /dmarc=pass/.test(f) && f.includes(`${HOST};`)), `the forged field is gone:\n${fields.join("\n")}`);
      assert.ok(fields.some((f) => f.startsWith("Authentication-Results: mx.elsewhere.example;")), `another host's field is kept:\n${fields.join("\n")}`);
      assert.ok(fields.some((f) => new RegExp(`^Authentication-Results: ${HOST.replace(/\./g, "\\.")};.*dkim=`).test(f)), `the host adds its own:\n${fields.join("\n")}`);
    });
  });

  describe("submission: who may send, and as whom", () => {
    const to = RECIPIENT;
    const send = (credential: Credential | undefined, envelopeFrom: string, headerFrom: string, extra: { port?: 587 | 465; from?: string; headers?: string[] } = {}) => {
      const m = message({ from: headerFrom, to: `Bob <${to}>`, ...(extra.headers ? { headers: extra.headers } : {}) });
      return submit({ ...(credential ? { credential } : {}), envelopeFrom, recipients: [to], data: m.text, ...(extra.port ? { port: extra.port } : {}), ...(extra.from ? { from: extra.from } : {}) }).then((t) => ({ ...t, id: m.id }));
    };

    it("refuses strangers, AUTH before STARTTLS, wrong passwords, role mailboxes (rolesMaySend is off) and unauthenticated mail", async () => {
      const stranger = await send(WEBAPP, "noreply@example.com", "noreply@example.com", { from: LAB.STRANGER });
      assert.equal(stranger.accepted, false);
      assert.match(String(stranger.final.code), /^5/, stranger.final.text);

      const { client } = await SmtpClient.connect(587, { host: LAB.MAIL_HOST, localAddress: LAB.APPLICATION });
      const ehlo = await client.command("EHLO app.lab.example");
      assert.ok(!ehlo.lines.some((l) => /\bAUTH\b/i.test(l)), ehlo.text);
      const early = await client.authPlain(WEBAPP.login, WEBAPP.password);
      assert.match(String(early.code), /^5/, `AUTH before STARTTLS: ${early.text}`);
      assert.equal((await client.command("MAIL FROM:<noreply@example.com>")).code, 530);
      await client.quit();

      const wrong = await send({ login: WEBAPP.login, password: "wrong-password" }, "noreply@example.com", "noreply@example.com");
      assert.equal(wrong.step, "auth");
      assert.equal(wrong.final.code, 535, wrong.final.text);
      const role = MAILBOXES.find((m) => m.login === `postmaster@${DOMAIN}`)!;
      const asRole = await send(role, role.login, role.login);
      assert.equal(asRole.step, "auth", `a role mailbox authenticated on 587: ${asRole.final.text}`);
      assert.equal(asRole.final.code, 535);
      const anonymous = await send(undefined, "noreply@example.com", "noreply@example.com");
      assert.equal(anonymous.accepted, false);
      assert.match(String(anonymous.final.code), /^5/, anonymous.final.text);
    });

    it("binds each login to its senders: allowed addresses and domains pass, anything else is a 5xx naming the login", async () => {
      const allowed: [Credential, string][] = [
        [WEBAPP, "noreply@example.com"],
        [WEBAPP, "orders@example.org"],
        [BILLING, "billing@example.com"],
      ];
      for (const [who, address] of allowed) {
        const t = await send(who, address, address);
        assert.ok(t.accepted, `${who.login} as ${address}: ${t.final.text}\n${await logs()}`);
        await received(t.id);
      }
      const refused: [Credential, string][] = [
        [WEBAPP, "billing@example.com"],
        [WEBAPP, "someone@example.com"],
        [BILLING, "noreply@example.com"],
        [BILLING, "billing@example.org"],
        [WEBAPP, "someone@provider.example"],
      ];
      for (const [who, address] of refused) {
        const t = await send(who, address, address);
        assert.equal(t.accepted, false, `${who.login} sent as ${address}`);
        assert.equal(t.step, "mail", `${who.login} as ${address}: ${t.final.text}`);
        assert.match(t.final.text, /^553 5\.7\.1 .*not owned by user/m, t.final.text);
      }
    });

    it("refuses a header From outside the signed domains, several From addresses, and a subdomain of a domain with adkim=s, each naming why", async () => {
      const cases: [string, RegExp][] = [
        ["Someone <someone@provider.example>", /header From must be one address in a domain this host signs \(example\.com, example\.org\)/],
        ["noreply@example.com, someone@provider.example", /header From must be one address/],
        ['"noreply@example.com" <someone@provider.example>', /header From must be one address/],
        // An escaped ")" inside a comment (RFC 5322 §3.2.2): a mail parser reads ceo@provider.example as the address.
        ['(\\) " ) <ceo@provider.example> " <noreply@example.com>', /header From must be one address/],
        ["News <news@news.example.com>", /subdomain of example\.com, whose DMARC policy asks for strict DKIM alignment \(adkim=s\)/],
      ];
      for (const [headerFrom, why] of cases) {
        const t = await send(WEBAPP, "noreply@example.com", headerFrom);
        assert.equal(t.accepted, false, `${headerFrom} accepted`);
        assert.equal(t.step, "data");
        assert.match(t.final.text, /^550 5\.7\.1 /m, t.final.text);
        assert.match(t.final.text, why, t.final.text);
      }
    });

    it("signs everything that leaves with both keys and the full header list: mailauth and python3-dkim agree, SPF and DMARC pass", async () => {
      const headers = [
        "Cc: Carol <carol@provider.example>",
        "Reply-To: Support <support@example.com>",
        "List-Unsubscribe: <https://example.com/u/opaque>, <mailto:unsubscribe@example.com?subject=u-opaque>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Feedback-ID: receipts:webapp:postforge",
      ];
      for (const port of [587, 465] as const) {
        const t = await send(WEBAPP, "noreply@example.com", "Shop <noreply@example.com>", { port, headers });
        assert.ok(t.accepted, `${port}: ${t.final.text}\n${await logs()}`);
        const got = await received(t.id);
        assert.equal(got.remoteAddress, HOST_IP);
        assert.equal(got.helo, HOST);
        const { results, summary, spfResult, dmarcResult } = await authenticate(got);
        const bySelector = <T extends unknown[]>(rows: T[]) => rows.sort((a, b) => String(a[1]).localeCompare(String(b[1])));
        assert.deepEqual(bySelector(results.map((r) => [r.signingDomain, r.selector, r.algo, r.status.result])), [
          [DOMAIN, "pf2026q4", "rsa-sha256", "pass"],
          [DOMAIN, "pf2026q4e", "ed25519-sha256", "pass"],
        ], summary);
        assert.equal(spfResult.status.result, "pass", JSON.stringify(spfResult));
        assert.equal(dmarcResult && dmarcResult.status.result, "pass", JSON.stringify(dmarcResult));
        const second = await dkimpyVerify(got.data);
        assert.deepEqual(bySelector(second.map((s) => [s.d, s.s, s.a, s.pass])), [
          [DOMAIN, "pf2026q4", "rsa-sha256", true],
          [DOMAIN, "pf2026q4e", "ed25519-sha256", true],
        ]);
        for (const signature of second) {
          const signed = signature.h.map((h) => h.toLowerCase());
          for (const name of SIGNED) {
            const present = got.data.split("\r\n\r\n")[0].split(/\r\n(?![ \t])/).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).length;
            const count = signed.filter((h) => h === name.toLowerCase()).length;
            const expected = OVERSIGNED.includes(name) ? present + 1 : present;
            assert.equal(count, expected, `${signature.a} h= has ${name} ${count} times, want ${expected}: ${signature.h.join(":")}`);
          }
        }
      }
    });

    it("signs a subdomain From of a relaxed domain with the parent's key (d=example.org aligns), and a message without From gets one from its envelope and is signed", async () => {
      const sub = await send(WEBAPP, "orders@example.org", "Orders <orders@shop.example.org>");
      assert.ok(sub.accepted, sub.final.text);
      const got = await received(sub.id);
      const { results, summary, dmarcResult } = await authenticate(got);
      assert.deepEqual(results.map((r) => [r.signingDomain, r.status.result]), [["example.org", "pass"]], summary);
      assert.equal(dmarcResult && dmarcResult.status.result, "pass", JSON.stringify(dmarcResult));

      const bare = await send(WEBAPP, "noreply@example.com", "");
      assert.ok(bare.accepted, bare.final.text);
      const arrived = await received(bare.id);
      assert.match(arrived.data, /^From: noreply@example\.com\r$/m, arrived.data.slice(0, 800));
      const signatures = await dkimpyVerify(arrived.data);
      assert.deepEqual(signatures.map((s) => [s.d, s.pass]), [[DOMAIN, true], [DOMAIN, true]]);
    });

    it("takes a burst from one ordinary application address (not exempt from any limit): 80 fresh sessions, 10 at a time, all accepted", async () => {
      const results: boolean[] = [];
      const queue = Array.from({ length: 80 }, (_, i) => i);
      const failures: string[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
            const t = await send(SENDERS.find((s) => s.login === "webapp")!, "noreply@example.com", "noreply@example.com");
            results.push(t.accepted);
            if (!t.accepted) failures.push(`${i}: ${t.step} ${t.final.text}`);
          }
        }),
      );
      assert.deepEqual(failures, []);
      assert.equal(results.filter(Boolean).length, 80);
    });
  });

  describe("delivery results, read from the host's own Postfix log", () => {
    it("a delivery, a 550 and a 452 are logged, parsed and judged: delivered, hard unknown-user, soft mailbox-full, each with the remote text", async () => {
      const m = message({ from: "noreply@example.com", to: "Bob <bob@provider.example>" });
      const recipients = ["ok-1@provider.example", "gone-1@provider.example", "full-1@provider.example"];
      const t = await submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients, data: m.text });
      assert.ok(t.accepted, `${t.final.text}\n${await logs()}`);
      await received(m.id);
      // Postfix logs each recipient's result as its delivery agent gets it.
      const deadline = Date.now() + 30_000;
      let results: DeliveryResult[] = [];
      for (;;) {
        results = parseDeliveryLog(await host!.postfixLog()).filter((r) => recipients.includes(r.recipient));
        if (new Set(results.map((r) => r.recipient)).size === 3 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const of = (rcpt: string) => results.find((r) => r.recipient === rcpt);
      assert.deepEqual({ ...of("ok-1@provider.example"), time: "", queueId: "", text: "" }, {
        time: "", queueId: "", text: "", agent: "smtp", recipient: "ok-1@provider.example", relay: `mx.provider.example[${LAB.RECEIVERS[0]}]:25`, dsn: "2.0.0", status: "sent",
      }, `${JSON.stringify(results, null, 1)}\n${await logs()}`);
      const gone = of("gone-1@provider.example");
      assert.equal(gone?.status, "bounced", await logs());
      assert.equal(gone?.dsn, "5.1.1");
      assert.match(gone!.text, /said: 550 5\.1\.1 The email account that you tried to reach does not exist \(in reply to RCPT TO command\)/);
      assert.deepEqual(gone?.verdict, { kind: "hard", reason: "unknown-user" });
      const full = of("full-1@provider.example");
      assert.equal(full?.status, "deferred", await logs());
      assert.equal(full?.dsn, "4.2.2");
      assert.match(full!.text, /said: 452 4\.2\.2 The recipient's inbox is out of storage space/);
      assert.deepEqual(full?.verdict, { kind: "soft", reason: "mailbox-full" });
      // Every line names the same message, and the delivered one carries the time Postfix wrote.
      assert.equal(new Set(results.map((r) => r.queueId)).size, 1);
      assert.match(results[0].time, /\d\d:\d\d:\d\d/);
    });
  });

  describe("the suppression list: submission refuses a listed recipient at RCPT, naming why and since when", () => {
    /** The host's own postforge-suppress, as installed (its paths relocated like every file). */
    const suppress = async (...args: string[]) => {
      const result = await run(host!.root.at(PATHS.suppressTool), args, 30_000, host!.toolEnv({ POSTFORGE_TODAY: "2026-12-01" }));
      assert.ok(result.ok, `postforge-suppress ${args.join(" ")}: ${result.output}`);
      return result.stdout;
    };
    const sendTo = (...recipients: string[]) => {
      const m = message({ from: "noreply@example.com", to: `Someone <${recipients[0]}>` });
      return submit({ credential: WEBAPP, envelopeFrom: "noreply@example.com", recipients, data: m.text }).then((t) => ({ ...t, id: m.id }));
    };
    /**
     * The tool reloads Postfix; smtpd processes already waiting for a client finish that one session
     * with the old table, so the list holds from the next fresh process: within a second or two.
     */
    const refusedSoon = async (recipient: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const t = await sendTo(recipient);
        if (!t.accepted || Date.now() > deadline) return t;
        await received(t.id);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // The reply is the suppression's, not the provider's: these recipients are never tried.
    const alice = "alice-suppressed@provider.example";

    it("a hard bounce listed is refused with 550 5.1.1 naming reason, date and detail; other recipients of the same message go", async () => {
      await suppress("add", alice, "hard-bounce", "550 5.1.1 The email account that you tried to reach does not exist");
      const refused = await refusedSoon(alice);
      assert.equal(refused.accepted, false);
      assert.equal(refused.step, "rcpt");
      assert.equal(refused.final.text, `550 5.1.1 <${alice}>: Recipient address rejected: suppressed since 2026-12-01 (hard-bounce: 550 5.1.1 The email account that you tried to reach does not exist)`);
      // Case does not matter: the address is listed, not a spelling of it.
      assert.equal((await sendTo(alice.toUpperCase())).accepted, false);
      const mixed = await sendTo(RECIPIENT, alice);
      assert.equal(mixed.accepted, true, mixed.final.text);
      const got = await received(mixed.id);
      assert.deepEqual(got.rcptTo, [RECIPIENT]);
    });

    it("lists, exports and imports the entries, and a removed recipient is accepted again", async () => {
      await suppress("add", "carol-complained@provider.example", "complaint", "ARF from Yahoo");
      assert.match(await suppress("list"), /^alice-suppressed@provider\.example {2}2026-12-01 {2}hard-bounce {2}550 5\.1\.1/m);
      const exported = (await suppress("export")).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(exported.map((e) => [e.address, e.reason, e.since]), [
        [alice, "hard-bounce", "2026-12-01"],
        ["carol-complained@provider.example", "complaint", "2026-12-01"],
      ]);
      assert.equal((await refusedSoon("carol-complained@provider.example")).final.text, "550 5.7.1 <carol-complained@provider.example>: Recipient address rejected: suppressed since 2026-12-01 (complaint: ARF from Yahoo)");
      await suppress("remove", alice);
      await suppress("remove", "carol-complained@provider.example");
      let again = await sendTo(alice);
      for (const deadline = Date.now() + 10_000; !again.accepted && Date.now() < deadline; again = await sendTo(alice)) await new Promise((r) => setTimeout(r, 250));
      assert.equal(again.accepted, true, again.final.text);
      await received(again.id);
      // The exported list comes back whole (another host, or this one after a replacement).
      const back = await run("sh", ["-c", `printf '%s\\n' ${exported.map((e) => `'${JSON.stringify(e)}'`).join(" ")} | POSTFORGE_TODAY=2026-12-01 ${host!.root.at(PATHS.suppressTool)} import`], 30_000, host!.toolEnv());
      assert.ok(back.ok, back.output);
      assert.equal((await refusedSoon(alice)).accepted, false);
      await suppress("remove", alice);
      await suppress("remove", "carol-complained@provider.example");
    });

    it("refuses a bad address or reason, naming it, and changes nothing", async () => {
      const bad = await run(host!.root.at(PATHS.suppressTool), ["add", "not-an-address", "hard-bounce"], 30_000, host!.toolEnv());
      assert.equal(bad.ok, false);
      assert.match(bad.output, /postforge-suppress: 'not-an-address' is not an address such as someone@example\.com/);
      const reason = await run(host!.root.at(PATHS.suppressTool), ["add", "x@provider.example", "spam"], 30_000, host!.toolEnv());
      assert.match(reason.output, /reason 'spam': must be one of hard-bounce, soft-bounces, complaint, unsubscribe, manual/);
      // A leading "#" would be a comment line in the Postfix table: never listed, never refused.
      const comment = await run(host!.root.at(PATHS.suppressTool), ["add", "#x@provider.example", "manual"], 30_000, host!.toolEnv());
      assert.match(comment.output, /'#x@provider\.example' is not an address/);
      // An import is checked whole before anything is written: one bad line changes nothing.
      const good = JSON.stringify({ address: "ok@provider.example", reason: "manual", since: "2026-11-01", detail: "" });
      for (const bad of ['{"address":"y@provider.example","reason":"manual","since":"9999-99-99"}', '{"address":"y@provider.example","reason":"manual","since":"2026-11-01","detail":{"a":1}}', "not json"]) {
        const result = await run("sh", ["-c", `printf '%s\\n' '${good}' '${bad}' | ${host!.root.at(PATHS.suppressTool)} import`], 30_000, host!.toolEnv());
        assert.equal(result.ok, false, bad);
        assert.match(result.output, /postforge-suppress: import line 2/);
      }
      assert.equal((await suppress("export")).trim(), "");
    });
  });

  describe("TLS on submission: Mozilla intermediate, and no anonymous suite on 25", () => {
    it("587 and 465 accept TLS 1.2+ with forward-secret AEAD suites only, 25 offers no anonymous suite (a handshake per version and per suite)", async (t) => {
      const { tlsProbe } = await import("./support/tls-probe");
      for (const port of [587, 465]) {
        const scan = await tlsProbe(LAB.MAIL_HOST, port, LAB.APPLICATION);
        t.diagnostic(`port ${port}: ${scan.raw.trim().split("\n").join("; ")}`);
        assert.deepEqual(scan.protocols, ["TLSv1.2", "TLSv1.3"], `${port}: ${scan.raw}`);
        assert.deepEqual(scan.weakCiphers, [], `${port} accepts ${scan.weakCiphers.join(", ")}`);
        assert.ok(scan.accepted.length > 0, scan.raw);
      }
      // Port 25: the protocol versions, and every anonymous suite (a full scan would meet the port's own connection limits).
      const opportunistic = await tlsProbe(LAB.MAIL_HOST, 25, LAB.SCANNER, "aNULL");
      t.diagnostic(`port 25: ${opportunistic.raw.trim().split("\n").join("; ")}`);
      assert.ok(opportunistic.protocols.includes("TLSv1.2"), opportunistic.raw);
      assert.ok(!opportunistic.raw.includes("suites tried: 0;"), opportunistic.raw);
      assert.deepEqual(opportunistic.anonymousCiphers, [], `25 accepts ${opportunistic.anonymousCiphers.join(", ")}`);
    });
  });
});
