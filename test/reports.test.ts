/**
 * The report readers (components/reports): DMARC aggregate reports in RFC
 * 7489's schema and the dmarc-2.0 namespace, SMTP TLS reports (RFC 8460),
 * their gzip and zip attachments, and hostile input refused with its reason
 * and bounded memory (entity declarations, decompression bombs, huge
 * attachments, malformed dates, absurd nesting).
 */
import assert from "node:assert/strict";
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { parseAggregateReport, parseTlsReport, ReportRefused, unpackReport } from "../components/reports";

/** An aggregate report in RFC 7489 appendix C's shape, two rows: one aligned, one a stranger's. */
const RFC7489_REPORT = `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>receiver.example</org_name>
    <email>noreply-dmarc@receiver.example</email>
    <extra_contact_info>https://receiver.example/dmarc</extra_contact_info>
    <report_id>7cf1a2b3-2025-12-01</report_id>
    <date_range>
      <begin>1764547200</begin>
      <end>1764633599</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>Example.com</domain>
    <adkim>s</adkim>
    <aspf>r</aspf>
    <p>none</p>
    <sp>none</sp>
    <pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>203.0.113.145</source_ip>
      <count>1200</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>pass</dkim>
        <spf>pass</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>example.com</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>example.com</domain>
        <result>pass</result>
        <human_result></human_result>
      </dkim>
      <spf>
        <domain>example.com</domain>
        <result>pass</result>
      </spf>
    </auth_results>
  </record>
  <record>
    <row>
      <source_ip>2001:db8::bad</source_ip>
      <count>7</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>fail</dkim>
        <spf>fail</spf>
        <reason><type>forwarded</type><comment>list &amp; forwarder</comment></reason>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>example.com</header_from>
    </identifiers>
    <auth_results>
      <spf>
        <domain>spoofer.example</domain>
        <result>softfail</result>
      </spf>
    </auth_results>
  </record>
</feedback>
`;

/** The same kind of report in the dmarc-2.0 namespace (RFC 9990): np and testing, a selector, an SPF scope, envelope_from. */
const DMARC2_REPORT = `<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <version>1.0</version>
  <report_metadata>
    <org_name>mailbox.example</org_name>
    <email>dmarc-reports@mailbox.example</email>
    <report_id><![CDATA[r-42]]></report_id>
    <date_range><begin>1764547200</begin><end>1764633600</end></date_range>
    <generator>mailbox.example reporter 2.1</generator>
    <error>one record truncated</error>
  </report_metadata>
  <policy_published>
    <domain>example.org</domain>
    <p>quarantine</p>
    <sp>reject</sp>
    <np>reject</np>
    <testing>n</testing>
    <discovery_method>treewalk</discovery_method>
  </policy_published>
  <record>
    <row>
      <source_ip>203.0.113.145</source_ip>
      <count>40</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers>
      <envelope_from>Example.org</envelope_from>
      <header_from>example.org</header_from>
    </identifiers>
    <auth_results>
      <dkim><domain>example.org</domain><selector>pf2026q4</selector><result>pass</result></dkim>
      <spf><domain>mail.example.com</domain><scope>helo</scope><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>`;

/** RFC 8460 §4.9's example report, its shape and figures. */
const RFC8460_REPORT = JSON.stringify({
  "organization-name": "Company-X",
  "date-range": { "start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z" },
  "contact-info": "sts-reporting@company-x.example",
  "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
  policies: [
    {
      policy: { "policy-type": "sts", "policy-string": ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"], "policy-domain": "company-y.example", "mx-host": ["*.mail.company-y.example"] },
      summary: { "total-successful-session-count": 5326, "total-failure-session-count": 303 },
      "failure-details": [
        { "result-type": "certificate-expired", "sending-mta-ip": "2001:db8:abcd:0012::1", "receiving-mx-hostname": "mx1.mail.company-y.example", "failed-session-count": 100 },
        { "result-type": "starttls-not-supported", "sending-mta-ip": "2001:db8:abcd:0013::1", "receiving-mx-hostname": "mx2.mail.company-y.example", "receiving-ip": "203.0.113.56", "failed-session-count": 200, "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported" },
        { "result-type": "validation-failure", "sending-mta-ip": "198.51.100.62", "receiving-ip": "203.0.113.58", "receiving-mx-hostname": "mx-backup.mail.company-y.example", "failed-session-count": 3, "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED" },
      ],
    },
  ],
});

/** A one-file zip archive (deflated), as receivers attach reports. */
function zip(name: string, data: Buffer): Buffer {
  const body = deflateRawSync(data);
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + nameBytes.length, 12);
  eocd.writeUInt32LE(30 + nameBytes.length + body.length, 16);
  return Buffer.concat([local, nameBytes, body, central, nameBytes, eocd]);
}

