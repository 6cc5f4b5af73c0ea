/**
 * The report readers over real reports (parsedmarc's public samples: Outlook.com,
 * FastMail, IKEA and others, RFC 9990 samples, broken ones; Apache 2.0, see
 * test/fixtures/reports/parsedmarc/NOTICE.md), and against an independent
 * reader from Debian: dmarc-cat reads every plain XML sample too, and each
 * report it reads must say the same (reporter, span, domain, policy, and
 * each row's address, count, From, authenticated domain and DKIM and SPF
 * results). Agreement is reported in the test output.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parseAggregateReport, parseFailureReport, parseTlsReport, ReportRefused, unpackReport, type AggregateReport } from "../components/reports";

const DIR = join(__dirname, "fixtures", "reports", "parsedmarc");
const files = readdirSync(DIR).filter((f) => !/^(LICENSE|NOTICE\.md)$/.test(f)).sort();
const aggregate = files.filter((f) => !f.endsWith(".json") && !f.endsWith(".eml"));

/** The samples that are not readable reports, and why: each reader must refuse them (dmarc-cat prints nothing for them either). */
const BROKEN: Record<string, RegExp> = {
  // IKEA's report wrapped in an unclosed <xs:schema> element: not well-formed XML.
  "ikea.com!example.de!1538690400!1538776800.xml": /not readable XML: the document ends inside <schema>/,
  // An address written as an element: <email><bad-xml@bad-xml.net></email>.
  "invalid_xml.xml": /not readable XML: a malformed attribute in the tag at offset 112/,
};

/** One report as dmarc-cat prints it (-N: addresses not resolved). */
interface DmarcCatReport {
  org: string;
  email: string;
  from: string;
  to: string;
  domain: string;
  policy: { p: string; adkim: string; aspf: string };
  rows: { ip: string; count: number; from: string; authDomain: string; dkim: string; spf: string }[];
}

