/**
 * Reports as they arrive by mail, and `postforge reports` over a Maildir: a
 * message counts only when it authenticated on arrival (the host's own
 * Authentication-Results) and is about one of our domains; the rest are set
 * apart with the reason. The summary per domain and day: each source with
 * its volume and DMARC results, ours told apart from unknown; TLS sessions
 * by failure type and MX.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { main } from "../cli/postforge";
import { startKnot } from "./support/dns-tools";
import { readReportMail } from "../components/reports/report-mail";
import { summarizeAggregate } from "../components/reports/summary";
import { parseAggregateReport } from "../components/reports";

const HOST = "mail.example.com";

function report(org: string, id: string, domain: string, rows: [ip: string, count: number, dkim: string, spf: string, disposition: string][]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata><org_name>${org}</org_name><email>dmarc@${org}</email><report_id>${id}</report_id><date_range><begin>1764547200</begin><end>1764633599</end></date_range></report_metadata>
  <policy_published><domain>${domain}</domain><p>none</p><pct>100</pct></policy_published>
${rows
  .map(
    ([ip, count, dkim, spf, disposition]) =>
      `  <record><row><source_ip>${ip}</source_ip><count>${count}</count><policy_evaluated><disposition>${disposition}</disposition><dkim>${dkim}</dkim><spf>${spf}</spf></policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results><dkim><domain>${domain}</domain><result>${dkim}</result></dkim><spf><domain>${domain}</domain><result>${spf}</result></spf></auth_results></record>`,
  )
  .join("\n")}
</feedback>`;
}

/** A report message as a receiver sends it, with the Authentication-Results a host would add (`results`: what it found). */
function mail(from: string, results: string, attachment: Buffer, type: string, name: string): string {
  return [
    `Authentication-Results: ${results}`,
    `From: DMARC reports <${from}>`,
    "To: dmarc-rua@example.com",
    `Subject: Report domain: example.com Submitter: ${from.split("@")[1]}`,
    "Date: Tue, 02 Dec 2025 04:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="r1"',
    "",
    "--r1",
    "Content-Type: text/plain",
    "",
    "This is an aggregate report.",
    "--r1",
    `Content-Type: ${type}; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    "Content-Transfer-Encoding: base64",
    "",
    ...(attachment.toString("base64").match(/.{1,76}/g) ?? []),
    "--r1--",
    "",
  ].join("\r\n");
}

const pass = (d: string) => `${HOST}; dkim=pass (2048-bit key; unprotected) header.d=${d} header.s=s1; spf=pass smtp.mailfrom=${d}; dmarc=pass header.from=${d}`;

const GOOGLE = report("google.com", "g-1", "example.com", [
  ["203.0.113.145", 100, "pass", "pass", "none"],
  ["198.51.100.9", 5, "fail", "fail", "none"],
  ["198.51.100.10", 3, "fail", "fail", "reject"],
]);
const OUTLOOK = report("outlook.com", "o-1", "example.com", [["203.0.113.145", 50, "pass", "fail", "none"]]);
const TLS = JSON.stringify({
  "organization-name": "Google Inc.",
  "date-range": { "start-datetime": "2025-12-01T00:00:00Z", "end-datetime": "2025-12-01T23:59:59Z" },
  "contact-info": "smtp-tls-reporting@google.com",
  "report-id": "2025-12-01T00:00:00Z_example.com",
  policies: [
    {
      policy: { "policy-type": "sts", "policy-domain": "example.com", "mx-host": ["mail.example.com"] },
      summary: { "total-successful-session-count": 900, "total-failure-session-count": 12 },
      "failure-details": [{ "result-type": "sts-policy-fetch-error", "receiving-mx-hostname": "mail.example.com", "failed-session-count": 12 }],
    },
  ],
});

describe("reports by mail", () => {
  it("reads the attachment (gzip, zip or plain) and counts the message only when it authenticated and is about our domain", () => {
    const good = readReportMail(mail("noreply-dmarc-support@google.com", pass("google.com"), gzipSync(GOOGLE), "application/gzip", "google.com!example.com!1764547200!1764633599.xml.gz"), { authservId: HOST, domains: ["example.com"] });
    assert.equal(good.authenticatedAs, "google.com");
    assert.equal(good.setApart, undefined);
    assert.deepEqual(good.reports.map((r) => r.kind), ["aggregate"]);
    // A display name that looks like an address is not the address: the author here is attacker.example, whose own
    // DMARC pass proves attacker.example, never google.com; and a From of two authors proves no one.
    const disguised = mail("noreply-dmarc-support@google.com", `${HOST}; dmarc=pass header.from=attacker.example`, gzipSync(GOOGLE), "application/gzip", "r.xml.gz")
      .replace("From: DMARC reports <noreply-dmarc-support@google.com>", 'From: "noreply-dmarc-support@google.com" (dmarc@google.com) <reports@attacker.example>');
    assert.equal(readReportMail(disguised, { authservId: HOST, domains: ["example.com"] }).authenticatedAs, "attacker.example");
    const twoAuthors = disguised.replace(/^From: .*$/m, "From: reports@attacker.example, noreply-dmarc-support@google.com");
    assert.equal(readReportMail(twoAuthors, { authservId: HOST, domains: ["example.com"] }).authenticatedAs, undefined);
    // Signed by someone else's domain, or results written by another host: not proved.
    const forged = readReportMail(mail("noreply-dmarc-support@google.com", `${HOST}; dkim=pass header.d=attacker.example; spf=fail smtp.mailfrom=attacker.example; dmarc=fail header.from=google.com`, gzipSync(GOOGLE), "application/gzip", "r.xml.gz"), { authservId: HOST, domains: ["example.com"] });
    assert.match(forged.setApart!, /^did not authenticate on arrival \(no DMARC pass, nor an aligned DKIM or SPF pass, in mail\.example\.com's Authentication-Results\)/);
    const elsewhere = readReportMail(mail("noreply-dmarc-support@google.com", pass("google.com").replace(HOST, "mx.attacker.example"), gzipSync(GOOGLE), "application/gzip", "r.xml.gz"), { authservId: HOST, domains: ["example.com"] });
    assert.match(elsewhere.setApart!, /did not authenticate on arrival/);
    const notOurs = readReportMail(mail("dmarc@outlook.com", pass("outlook.com"), Buffer.from(report("outlook.com", "o-2", "example.net", [["192.0.2.1", 1, "pass", "pass", "none"]])), "text/xml", "r.xml"), { authservId: HOST, domains: ["example.com"] });
    assert.equal(notOurs.setApart, "about example.net, not one of ours (example.com)");
    // A subdomain's report is ours.
    const sub = readReportMail(mail("dmarc@outlook.com", pass("outlook.com"), Buffer.from(report("outlook.com", "o-3", "news.example.com", [["192.0.2.1", 1, "pass", "pass", "none"]])), "text/xml", "r.xml"), { authservId: HOST, domains: ["example.com"] });
    assert.equal(sub.setApart, undefined);
    // A report whose rows speak of a domain not ours is set apart, whatever its policy domain says.
    const mixed = readReportMail(mail("dmarc@outlook.com", pass("outlook.com"), Buffer.from(report("outlook.com", "o-4", "example.com", [["192.0.2.1", 1, "pass", "pass", "none"]]).replace("<header_from>example.com</header_from>", "<header_from>victim.example</header_from>")), "text/xml", "r.xml"), { authservId: HOST, domains: ["example.com"] });
    assert.equal(mixed.setApart, "about victim.example, not one of ours (example.com)");
    // An attachment inside an enclosed message (a failure report's returned mail, written by a spoofer) is not read.
    const enclosed = readReportMail(
      ["Authentication-Results: " + pass("outlook.com"), "From: dmarc@outlook.com", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="o1"', "", "--o1", "Content-Type: message/rfc822", "", mail("x@spoofer.example", "x", Buffer.from(GOOGLE), "text/xml", "fake.xml"), "--o1--", ""].join("\r\n"),
      { authservId: HOST, domains: ["example.com"] },
    );
    assert.deepEqual([enclosed.reports.length, enclosed.setApart], [0, "holds no readable report"]);
    // A bomb is unreadable, and a message with nothing readable does not count.
    const bomb = readReportMail(mail("dmarc@outlook.com", pass("outlook.com"), gzipSync(Buffer.alloc(80 * 2 ** 20)), "application/gzip", "r.xml.gz"), { authservId: HOST, domains: ["example.com"] });
    assert.match(bomb.unreadable[0].reason, /unpacks to more than 50 MiB/);
    assert.equal(bomb.setApart, "holds no readable report");
  });

  it("bounds what one message may cost, however many attachments it carries: their number, their unpacked bytes together, the time", () => {
    // One message, many small gzip bombs (each 60 KiB packed, 50 MiB unpacked at the ceiling): without a budget per
    // message each would cost the attachment limit again.
    const bombs = (n: number) => {
      const one = mail("dmarc@outlook.com", pass("outlook.com"), gzipSync(Buffer.alloc(60 * 2 ** 20)), "application/gzip", "b.xml.gz");
      const [head, rest] = [one.slice(0, one.indexOf("--r1\r\nContent-Type: application/gzip")), one.slice(one.indexOf("--r1\r\nContent-Type: application/gzip"))];
      const attachment = rest.slice(0, rest.indexOf("--r1--"));
      return `${head}${attachment.repeat(n)}--r1--\r\n`;
    };
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const many = readReportMail(bombs(40), { authservId: HOST, domains: ["example.com"] });
    const seconds = (Date.now() - started) / 1000;
    const grewMiB = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.equal(many.unreadable.length, 40);
    // The first unpacks to its ceiling and is refused; the next reads what is left of the message's 64 MiB; the rest are not opened.
    assert.match(many.unreadable[0].reason, /unpacks to more than 50 MiB/);
    assert.match(many.unreadable[1].reason, /unpacks to more than 14 MiB/);
    assert.deepEqual(new Set(many.unreadable.slice(2).map((u) => u.reason)), new Set([`the message's attachments already unpacked to ${64 * 2 ** 20} bytes; the rest are not read`]));
    console.log(`40 gzip bombs in one message: ${seconds.toFixed(2)} s, RSS +${grewMiB.toFixed(0)} MiB`);
    // Real reports, nine in one message: eight are read, the ninth is named.
    const one = mail("dmarc@outlook.com", pass("outlook.com"), gzipSync(Buffer.from(OUTLOOK)), "application/gzip", "o.xml.gz");
    const at = one.indexOf("--r1\r\nContent-Type: application/gzip");
    const attachment = one.slice(at, one.indexOf("--r1--"));
    const nine = readReportMail(`${one.slice(0, at)}${attachment.repeat(9)}--r1--\r\n`, { authservId: HOST, domains: ["example.com"] });
    assert.equal(nine.reports.length, 8);
    assert.deepEqual(nine.unreadable, [{ part: "o.xml.gz", reason: "the message has more than 8 attachments; the rest are not read" }]);
    // And the clock: no attachment starts once the message's time is spent.
    const late = readReportMail(`${one.slice(0, at)}${attachment.repeat(2)}--r1--\r\n`, { authservId: HOST, domains: ["example.com"], budget: { attachments: 8, unpackedBytes: 2 ** 26, milliseconds: 0 } });
    assert.deepEqual(late.unreadable.map((u) => u.reason), ["the message took over 0 ms; the rest are not read", "the message took over 0 ms; the rest are not read"]);
  });

  it("sums per domain and day: several reporters add up, ours told apart, unknown sources and what receivers let through", () => {
    const [day] = summarizeAggregate([parseAggregateReport(GOOGLE), parseAggregateReport(OUTLOOK)], ["203.0.113.0/24"]);
    assert.deepEqual(day, {
      domain: "example.com",
      day: "2025-12-01",
      messages: 158,
      dmarcPass: 150,
      oursAligned: 100,
      unknownMessages: 8,
      unknownDelivered: 5,
      sources: [
        { sourceIp: "203.0.113.145", ours: true, messages: 150, dmarcPass: 150, dkimAligned: 150, spfAligned: 100, dispositions: { none: 150 }, failingDispositions: {}, reporters: ["google.com", "outlook.com"] },
        { sourceIp: "198.51.100.9", ours: false, messages: 5, dmarcPass: 0, dkimAligned: 0, spfAligned: 0, dispositions: { none: 5 }, failingDispositions: { none: 5 }, reporters: ["google.com"] },
        { sourceIp: "198.51.100.10", ours: false, messages: 3, dmarcPass: 0, dkimAligned: 0, spfAligned: 0, dispositions: { reject: 3 }, failingDispositions: { reject: 3 }, reporters: ["google.com"] },
      ],
    });
  });

  it("postforge reports reads a Maildir and prints the summary, with what it set apart and why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "postforge-reports-"));
    for (const sub of ["new", "cur", "tmp"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "new", "1.google"), mail("noreply-dmarc-support@google.com", pass("google.com"), gzipSync(GOOGLE), "application/gzip", "g.xml.gz"));
    writeFileSync(join(dir, "cur", "2.outlook:2,S"), mail("dmarc@outlook.com", pass("outlook.com"), Buffer.from(OUTLOOK), "text/xml", "o.xml"));
    writeFileSync(join(dir, "new", "3.tls"), mail("noreply-smtp-tls-reporting@google.com", pass("google.com"), gzipSync(TLS), "application/tlsrpt+gzip", "google.com!example.com!1764547200!1764633599!001.json.gz"));
    writeFileSync(join(dir, "new", "4.forged"), mail("noreply-dmarc-support@google.com", `${HOST}; dkim=fail header.d=google.com; dmarc=fail header.from=google.com`, gzipSync(GOOGLE), "application/gzip", "g.xml.gz"));
    let out = "";
    let err = "";
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    // Each source's reverse DNS, through a real knotd: ours has its PTR, one unknown source has one, the other none.
    const soa = "@ 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300\n@ 300 IN NS ns.example.com.\n";
    const dns = await startKnot([
      { apex: "113.0.203.in-addr.arpa", text: `$ORIGIN 113.0.203.in-addr.arpa.\n${soa}145 300 IN PTR mail.example.com.\n` },
      { apex: "100.51.198.in-addr.arpa", text: `$ORIGIN 100.51.198.in-addr.arpa.\n${soa}10 300 IN PTR dsl-10.isp.example.\n` },
      // example.com's SPF: its own range, and an ESP it declares.
      { apex: "example.com", text: `$ORIGIN example.com.\n${soa}@ 300 IN TXT "v=spf1 ip4:203.0.113.0/24 include:_spf.esp.example -all"\n` },
      { apex: "esp.example", text: `$ORIGIN esp.example.\n${soa}_spf 300 IN TXT "v=spf1 ip4:198.51.100.10 -all"\n` },
    ]);
    try {
      assert.equal(await main(["reports", "--maildir", dir, "--authserv-id", HOST, "--domain", "example.com", "--our-source", "203.0.113.0/24", "--resolver", `127.0.0.1:${dns.port}`, "--json"], io), 0, err);
      const json = out;
      out = "";
      assert.equal(await main(["reports", "--maildir", dir, "--authserv-id", HOST, "--domain", "example.com", "--our-source", "203.0.113.0/24", "--resolver", `127.0.0.1:${dns.port}`], io), 0, err);
      assert.match(out, /^  203\.0\.113\.145\s+mail\.example\.com\s+yes\s+150\s/m);
      assert.match(out, /^  198\.51\.100\.9\s+-\s+no\s+5\s/m);
      // --ours-from-spf: what example.com's published SPF authorizes is ours (its range, and the ESP's address through its include).
      out = "";
      assert.equal(await main(["reports", "--maildir", dir, "--authserv-id", HOST, "--domain", "example.com", "--ours-from-spf", "--resolver", `127.0.0.1:${dns.port}`, "--json"], io), 0, err);
      const bySpf = JSON.parse(out) as { dmarc: { oursAligned?: number; unknownMessages: number; sources: { sourceIp: string; ours: boolean }[] }[] };
      assert.deepEqual(bySpf.dmarc[0].sources.map((s) => [s.sourceIp, s.ours]), [["203.0.113.145", true], ["198.51.100.9", false], ["198.51.100.10", true]]);
      assert.equal(bySpf.dmarc[0].unknownMessages, 5);
      // A resolver that does not answer: "?" (not known), never "-" (none published).
      out = "";
      assert.equal(await main(["reports", "--maildir", dir, "--authserv-id", HOST, "--domain", "example.com", "--resolver", "127.0.0.1:9", "--json"], io), 0, err);
      assert.ok((JSON.parse(out) as { dmarc: { sources: { ptrUnknown?: string }[] }[] }).dmarc[0].sources.every((s) => typeof s.ptrUnknown === "string"), out);
      out = json;
    } finally {
      await dns.stop();
    }
    const summary = JSON.parse(out) as { dmarc: { messages: number; dmarcPass: number; sources: { sourceIp: string; ptr?: string[]; ptrUnknown?: string }[] }[]; tls: { successful: number; failed: number; failures: unknown[] }[]; setApart: { file: string; reason: string }[] };
    assert.deepEqual(summary.dmarc.map((d) => [d.messages, d.dmarcPass]), [[158, 150]]);
    assert.deepEqual(summary.dmarc[0].sources.map((s) => [s.sourceIp, s.ptr]), [["203.0.113.145", ["mail.example.com"]], ["198.51.100.9", []], ["198.51.100.10", ["dsl-10.isp.example"]]]);
    assert.deepEqual(summary.tls, [{ domain: "example.com", day: "2025-12-01", policyTypes: ["sts"], successful: 900, failed: 12, failures: [{ resultType: "sts-policy-fetch-error", receivingMx: "mail.example.com", sessions: 12, reporters: ["google.com"] }] }]);
    assert.deepEqual(summary.setApart.map((s) => s.file.split("/").pop()), ["4.forged"]);
    out = "";
    assert.equal(await main(["reports", "--maildir", dir, "--authserv-id", HOST, "--domain", "example.com", "--our-source", "203.0.113.0/24", "--no-ptr"], io), 0, err);
    assert.match(out, /^DMARC aggregate reports: 2; SMTP TLS reports: 1; failure reports: 0; set apart: 1; unreadable: 0$/m);
    assert.match(out, /^example\.com on 2025-12-01: 158 messages, 94\.9% passed DMARC; ours 100% aligned; unknown sources 8 \(5 let through\)$/m);
    assert.match(out, /^  203\.0\.113\.145\s+yes\s+150\s+150\s+150\s+100\s+none 150\s+google\.com, outlook\.com$/m);
    assert.match(out, /^example\.com on 2025-12-01 \(TLS, sts\): 900 sessions succeeded, 12 failed$/m);
    // The reporter is who the host proved sent the report (its From domain), not what the report calls itself.
    assert.match(out, /^  sts-policy-fetch-error\s+mail\.example\.com\s+12\s+google\.com$/m);
    assert.match(out, /4\.forged: did not authenticate on arrival/);
    // A report file an operator vouches for (parsedmarc's FastMail sample, gzip).
    out = "";
    const sample = join(__dirname, "fixtures", "reports", "parsedmarc", "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz");
    assert.equal(await main(["reports", "--file", sample, "--no-ptr"], io), 0, err);
    assert.match(out, /^DMARC aggregate reports: 1; SMTP TLS reports: 0; failure reports: 0; set apart: 0; unreadable: 0$/m);
    assert.ok(readFileSync(sample).length > 0);
    // Flags checked before anything is read.
    err = "";
    assert.equal(await main(["reports", "--maildir", dir], io), 2);
    assert.match(err, /--authserv-id = nothing: is required with --maildir/);
    assert.match(err, /--domain = nothing: is required with --maildir/);
    assert.equal(await main(["reports", "--file", sample, "--resolver", "dns.example.com"], io), 2);
    assert.match(err, /--resolver = "dns\.example\.com": must be an IP address/);
  });
});