const refused = (run: () => unknown, reason: RegExp) =>
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ReportRefused, String(error));
    assert.match(error.message, reason);
    return true;
  });

describe("DMARC aggregate reports", () => {
  it("reads RFC 7489's schema: who, when, the policy as published, each row with DMARC's and the raw results", () => {
    const report = parseAggregateReport(RFC7489_REPORT);
    assert.deepEqual(report, {
      schema: "rfc7489",
      orgName: "receiver.example",
      email: "noreply-dmarc@receiver.example",
      reportId: "7cf1a2b3-2025-12-01",
      begin: "2025-12-01T00:00:00.000Z",
      end: "2025-12-01T23:59:59.000Z",
      errors: [],
      policy: { domain: "example.com", p: "none", sp: "none", adkim: "s", aspf: "r", pct: 100 },
      records: [
        { sourceIp: "203.0.113.145", count: 1200, disposition: "none", dkimAligned: "pass", spfAligned: "pass", reasons: [], headerFrom: "example.com", dkim: [{ domain: "example.com", result: "pass" }], spf: [{ domain: "example.com", result: "pass" }] },
        { sourceIp: "2001:db8::bad", count: 7, disposition: "none", dkimAligned: "fail", spfAligned: "fail", reasons: [{ type: "forwarded", comment: "list & forwarder" }], headerFrom: "example.com", dkim: [], spf: [{ domain: "spoofer.example", result: "softfail" }] },
      ],
    });
  });

  it("reads the dmarc-2.0 namespace: np, testing, the selector, the SPF scope, the reporter's errors", () => {
    const report = parseAggregateReport(DMARC2_REPORT);
    assert.equal(report.schema, "dmarc-2.0");
    assert.equal(report.reportId, "r-42");
    assert.deepEqual(report.errors, ["one record truncated"]);
    assert.deepEqual(report.policy, { domain: "example.org", p: "quarantine", sp: "reject", np: "reject", adkim: "r", aspf: "r", testing: "n" });
    assert.deepEqual(report.records[0], {
      sourceIp: "203.0.113.145",
      count: 40,
      disposition: "none",
      dkimAligned: "pass",
      spfAligned: "fail",
      reasons: [],
      headerFrom: "example.org",
      envelopeFrom: "example.org",
      dkim: [{ domain: "example.org", selector: "pf2026q4", result: "pass" }],
      spf: [{ domain: "mail.example.com", scope: "helo", result: "pass" }],
    });
    // A prefixed root in the same namespace reads the same.
    const prefixed = DMARC2_REPORT.replace('<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">', '<d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0">').replace("</feedback>", "</d:feedback>");
    assert.equal(parseAggregateReport(prefixed).schema, "dmarc-2.0");
  });

  it("refuses what is not a report, or whose dates, addresses and counts do not read, saying which field", () => {
    refused(() => parseAggregateReport("<html><body>hi</body></html>"), /root element is <html>, not <feedback>/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("<begin>1764547200</begin>", "<begin>yesterday</begin>")), /date_range\/begin = "yesterday": not a time in Unix seconds/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("<begin>1764547200</begin>", "<begin>1764700000</begin>")), /date_range: end .* is before begin/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("<end>1764633599</end>", "<end>99999999999</end>")), /date_range\/end = 99999999999: not a report's time \(Unix seconds before 2100; milliseconds\?\)/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("203.0.113.145", "not-an-ip")), /record\[0\]\/row\/source_ip = "not-an-ip": not an IP address/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("<count>7</count>", "<count>-7</count>")), /record\[1\]\/row\/count = "-7": not a count/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("<report_id>7cf1a2b3-2025-12-01</report_id>", "")), /feedback\/report_metadata\/report_id is missing/);
    refused(() => parseAggregateReport(RFC7489_REPORT.replace("</feedback>", "")), /not readable XML: the document ends inside <feedback>/);
  });

  it("refuses entity declarations (billion laughs, external entities) before reading a byte of them, and absurd nesting", () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("")}]><feedback>&lol9;</feedback>`;
    refused(() => parseAggregateReport(laughs), /document type declaration at offset \d+ .*refused, as it is the only way to define entities/);
    refused(() => parseAggregateReport(`<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><feedback>&xxe;</feedback>`), /document type declaration/);
    refused(() => parseAggregateReport(`<feedback>&xxe;</feedback>`), /entity &xxe; near offset \d+ is not one of XML's five predefined entities/);
    refused(() => parseAggregateReport(`${"<a>".repeat(10_000)}${"</a>".repeat(10_000)}`), /nested deeper than 32 elements/);
    // A tag that would make a backtracking attribute pattern take its length squared: refused in one pass.
    const started = Date.now();
    refused(() => parseAggregateReport(`<feedback a= ${"x".repeat(2_000_000)}></feedback>`), /attribute a's value is not quoted/);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    // A ">" inside a quoted attribute value does not end the tag.
    assert.equal(parseAggregateReport(RFC7489_REPORT.replace("<feedback>", '<feedback note="a>b">')).orgName, "receiver.example");
  });
});

describe("report attachments", () => {
  it("unpacks gzip and zip by their magic bytes, whatever the name says, and takes the rest as text", () => {
    assert.deepEqual(unpackReport(gzipSync(RFC7489_REPORT)), { packing: "gzip", text: RFC7489_REPORT });
    assert.deepEqual(unpackReport(zip("receiver.example!example.com!1764547200!1764633599.xml", Buffer.from(RFC7489_REPORT))), {
      packing: "zip",
      name: "receiver.example!example.com!1764547200!1764633599.xml",
      text: RFC7489_REPORT,
    });
    assert.deepEqual(unpackReport(Buffer.from(RFC8460_REPORT)), { packing: "plain", text: RFC8460_REPORT });
    assert.equal(parseAggregateReport(unpackReport(zip("r.xml", Buffer.from(DMARC2_REPORT))).text).schema, "dmarc-2.0");
  });

  it("refuses decompression bombs at the ceiling, with bounded memory, and huge attachments unread", () => {
    const zeros = Buffer.alloc(256 * 2 ** 20);
    const gzipBomb = gzipSync(zeros, { level: 9 });
    const zipBomb = zip("bomb.xml", zeros);
    assert.ok(gzipBomb.length < 512 * 1024 && zipBomb.length < 512 * 1024, "256 MiB packed into under half a MiB");
    const before = process.memoryUsage().rss;
    refused(() => unpackReport(gzipBomb), /the gzip attachment unpacks to more than 50 MiB: refused \(a decompression bomb/);
    refused(() => unpackReport(zipBomb), /the zip attachment's bomb\.xml unpacks to more than 50 MiB/);
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    // zlib stops at the ceiling: what the refusals cost is at most about the ceiling, never the 256 MiB.
    assert.ok(grown < 120, `memory grew ${grown.toFixed(0)} MiB refusing two 256 MiB bombs`);
    refused(() => unpackReport(Buffer.alloc(11 * 2 ** 20, 0x41)), /the attachment is 11 MiB, over 10 MiB: refused unread/);
    refused(() => unpackReport(Buffer.concat([zip("a.xml", Buffer.from("a")).subarray(0, 40)])), /zip attachment has no central directory/);
  });
});

describe("SMTP TLS reports (RFC 8460)", () => {
  it("reads RFC 8460's example: the policy, its sessions, each failure by type and MX", () => {
    const report = parseTlsReport(RFC8460_REPORT);
    assert.deepEqual(report, {
      orgName: "Company-X",
      reportId: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
      contact: "sts-reporting@company-x.example",
      begin: "2016-04-01T00:00:00.000Z",
      end: "2016-04-01T23:59:59.000Z",
      policies: [
        {
          type: "sts",
          domain: "company-y.example",
          mxHosts: ["*.mail.company-y.example"],
          policyString: ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"],
          successfulSessions: 5326,
          failedSessions: 303,
          failures: [
            { resultType: "certificate-expired", sendingMtaIp: "2001:db8:abcd:0012::1", receivingMx: "mx1.mail.company-y.example", sessions: 100 },
            { resultType: "starttls-not-supported", sendingMtaIp: "2001:db8:abcd:0013::1", receivingMx: "mx2.mail.company-y.example", receivingIp: "203.0.113.56", sessions: 200 },
            { resultType: "validation-failure", sendingMtaIp: "198.51.100.62", receivingMx: "mx-backup.mail.company-y.example", receivingIp: "203.0.113.58", sessions: 3, reasonCode: "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED" },
          ],
        },
      ],
    });
    assert.equal(parseTlsReport(unpackReport(gzipSync(RFC8460_REPORT)).text).policies[0].failedSessions, 303);
  });

  it("refuses what is not one, with the field", () => {
    refused(() => parseTlsReport("{not json"), /^not JSON/);
    refused(() => parseTlsReport(RFC8460_REPORT.replace("2016-04-01T00:00:00Z", "April 1st")), /date-range\.start-datetime = "April 1st": not an RFC 3339 date-time/);
    refused(() => parseTlsReport(RFC8460_REPORT.replace('"total-failure-session-count":303', '"total-failure-session-count":-1')), /policies\[0\]\.summary\.total-failure-session-count = -1: not a count/);
    refused(() => parseTlsReport("[]"), /not a JSON object/);
  });
});
