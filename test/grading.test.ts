/**
 * Findings are graded by the one rule the README states ("How findings are
 * graded"): a MUST violation, or what makes receivers fail or ignore a
 * record, fails; a SHOULD or a best-practice gap warns; what Postforge
 * publishes itself may be held stricter, and then the message says it is
 * Postforge's rule and names the setting to change. These pin the grades
 * the audit changed.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { dkimChecks } from "../cli/verify/checks/dkim";
import { spfTreeChecks } from "../cli/verify/checks/spf";
import { starttlsCheck } from "../cli/verify/checks/tls";
import { checkDkim, dkimRecord } from "../components/dns/protocols/dkim";
import { RecordBuildError } from "../components/dns/findings";

const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const record1024 = `v=DKIM1; k=rsa; p=${rsa1024}`;

describe("grades", () => {
  it("an RSA key of 1024 bits on someone's domain is a SHOULD (RFC 8301 §3.2): verify warns, and names no setting", () => {
    const [finding] = checkDkim(record1024).filter((f) => f.code === "dkim.rsa.below-2048");
    assert.equal(finding.severity, "warning");
    assert.match(finding.message, /RFC 8301 §3\.2 says signers SHOULD use at least 2048/);
    assert.doesNotMatch(finding.message, /allowLegacy/);
    const checks = dkimChecks("example.com", "s1", { ok: true, value: [record1024] }, undefined, { askedByName: true });
    assert.deepEqual(checks.map((c) => [c.id, c.status]), [["dkim.s1.present", "pass"], ["dkim.s1.valid", "warn"]]);
  });

  it("a 1024-bit key Postforge would publish is refused by Postforge's rule, naming the setting that allows it; with it, a warning", () => {
    const key = { selector: "s1", algorithm: "rsa" as const, publicKey: rsa1024 };
    assert.throws(
      () => dkimRecord("example.com", key, 3600),
      (e: unknown) => e instanceof RecordBuildError && /Postforge publishes RSA keys of at least 2048 bits \(its rule: RFC 8301 §3\.2 makes 2048 a SHOULD\); replace it, or set allowLegacy1024RsaForOldReceivers: true on this key/.test(e.message),
    );
    assert.ok(dkimRecord("example.com", { ...key, allowLegacy1024RsaForOldReceivers: true }, 3600));
  });

  it("a selector asked for by name that is revoked, or absent, is never a pass", () => {
    const revoked = dkimChecks("example.com", "s1", { ok: true, value: ["v=DKIM1; k=rsa; p="] }, undefined, { askedByName: true });
    assert.deepEqual(revoked.map((c) => [c.id, c.status]), [["dkim.s1.present", "pass"], ["dkim.s1.valid", "fail"]]);
    assert.match(revoked[1].message, /revoked \(empty p=\): signatures with selector "s1" fail/);
    const absent = dkimChecks("example.com", "s1", { ok: false, failure: "nxdomain", message: "no" }, undefined, { askedByName: true });
    assert.deepEqual(absent.map((c) => c.status), ["fail"]);
  });

  it("an include that could not be read is not reported as valid SPF", () => {
    const checks = spfTreeChecks("example.com", { lookups: 1, voidLookups: 0, problems: [], unanswered: ["DNS query for _spf.esp.example TXT timed out"], visited: ["example.com"] });
    const includes = checks.find((c) => c.id === "spf.includes")!;
    assert.equal(includes.status, "fail");
    assert.match(includes.message, /could not be read, so receivers may get temperror: DNS query for _spf\.esp\.example TXT timed out/);
  });

  it("an MX without STARTTLS warns (RFC 3207 makes TLS optional), and fails under an enforced MTA-STS policy (RFC 8461 §5)", () => {
    const probe = { target: "192.0.2.25:25", extensions: ["PIPELINING", "8BITMIME"] };
    assert.equal(starttlsCheck("example.com", "mx.example.com", probe).status, "warn");
    const enforced = starttlsCheck("example.com", "mx.example.com", probe, true);
    assert.equal(enforced.status, "fail");
    assert.match(enforced.message, /MTA-STS policy is enforce: senders refuse to deliver to it \(RFC 8461 §5\)/);
  });
});
