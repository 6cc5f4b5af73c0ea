/**
 * DMARC reports arriving at the host, with the real daemons: a report mailed
 * to dmarc-rua@ over SMTP by a loopback "reporter" (Yahoo, signing with the
 * lab's key for yahoo.com, published in the lab's DNS) lands in the role
 * mailbox with the host's own Authentication-Results (OpenDKIM verifies it,
 * from the lab's signed root), and `postforge reports` over that Maildir
 * counts it with its figures; the same report unsigned, from a stranger, is
 * set apart.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { main } from "../cli/postforge";
import { PATHS } from "../components/mta-host";
import type { KnotServer } from "./support/dns-tools";
import { signedByYahoo, YAHOO_ZONE } from "./support/feedback-loop";
import { LAB, requireLab } from "./support/lab";
import type { MailHostDaemons } from "./support/mta-daemons";
import { createKeys, HOST, startFixtureHost, startLabDns } from "./support/mta-e2e-fixture";
import { deliver } from "./support/mta-lab-clients";
import { run } from "./support/mta-tools";

const REPORT = `<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata><org_name>Yahoo</org_name><email>dmarchelp@yahooinc.com</email><report_id>1764547200.912345</report_id><date_range><begin>1764547200</begin><end>1764633599</end></date_range></report_metadata>
  <policy_published><domain>example.com</domain><adkim>s</adkim><aspf>r</aspf><p>reject</p><pct>100</pct></policy_published>
  <record><row><source_ip>${LAB.MAIL_HOST}</source_ip><count>312</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers><auth_results><dkim><domain>example.com</domain><selector>pf2026q4</selector><result>pass</result></dkim><spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>
  <record><row><source_ip>192.0.2.66</source_ip><count>4</count><policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers><auth_results><spf><domain>spoofer.example</domain><result>pass</result></spf></auth_results></record>
</feedback>`;

function reportMessage(id: string): string {
  const attachment = gzipSync(REPORT).toString("base64").match(/.{1,76}/g)!.join("\r\n");
  return [
    "From: Yahoo DMARC <noreply@dmarc.yahoo.com>",
    "To: dmarc-rua@example.com",
    "Subject: Report Domain: example.com Submitter: yahoo.com Report-ID: <1764547200.912345>",
    "Date: Tue, 02 Dec 2025 04:00:00 +0000",
    `Message-ID: <${id}@dmarc.yahoo.com>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="y1"',
    "",
    "--y1",
    "Content-Type: text/plain",
    "",
    "This is an aggregate report from Yahoo.",
    "--y1",
    'Content-Type: application/gzip; name="yahoo.com!example.com!1764547200!1764633599.xml.gz"',
    'Content-Disposition: attachment; filename="yahoo.com!example.com!1764547200!1764633599.xml.gz"',
    "Content-Transfer-Encoding: base64",
    "",
    attachment,
    "--y1--",
    "",
  ].join("\r\n");
}

let knot: KnotServer | undefined;
let host: MailHostDaemons | undefined;

describe("DMARC reports mailed to the host are read from its role mailbox, and only the authenticated ones count", { timeout: 180_000 }, () => {
  before(async () => {
    requireLab("the reports end-to-end test");
    const keys = await createKeys();
    // Yahoo's reports come from dmarc.yahoo.com: a domain that resolves, as the host's sender checks ask.
    knot = await startLabDns(keys, [{ ...YAHOO_ZONE, records: [...YAHOO_ZONE.records, { name: "dmarc.yahoo.com", type: "A" as const, ttl: 300, purpose: "host-address" as const, address: LAB.RECEIVERS[1] }] }]);
    host = await startFixtureHost(keys);
  });
  after(async () => {
    await host?.stop();
    await knot?.stop();
  });

  it("counts the report Yahoo signed, with its figures, and sets the unsigned copy apart", async () => {
    // cron's apply has run on the new host (its first run takes the mailboxes as they are).
    const mailops = async () => {
      const result = await run(host!.root.at(PATHS.mailopsTool), ["apply"], 60_000, host!.toolEnv());
      assert.ok(result.ok, result.output);
    };
    await mailops();
    const signed = await deliver({ from: LAB.RECEIVERS[1], helo: "mta.yahoo.com", envelopeFrom: "noreply@dmarc.yahoo.com", recipients: ["dmarc-rua@example.com"], data: await signedByYahoo(reportMessage("signed")) });
    assert.ok(signed.accepted, signed.final.text);
    const forged = await deliver({ envelopeFrom: "noreply@dmarc.yahoo.com", recipients: ["dmarc-rua@example.com"], data: reportMessage("forged") });
    assert.ok(forged.accepted, forged.final.text);
    const maildir = join(host!.root.at(PATHS.mailRoot), "example.com", "dmarc-rua", "Maildir");
    const deadline = Date.now() + 30_000;
    while ((await readdir(join(maildir, "new")).catch(() => [] as string[])).length < 2) {
      if (Date.now() > deadline) throw new Error(`the two reports did not arrive in ${maildir}\n${(await host!.postfixLog()).slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    let out = "";
    let err = "";
    const code = await main(["reports", "--maildir", maildir, "--authserv-id", HOST, "--domain", "example.com", "--our-source", `${LAB.MAIL_HOST}/32`, "--json"], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
    assert.equal(code, 0, err);
    const summary = JSON.parse(out) as { dmarc: { domain: string; day: string; messages: number; dmarcPass: number; oursAligned: number; unknownMessages: number; unknownDelivered: number; sources: { sourceIp: string; ours: boolean; messages: number; reporters: string[] }[] }[]; setApart: { file: string; reason: string }[] };
    assert.deepEqual(
      summary.dmarc.map((d) => ({ domain: d.domain, day: d.day, messages: d.messages, dmarcPass: d.dmarcPass, oursAligned: d.oursAligned, unknown: d.unknownMessages, letThrough: d.unknownDelivered })),
      [{ domain: "example.com", day: "2025-12-01", messages: 316, dmarcPass: 312, oursAligned: 100, unknown: 4, letThrough: 0 }],
    );
    assert.deepEqual(summary.dmarc[0].sources.map((s) => [s.sourceIp, s.ours, s.messages, s.reporters]), [[LAB.MAIL_HOST, true, 312, ["dmarc.yahoo.com"]], ["192.0.2.66", false, 4, ["dmarc.yahoo.com"]]]);
    assert.equal(summary.setApart.length, 1, JSON.stringify(summary.setApart));
    assert.match(summary.setApart[0].reason, /^did not authenticate on arrival/);

    // The host counts the same, beside its other figures: cron's apply reads what is new in the role mailboxes.
    await mailops();
    await mailops();
    const sums = new Map<string, number>();
    for (const call of await host!.cloudwatchCalls())
      for (const d of call.data) {
        const key = [d.MetricName, ...d.Dimensions.filter((x) => x.Name !== "Host").map((x) => `${x.Name}=${x.Value}`)].join("|");
        sums.set(key, (sums.get(key) ?? 0) + d.Value);
      }
    assert.deepEqual(
      ["DmarcReportedMessages", "DmarcReportedMessages|Domain=example.com", "DmarcReportedPassed", "DmarcReportedPassed|Domain=example.com", "ReportsSetApart", "TlsReportedFailures"].map((k) => [k, sums.get(k)]),
      [
        ["DmarcReportedMessages", 316],
        ["DmarcReportedMessages|Domain=example.com", 316],
        ["DmarcReportedPassed", 312],
        ["DmarcReportedPassed|Domain=example.com", 312],
        ["ReportsSetApart", 1],
        ["TlsReportedFailures", 0],
      ],
    );
  });
});
