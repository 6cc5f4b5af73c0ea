import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkMtaStsCoversMx,
  checkMtaStsPolicy,
  checkMtaStsRecord,
  mtaStsPolicyId,
  mtaStsPolicyText,
  mtaStsRecord,
  mxPatternMatches,
  type MtaStsIntent,
} from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

const intent: MtaStsIntent = { mode: "enforce", mx: ["MX1.example.com", "*.mail.example.net"], maxAge: 1209600 };

describe("MTA-STS policy", () => {
  it("renders CRLF lines in order", () => {
    assert.equal(
      mtaStsPolicyText(intent),
      "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.net\r\nmax_age: 1209600\r\n",
    );
    assert.deepEqual(checkMtaStsPolicy(mtaStsPolicyText(intent)), []);
  });

  it("derives an alphanumeric id of at most 32 characters from the policy", () => {
    const id = mtaStsPolicyId(mtaStsPolicyText(intent));
    assert.match(id, /^[a-f0-9]{20}$/);
    assert.equal(mtaStsPolicyId(mtaStsPolicyText(intent)), id);
  });

  it("builds the _mta-sts record", () => {
    const id = mtaStsPolicyId(mtaStsPolicyText(intent));
    assert.deepEqual(mtaStsRecord("Example.com", intent, 300), {
      name: "_mta-sts.example.com",
      type: "TXT",
      ttl: 300,
      purpose: "mta-sts",
      strings: [`v=STSv1; id=${id}`],
    });
    assert.deepEqual(checkMtaStsRecord(`v=STSv1; id=${id}`), []);
  });

  it("changes the id when, and only when, the policy changes", () => {
    const field = fc.record({
      mode: fc.constantFrom("enforce" as const, "testing" as const),
      mx: fc.uniqueArray(fc.constantFrom("mx1.example.com", "mx2.example.com", "*.example.net", "mx.example.org"), { minLength: 1 }),
      maxAge: fc.integer({ min: 604800, max: 31557600 }),
    });
    fc.assert(
      fc.property(field, field, (a, b) => {
        const same = mtaStsPolicyText(a) === mtaStsPolicyText(b);
        const idA = mtaStsRecord("example.com", a, 300).strings[0];
        const idB = mtaStsRecord("example.com", b, 300).strings[0];
        assert.equal(idA === idB, same);
      }),
    );
    // Spelling the same policy differently (case, trailing dot) does not change the id.
    assert.deepEqual(
      mtaStsRecord("example.com", { ...intent, mx: ["mx1.example.com.", "*.MAIL.example.net"] }, 300),
      mtaStsRecord("example.com", intent, 300),
    );
  });

  it("judges max_age, mode and mx", () => {
    const policy = (lines: string[]) => lines.map((l) => `${l}\r\n`).join("");
    assert.deepEqual(codes(checkMtaStsPolicy(policy(["version: STSv1", "mode: enforce", "mx: mx.example.com", "max_age: 31557601"]))), ["mta-sts.policy.max-age"]);
    assert.deepEqual(codes(checkMtaStsPolicy(policy(["version: STSv1", "mode: enforce", "mx: mx.example.com", "max_age: 86400"]))), ["mta-sts.policy.max-age-short"]);
    assert.deepEqual(codes(checkMtaStsPolicy(policy(["version: STSv1", "mode: enforce", "max_age: 604800"]))), ["mta-sts.policy.mx-missing"]);
    assert.deepEqual(checkMtaStsPolicy(policy(["version: STSv1", "mode: none", "max_age: 604800"])), []);
    assert.deepEqual(codes(checkMtaStsPolicy(policy(["version: STSv1", "mode: strict", "mx: mx.example.com", "max_age: 604800"]))), ["mta-sts.policy.mode"]);
    assert.deepEqual(codes(checkMtaStsPolicy(policy(["version: STSv2", "mode: testing", "mx: *.*.example.com", "max_age: 604800"]))), [
      "mta-sts.policy.version",
      "mta-sts.policy.testing",
      "mta-sts.policy.mx-invalid",
    ]);
    // LF line endings are accepted.
    assert.deepEqual(checkMtaStsPolicy("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n"), []);
  });

  it("refuses a bad intent with paths", () => {
    const errors = buildErrors(() => mtaStsRecord("example.com", { mode: "enforce", mx: ["mx.example.com", "bad host"], maxAge: 604800 }, 300));
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [["mta-sts.policy.mx-invalid", "mx[1]"]]);
    const age = buildErrors(() => mtaStsRecord("example.com", { mode: "enforce", mx: ["mx.example.com"], maxAge: 40000000 }, 300));
    assert.deepEqual(age.map((f) => [f.code, f.path]), [["mta-sts.policy.max-age", "maxAge"]]);
    const none = buildErrors(() => mtaStsRecord("example.com", { mode: "enforce", mx: [], maxAge: 604800 }, 300));
    assert.deepEqual(none.map((f) => [f.code, f.path]), [["mta-sts.policy.mx-missing", "mx"]]);
  });

  it("judges the TXT record", () => {
    assert.deepEqual(codes(checkMtaStsRecord("v=STSv1;id=abc123;")), []);
    assert.deepEqual(codes(checkMtaStsRecord("id=abc; v=STSv1")), ["mta-sts.record.version"]);
    assert.deepEqual(codes(checkMtaStsRecord("v=STSv1")), ["mta-sts.record.id-missing"]);
    assert.deepEqual(codes(checkMtaStsRecord(`v=STSv1; id=${"a".repeat(33)}`)), ["mta-sts.record.id-invalid"]);
    assert.deepEqual(codes(checkMtaStsRecord("v=STSv1; id=abc-1")), ["mta-sts.record.id-invalid"]);
  });
});

describe("MTA-STS mx patterns", () => {
  it("matches RFC 8461 §4.1 wildcards on exactly one leftmost label", () => {
    const cases: [string, string, boolean][] = [
      ["mx1.example.com", "mx1.example.com", true],
      ["mx1.example.com", "MX1.Example.COM.", true],
      ["mx1.example.com", "mx2.example.com", false],
      ["*.example.com", "mx1.example.com", true],
      ["*.example.com", "a.b.example.com", false],
      ["*.example.com", "example.com", false],
      ["*.example.com", "mx1.example.com.evil.net", false],
      ["*.example.com", "mx1.notexample.com", false],
      ["*.Example.com", "mx.example.COM", true],
    ];
    for (const [pattern, host, expected] of cases) assert.equal(mxPatternMatches(pattern, host), expected, `${pattern} vs ${host}`);
  });

  it("requires every MX host to be covered", () => {
    assert.deepEqual(checkMtaStsCoversMx(intent, ["mx1.example.com", "in.mail.example.net"]), []);
    const findings = checkMtaStsCoversMx(intent, ["mx1.example.com", "a.b.mail.example.net", "mx2.example.com"]);
    assert.deepEqual(findings.map((f) => [f.code, f.severity, f.path]), [
      ["mta-sts.mx.uncovered", "error", "mx"],
      ["mta-sts.mx.uncovered", "error", "mx"],
    ]);
    assert.match(findings[0].message, /"a\.b\.mail\.example\.net"/);
    assert.deepEqual(checkMtaStsCoversMx({ ...intent, mode: "none" }, ["other.example.org"]), []);
  });
});