const scratch = mkdtempSync(join(tmpdir(), "postforge-dmarc-cat-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** dmarc-cat's reading of a sample (it wants a report's file name, receiver!domain!begin!end.xml), or undefined when it reads none. */
function dmarcCat(file: string): DmarcCatReport | undefined {
  const copy = join(scratch, "receiver.example!example.com!1!2.xml");
  copyFileSync(join(DIR, file), copy);
  const done = spawnSync("dmarc-cat", ["-N", "-j", "1", copy], { encoding: "utf8", timeout: 60_000 });
  assert.equal(done.error, undefined, `dmarc-cat runs (install .ci/run's packages): ${done.error?.message}\n${done.stderr}`);
  const lines = done.stdout.split("\n");
  const by = lines.map((l) => /^Reporting by: (.*) — (.*)$/.exec(l)).find(Boolean);
  if (!by) return undefined;
  const span = lines.map((l) => /^From (.+) \+0000 UTC to (.+) \+0000 UTC$/.exec(l)).find(Boolean)!;
  const policy = lines.map((l) => /^Policy: p=(\w*); dkim=(\w*); spf=(\w*)$/.exec(l)).find(Boolean)!;
  const header = lines.findIndex((l) => l.startsWith("IP "));
  const columns = ["IP", "Count", "From", "RFrom", "RDKIM", "RSPF"].map((c) => lines[header].indexOf(c));
  const cell = (line: string, i: number) => line.slice(columns[i], columns[i + 1] ?? line.length).trim();
  const rows = lines
    .slice(header + 1)
    .filter((l) => l.trim() !== "")
    .map((l) => ({ ip: cell(l, 0), count: Number(cell(l, 1)), from: cell(l, 2), authDomain: cell(l, 3), dkim: cell(l, 4), spf: cell(l, 5) }));
  return {
    org: by[1],
    email: by[2],
    from: span[1],
    to: span[2],
    domain: lines.map((l) => /^Domain: (.*)$/.exec(l)).find(Boolean)![1],
    policy: { p: policy[1], adkim: policy[2], aspf: policy[3] },
    rows,
  };
}

/** Our reading, in dmarc-cat's terms: the authenticated domain is the first DKIM result's, else the first SPF result's. */
function asDmarcCat(r: AggregateReport, dmarcCatOrg: string, alignmentGiven: boolean): DmarcCatReport {
  const utc = (iso: string) => iso.replace("T", " ").replace(/\.000Z$/, "");
  return {
    // dmarc-cat prints an empty org_name as it is; ours names the reporter by its address's domain then.
    org: dmarcCatOrg === "" ? "" : r.orgName,
    email: r.email ?? "",
    from: utc(r.begin),
    to: utc(r.end),
    domain: r.policy.domain,
    policy: { p: r.policy.p, adkim: alignmentGiven ? r.policy.adkim : "", aspf: alignmentGiven ? r.policy.aspf : "" },
    rows: r.records.map((x) => ({ ip: x.sourceIp, count: x.count, from: x.headerFrom, authDomain: x.dkim[0]?.domain || x.spf[0]?.domain || "", dkim: x.dkim[0]?.result ?? "", spf: x.spf[0]?.result ?? "" })),
  };
}

describe("real DMARC aggregate reports (parsedmarc's samples)", () => {
  it("reads every sample, plain, gzip or zip, and refuses the broken ones with the reason", () => {
    assert.ok(aggregate.length >= 14, `${aggregate.length} samples`);
    const packings = new Set<string>();
    for (const file of aggregate) {
      const unpacked = unpackReport(readFileSync(join(DIR, file)));
      packings.add(unpacked.packing);
      if (BROKEN[file]) {
        assert.throws(() => parseAggregateReport(unpacked.text), (e: unknown) => e instanceof ReportRefused && BROKEN[file].test(e.message), file);
        continue;
      }
      const report = parseAggregateReport(unpacked.text);
      assert.ok(report.records.length > 0 && report.records.every((r) => r.count > 0), file);
    }
    assert.deepEqual([...packings].sort(), ["gzip", "plain", "zip"]);
    // RFC 9990's sample in its namespace, and a reporter's DMARCbis report that says version 2.0 without one.
    assert.equal(parseAggregateReport(readFileSync(join(DIR, "rfc9990-sample.xml"), "utf8")).schema, "dmarc-2.0");
    assert.equal(parseAggregateReport(readFileSync(join(DIR, "rfc9990-example.net!example.com!1700000000!1700086399.xml"), "utf8")).schema, "dmarc-2.0");
    // A reporter that left org_name empty is named by its address's domain.
    assert.equal(parseAggregateReport(readFileSync(join(DIR, "!example.com!1538204542!1538463818.xml"), "utf8")).orgName, "accurateplastics.com");
  });

  it("says what dmarc-cat (Debian) says of every report it reads, and both refuse the broken ones", (t) => {
    let compared = 0;
    const plain = aggregate.filter((f) => f.endsWith(".xml"));
    for (const file of plain) {
      const theirs = dmarcCat(file);
      if (BROKEN[file]) {
        assert.equal(theirs, undefined, `dmarc-cat reads ${file}`);
        continue;
      }
      assert.ok(theirs, `dmarc-cat reads no report from ${file}`);
      if (!theirs) continue;
      const text = readFileSync(join(DIR, file), "utf8");
      const ours = asDmarcCat(parseAggregateReport(text), theirs.org, /<adkim>/.test(text));
      // dmarc-cat sorts rows by count, most first.
      const order = (rows: DmarcCatReport["rows"]) => [...rows].sort((a, b) => b.count - a.count || a.ip.localeCompare(b.ip));
      assert.deepEqual({ ...ours, rows: order(ours.rows) }, { ...theirs, rows: order(theirs.rows) }, file);
      compared++;
    }
    t.diagnostic(`dmarc-cat agrees on ${compared} of the ${compared} reports it reads (${plain.length - compared} broken samples refused by both)`);
    assert.equal(compared, plain.length - Object.keys(BROKEN).length);
  });
});

describe("real SMTP TLS reports (parsedmarc's samples)", () => {
  it("reads RFC 8460's example, Mail.ru's and a generic one, with their session counts", () => {
    const read = (f: string) => parseTlsReport(readFileSync(join(DIR, f), "utf8"));
    const rfc = read("rfc8460.json");
    assert.equal(rfc.orgName, "Company-X");
    assert.deepEqual(rfc.policies.map((p) => [p.type, p.domain, p.successfulSessions, p.failedSessions, p.failures.map((f) => `${f.resultType}:${f.sessions}`)]), [
      ["sts", "company-y.example", 5326, 303, ["certificate-expired:100", "starttls-not-supported:200", "validation-failure:3"]],
    ]);
    // Mail.ru could not fetch the MTA-STS policy (the case Postforge's serving of it is for). Its details list two
    // failures where its summary counts one: the summary is the count to use, the details say what went wrong.
    const mailru = read("mail.ru.json").policies[0];
    assert.deepEqual([mailru.type, mailru.domain, mailru.successfulSessions, mailru.failedSessions], ["sts", "example.com", 0, 1]);
    assert.deepEqual(mailru.failures, [
      { resultType: "sts-policy-fetch-error", sessions: 1, reasonCode: "bad https response code: 404" },
      { resultType: "sts-policy-fetch-error", sessions: 1, reasonCode: "bad https response code: 500" },
    ]);
    const generic = read("smtp_tls.json");
    assert.ok(generic.policies.length > 0 && generic.policies.every((p) => p.successfulSessions + p.failedSessions > 0));
  });
});

describe("real DMARC failure reports (parsedmarc's samples, RFC 6591)", () => {
  it("reads LinkedIn's, Netease's (base64, with Identity-Alignment) and an Outlook-relayed one; a plain-text notice is none", () => {
    const read = (f: string) => parseFailureReport(readFileSync(join(DIR, f), "latin1"));
    assert.deepEqual(read("dmarc_ruf_report_linkedin.eml"), {
      authFailure: ["dmarc"],
      reportedDomain: "example.com",
      sourceIp: "10.10.10.10",
      arrivalDate: "Tue, 30 Apr 2019 02:09:00 +0000",
      deliveryResult: "delivered",
      originalRcptTo: ["recipient@linkedin.com"],
      subject: "Subject line, could be UTF8 encoded",
    });
    const netease = read("[Netease DMARC Failure Report] Rent Reminder.eml")!;
    assert.deepEqual([netease.reportedDomain, netease.sourceIp, netease.dkimDomain, netease.identityAlignment, netease.deliveryResult], ["cardinal.com", "167.89.69.24", "entrata.com", ["spf", "dkim"], "delivered"]);
    const relayed = read("DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml")!;
    assert.deepEqual([relayed.reportedDomain, relayed.authFailure, relayed.originalMailFrom, relayed.deliveryResult], ["domain.de", ["dmarc"], "sharepoint@domain.de", "smg-policy-action"]);
    assert.equal(read("exim_plain_text_only_no_arf_part.eml"), undefined);
  });
});
