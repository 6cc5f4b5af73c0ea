/**
 * Issue 4 end to end, proven by the real daemons: the exact files the
 * mail-host renderers produce for the example stack `selfhosted` (see
 * test/support/mta-e2e-fixture.ts), relocated onto loopback high ports under
 * /var/lib/postforge-mta-test (see test/support/mta-daemons.ts), run by
 * Postfix, both OpenDKIM signers (RSA and Ed25519) and Dovecot as root. The
 * zones of the domains the host serves, as the stack derives them (SPF
 * `a:mail.example.com`, DMARC p=reject, MX to the host), with the host's A
 * record on loopback and the real keys, are served by knotd; a node SMTP
 * server on loopback plays the receiving mailbox provider, and Postfix relays
 * outbound mail to it (a relayhost line added to the relocated test main.cf only).
 *
 * The receiver judges what arrives with mailauth's own DKIM, SPF and DMARC
 * modules, asking only that knotd. mailauth's main entry does not load on
 * Node 20 (see test/dkim-roundtrip.test.ts), so the modules are loaded one
 * by one; `mailauth/lib/spf` and `mailauth/lib/dmarc` load on Node 20 and
 * take a custom resolver.
 *
 * Needs root and .ci/run's packages (postfix, opendkim, dovecot-core,
 * dovecot-imapd, dovecot-lmtpd, knot, bind9-utils, openssl).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DNSResolver } from "mailauth";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import { dmarc } from "mailauth/lib/dmarc";
import { spf } from "mailauth/lib/spf";
import { renderZoneFile } from "../components/dns/zonefile";
import { PATHS } from "../components/mta-host";
import { namedCheckzone, startKnot, type KnotServer } from "./support/dns-tools";
import type { MailHostDaemons } from "./support/mta-daemons";
import { config, createKeys, DOMAIN, freeMailPorts, HOST, HOST_IP, knotResolver, MAILBOXES, startFixtureHost, SUBMITTER, SUBMITTERS, zones } from "./support/mta-e2e-fixture";
import { ImapClient } from "./support/mta-e2e-imap";
import { SmtpClient, startSmtpReceiver, type SmtpReceiver } from "./support/mta-e2e-smtp";
import type { TestPorts } from "./support/mta-tools";

const passwordOf = (address: string) => MAILBOXES.find((m) => m.address === address)!.password;

let knot: KnotServer | undefined;
let receiver: SmtpReceiver | undefined;
let host: MailHostDaemons | undefined;
let ports: TestPorts;
let dns: DNSResolver;

/** Diagnostics for a failed assertion: the daemons' own logs. */
async function logs(): Promise<string> {
  if (!host) return "(no mail host)";
  return `--- postfix.log ---\n${await host.postfixLog()}\n--- dovecot.log ---\n${await host.dovecotLog()}`;
}

