/**
 * Reading complaints (components/sending/arf.ts): ARF reports (RFC 5965)
 * from Yahoo, Return Path, abusix and DMARC reporters, and Microsoft's JMRP
 * format, from Sisimai's public corpus (test/fixtures/complaints/sisimai/,
 * BSD-2-Clause), each matched to the recipients Sisimai itself finds; and
 * whether a report authenticated on arrival (a forged one changes nothing).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { complaintAuthenticated, parseComplaint } from "../components/sending/arf";

const CORPUS = path.join(__dirname, "fixtures", "complaints", "sisimai");
const sample = (name: string) => fs.readFileSync(path.join(CORPUS, name), "latin1");
/** Sisimai's placeholder where a report names no recipient. */
const UNDISCLOSED = "undisclosed-recipient-in-headers@libsisimai.org.invalid";
/** Not a complaint format Postforge reads: iCloud's plain-text "unsubscribe" notice. */
const NOT_READ = new Set(["arf-26.eml"]);

describe("parseComplaint", () => {
  it("reads Yahoo's feedback loop report: type, agent, the recipient, the original message", () => {
    const report = parseComplaint(sample("arf-02.eml"))!;
    assert.equal(report.feedbackType, "abuse");
    assert.equal(report.userAgent, "Yahoo!-Mail-Feedback/1.0");
    assert.deepEqual(report.recipients, ["this-local-part-does-not-exist-on-yahoo@yahoo.com"]);
    assert.equal(report.originalMessageId, "<000000000000000000000000.smtp@example.com>");
    assert.equal(report.fromDomain, "example.com");
  });

  it("reads Microsoft's JMRP report, which has no feedback-report part", () => {
    const report = parseComplaint(sample("arf-22.eml"))!;
    assert.deepEqual(report, {
      feedbackType: "abuse",
      userAgent: "Microsoft JMRP",
      recipients: ["kijitora@example.com"],
      originalMessageId: "<0000000000fffffffff0000000000000@example.com>",
      sourceIp: "192.0.2.22",
      fromDomain: "example.com",
    });
  });

  it("finds the recipients Sisimai finds, in every report of its corpus", () => {
    const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith(".eml")).sort();
    assert.equal(files.length, 17);
    const lines = execFileSync("perl", [path.join(__dirname, "support", "sisimai.pl"), ...files.map((f) => path.join(CORPUS, f))], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; recipient?: string });
    for (const file of files) {
      const theirs = lines.filter((l) => path.basename(l.file) === file && l.recipient && l.recipient !== UNDISCLOSED).map((l) => l.recipient!);
      const ours = parseComplaint(sample(file));
      if (NOT_READ.has(file)) {
        assert.equal(ours, undefined, file);
        continue;
      }
      assert.ok(ours, `${file} is read`);
      assert.deepEqual([...ours.recipients].sort(), [...theirs].sort(), file);
    }
  });

  it("is undefined for a message that is no report", () => {
    assert.equal(parseComplaint("From: a@example.com\nSubject: hi\n\nhello\n"), undefined);
  });
});

describe("complaintAuthenticated", () => {
  // Yahoo's report from feedback@arf.mail.yahoo.com, with the results our host would add on arrival.
  const withResults = (...fields: string[]) => `${fields.map((f) => `Authentication-Results: ${f}`).join("\n")}\n${sample("arf-02.eml")}`;
  const host = "mail.example.com";

  it("trusts the host's own results: DMARC, or DKIM or SPF aligned with the report's From", () => {
    assert.equal(complaintAuthenticated(withResults(`${host}; dkim=pass header.d=yahoo.com header.s=arf`), host), true);
    assert.equal(complaintAuthenticated(withResults(`${host}; spf=pass smtp.mailfrom=feedback@arf.mail.yahoo.com`), host), true);
    assert.equal(complaintAuthenticated(withResults(`${host}; dmarc=pass header.from=arf.mail.yahoo.com`), host), true);
  });

  it("reads the results as OpenDKIM writes them: folded, with a comment holding a ';' (the host's real field, from test/mta-sending-ops.test.ts)", () => {
    const openDkim = `${host};\n\tdkim=pass (2048-bit key; unprotected) header.d=yahoo.com header.i=@yahoo.com header.a=rsa-sha256 header.s=s2048 header.b=G4PK9iTL;\n\tdkim-atps=neutral`;
    assert.equal(complaintAuthenticated(withResults(openDkim), host), true);
    // A comment cannot smuggle a result in: "(dkim=pass header.d=yahoo.com)" is a comment, not a result.
    assert.equal(complaintAuthenticated(withResults(`${host}; dkim=fail (dkim=pass header.d=yahoo.com; x) header.d=yahoo.com`), host), false);
    assert.equal(complaintAuthenticated(withResults(`${host}; dkim=pass (good \\) signature; really) header.d=yahoo.com`), host), true);
  });

  it("is forged without them: no results, another host's, a failing or unaligned signature", () => {
    assert.equal(complaintAuthenticated(sample("arf-02.eml"), host), false);
    // A field the sender wrote itself, naming another authserv-id, proves nothing (RFC 8601 §5).
    assert.equal(complaintAuthenticated(withResults(`mx.attacker.example; dkim=pass header.d=yahoo.com`), host), false);
    assert.equal(complaintAuthenticated(withResults(`${host}; dkim=fail header.d=yahoo.com`), host), false);
    assert.equal(complaintAuthenticated(withResults(`${host}; dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=x@attacker.example`), host), false);
    // Anyone can sign a report of their own: a passing, aligned signature from a domain that runs no feedback loop proves nothing.
    const own = withResults(`${host}; dkim=pass header.d=attacker.example; dmarc=pass header.from=attacker.example`).replace("From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>", "From: fbl@attacker.example");
    assert.equal(complaintAuthenticated(own, host), false);
    assert.equal(complaintAuthenticated(own, host, ["attacker.example"]), true, "unless named a reporter");
  });
});