function message(fields: { from: string; to: string; subject: string; id: string }): string {
  return [
    `From: ${fields.from}`,
    `To: ${fields.to}`,
    `Subject: ${fields.subject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${fields.id}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "Hello from the Postforge end-to-end test.",
    ".a line that starts with a dot",
    "",
  ].join("\r\n");
}

/** EHLO on a fresh connection, returning the client and the EHLO reply. */
async function ehlo(port: number): Promise<{ client: SmtpClient; reply: Awaited<ReturnType<SmtpClient["command"]>> }> {
  const { client, greeting } = await SmtpClient.connect(port);
  assert.equal(greeting.code, 220, greeting.text);
  const reply = await client.command("EHLO client.example.net");
  assert.equal(reply.code, 250, reply.text);
  return { client, reply };
}

const extensions = (lines: string[]) => lines.slice(1).map((l) => l.slice(4).toUpperCase());

async function waitForFiles(dir: string, count: number, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await readdir(dir).catch(() => [] as string[]);
    if (files.length >= count) return files;
    if (Date.now() > deadline) throw new Error(`${dir}: ${files.length} of ${count} messages after ${timeoutMs} ms\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("mail host end to end (Postfix, OpenDKIM RSA + Ed25519, Dovecot, knotd, mailauth)", { timeout: 120_000 }, () => {
  before(async () => {
    assert.equal(process.getuid?.(), 0, "the mail-host end-to-end test runs the daemons as root (CI runs .ci/run as root)");
    const keys = await createKeys();
    const served = zones(keys).map((z) => ({ apex: z.apex, text: renderZoneFile(z.apex, z.records) }));
    for (const zone of served) {
      const check = await namedCheckzone(zone.apex, zone.text);
      assert.ok(check.ok, check.output);
    }
    knot = await startKnot(served);
    dns = knotResolver(knot.port);

    receiver = await startSmtpReceiver("mx.example.net");
    ports = await freeMailPorts();
    host = await startFixtureHost(ports, keys, receiver.port);
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

  it("offers STARTTLS on 25 and 587 (and AUTH on 587 only after TLS)", async () => {
    for (const port of [ports.smtp, ports.submission]) {
      const { client, reply } = await ehlo(port);
      assert.ok(extensions(reply.lines).includes("STARTTLS"), `port ${port}:\n${reply.text}`);
      assert.ok(!extensions(reply.lines).some((e) => e.startsWith("AUTH")), `AUTH offered before TLS on ${port}:\n${reply.text}`);
      await client.quit();
    }
    const { client } = await ehlo(ports.submission);
    assert.equal((await client.starttls(HOST)).code, 220);
    const after = await client.command("EHLO client.example.net");
    assert.ok(extensions(after.lines).some((e) => /^AUTH\b.*\bPLAIN\b/.test(e)), after.text);
    await client.quit();
  });

  it("refuses to relay for an unauthenticated client on port 25 (5xx)", async () => {
    const { client } = await ehlo(ports.smtp);
    assert.equal((await client.command("MAIL FROM:<someone@example.net>")).code, 250);
    const rcpt = await client.command("RCPT TO:<victim@example.net>");
    assert.match(String(rcpt.code), /^5/, rcpt.text);
    assert.match(rcpt.text, /Relay access denied/i);
    await client.quit();
  });

  it("refuses unauthenticated submission on 587 (TLS first, then AUTH required)", async () => {
    const { client } = await ehlo(ports.submission);
    const plain = await client.command("MAIL FROM:<app@example.com>");
    assert.equal(plain.code, 530, `MAIL before STARTTLS:\n${plain.text}`);
    assert.equal((await client.starttls(HOST)).code, 220);
    assert.equal((await client.command("EHLO client.example.net")).code, 250);
    const mail = await client.command("MAIL FROM:<app@example.com>");
    const rcpt = mail.code === 250 ? await client.command("RCPT TO:<bob@example.net>") : mail;
    assert.match(String(rcpt.code), /^5/, `unauthenticated MAIL/RCPT on 587:\n${mail.text}\n${rcpt.text}`);
    await client.quit();
    const bad = await ehlo(ports.submission);
    await bad.client.starttls(HOST);
    await bad.client.command("EHLO client.example.net");
    const auth = await bad.client.authPlain(SUBMITTER.address, "wrong-password");
    assert.equal(auth.code, 535, `AUTH with a wrong password:\n${auth.text}`);
    await bad.client.quit();
  });

  /** Submit one message as `from` on 587 (STARTTLS, AUTH) and return what the receiving provider got. */
  async function submitAndReceive(from: { address: string; password: string }) {
    assert.ok(receiver && host);
    const domain = from.address.split("@")[1];
    const id = `e2e-${randomBytes(8).toString("hex")}@${domain}`;
    const { client } = await ehlo(ports.submission);
    assert.equal((await client.starttls(HOST)).code, 220);
    assert.equal((await client.command("EHLO client.example.net")).code, 250);
    const auth = await client.authPlain(from.address, from.password);
    assert.equal(auth.code, 235, `${auth.text}\n${await logs()}`);
    assert.equal((await client.command(`MAIL FROM:<${from.address}>`)).code, 250);
    assert.equal((await client.command("RCPT TO:<bob@example.net>")).code, 250);
    const sent = await client.data(message({ from: `App <${from.address}>`, to: "Bob <bob@example.net>", subject: "End to end", id }));
    assert.equal(sent.code, 250, `${sent.text}\n${await logs()}`);
    await client.quit();
    const got = await receiver.waitFor((m) => m.data.includes(`<${id}>`), 30_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${await logs()}`);
    });
    assert.equal(got.remoteAddress, HOST_IP);
    assert.equal(got.helo, HOST);
    assert.equal(got.mailFrom, from.address);
    assert.deepEqual(got.rcptTo, ["bob@example.net"]);
    return got;
  }

  /** mailauth's verdicts on a received message, resolving only through knotd. */
  async function authenticate(got: { data: string; remoteAddress: string; mailFrom: string; helo: string }, headerFrom: string) {
    const { results } = await dkimVerify(got.data, { resolver: dns });
    const summary = results.map((r) => `${r.signingDomain} s=${r.selector} ${r.algo}: ${r.status.result} ${r.status.comment ?? ""}`).join("\n");
    const spfResult = await spf({ ip: got.remoteAddress, sender: got.mailFrom, helo: got.helo, mta: "mx.example.net", resolver: dns });
    const dmarcResult = await dmarc({
      headerFrom,
      spfDomains: [spfResult.domain],
      dkimDomains: results.filter((r) => r.status.result === "pass").map((r) => ({ id: r.id, domain: r.signingDomain ?? "", aligned: r.status.aligned })),
      resolver: dns,
    });
    return { results, summary, spfResult, dmarcResult };
  }

  it("signs authenticated submission with RSA and Ed25519: mailauth says DKIM, SPF and DMARC pass via knotd", async () => {
    const got = await submitAndReceive(SUBMITTER);
    assert.match(got.data, /^\.a line that starts with a dot$/m);
    const { results, summary, spfResult, dmarcResult } = await authenticate(got, DOMAIN);
    assert.equal(results.length, 2, `${summary}\n${got.data}`);
    const byAlgo = new Map(results.map((r) => [r.algo, r]));
    for (const [algo, selector] of [["rsa-sha256", "pf2026q4"], ["ed25519-sha256", "pf2026q4e"]] as const) {
      const r = byAlgo.get(algo);
      assert.ok(r, `no ${algo} signature:\n${summary}`);
      assert.equal(r.status.result, "pass", summary);
      assert.equal(r.signingDomain, DOMAIN);
      assert.equal(r.selector, selector);
    }
    // SPF passes through the stack's own `a:mail.example.com` term, resolved to the host's address.
    assert.equal(spfResult.status.result, "pass", JSON.stringify(spfResult));
    assert.equal(spfResult.domain, DOMAIN);
    assert.ok(dmarcResult, "DMARC not evaluated");
    assert.equal(dmarcResult.status.result, "pass", JSON.stringify(dmarcResult));
    assert.equal(dmarcResult.policy, "reject");
  });

  it("signs the second served domain with its own key: example.org passes DKIM, SPF and DMARC too", async () => {
    const org = SUBMITTERS.find((m) => m.address.endsWith("@example.org"))!;
    const got = await submitAndReceive(org);
    const { results, summary, spfResult, dmarcResult } = await authenticate(got, "example.org");
    assert.deepEqual(results.map((r) => [r.signingDomain, r.selector, r.algo, r.status.result]), [["example.org", "pf2026q4", "rsa-sha256", "pass"]], summary);
    assert.equal(spfResult.status.result, "pass", JSON.stringify(spfResult));
    assert.ok(dmarcResult);
    assert.equal(dmarcResult.status.result, "pass", JSON.stringify(dmarcResult));
    assert.equal(dmarcResult.policy, "quarantine");
  });

  it("delivers postmaster@, abuse@ and the feedback-loop address from port 25 to their own Maildirs, readable over IMAPS", async () => {
    assert.ok(host);
    const fbl = `${config.domains[0].roles.feedbackLoop}@${DOMAIN}`;
    const targets = [`postmaster@${DOMAIN}`, `abuse@${DOMAIN}`, fbl];
    const ids = new Map(targets.map((t) => [t, `role-${t.split("@")[0]}-${randomBytes(6).toString("hex")}@example.net`]));
    for (const to of targets) {
      const { client } = await ehlo(ports.smtp);
      assert.equal((await client.command("MAIL FROM:<reporter@example.net>")).code, 250);
      const rcpt = await client.command(`RCPT TO:<${to}>`);
      assert.equal(rcpt.code, 250, rcpt.text);
      const sent = await client.data(message({ from: "Reporter <reporter@example.net>", to: `<${to}>`, subject: `For ${to}`, id: ids.get(to)! }));
      assert.equal(sent.code, 250, `${sent.text}\n${await logs()}`);
      await client.quit();
    }
    for (const to of targets) {
      const [local, domain] = to.split("@");
      const newDir = join(host.root.at(PATHS.mailRoot), domain, local, "Maildir", "new");
      const files = await waitForFiles(newDir, 1);
      assert.equal(files.length, 1, `${newDir}: ${files.join(", ")}`);
      const onDisk = await readFile(join(newDir, files[0]), "utf8");
      assert.ok(onDisk.includes(`<${ids.get(to)}>`), `${newDir} holds someone else's message:\n${onDisk}`);

      const { client, greeting } = await ImapClient.connect(ports.imaps, HOST);
      assert.match(greeting, /^\* OK/);
      try {
        const login = await client.login(to, passwordOf(to));
        assert.equal(login.status, "OK", `${login.text}\n${await logs()}`);
        const select = await client.command("SELECT INBOX");
        assert.equal(select.status, "OK", select.text);
        assert.match(select.text, /^\* 1 EXISTS\r$/m, select.text);
        const { response, body } = await client.fetchBody(1);
        assert.equal(response.status, "OK", response.text);
        assert.ok(body, response.text);
        assert.match(body, new RegExp(`^Message-ID: <${ids.get(to)!.replace(/[.]/g, "\\.")}>\r$`, "m"));
        assert.match(body, new RegExp(`^Subject: For ${to.replace(/[.]/g, "\\.")}\r$`, "m"));
        assert.match(body, /^Delivered-To: /m);
      } finally {
        await client.logout();
      }
    }
  });
});
