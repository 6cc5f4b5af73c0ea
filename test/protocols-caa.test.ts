import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { caaRecords, isCaaIssuerValue } from "../components/dns/protocols";
import { buildErrors } from "./support/findings";

describe("CAA", () => {
  it("builds one record per value: issue, issuewild, iodef", () => {
    assert.deepEqual(
      caaRecords("Example.com", { issue: ["amazon.com", "letsencrypt.org; validationmethods=dns-01"], issuewild: [";"], iodef: ["mailto:security@example.com"] }, 3600),
      [
        { name: "example.com", type: "CAA", ttl: 3600, purpose: "caa", flags: 0, tag: "issue", value: "amazon.com" },
        { name: "example.com", type: "CAA", ttl: 3600, purpose: "caa", flags: 0, tag: "issue", value: "letsencrypt.org; validationmethods=dns-01" },
        { name: "example.com", type: "CAA", ttl: 3600, purpose: "caa", flags: 0, tag: "issuewild", value: ";" },
        { name: "example.com", type: "CAA", ttl: 3600, purpose: "caa", flags: 0, tag: "iodef", value: "mailto:security@example.com" },
      ],
    );
  });

  it("refuses bad issuers, iodef URIs, duplicates and an empty issue list", () => {
    const errors = buildErrors(() =>
      caaRecords("example.com", { issue: ["amazon.com", "not a ca", "Amazon.com"], iodef: ["http://example.com/caa", "https://example.com/caa"] }, 300),
    );
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["caa.issuer.invalid", "issue[1]"],
      ["caa.value.duplicate", "issue[2]"],
      ["caa.iodef.invalid", "iodef[0]"],
    ]);
    assert.deepEqual(buildErrors(() => caaRecords("example.com", { issue: [] }, 300)).map((f) => f.code), ["caa.issue.empty"]);
  });

  it("publishes https iodef URLs as their href and refuses non-ASCII mailto addresses", () => {
    const records = caaRecords("example.com", { issue: ["amazon.com"], iodef: ["https://example.com/caa/ré"] }, 300);
    assert.deepEqual(records[1], { name: "example.com", type: "CAA", ttl: 300, purpose: "caa", flags: 0, tag: "iodef", value: "https://example.com/caa/r%C3%A9" });
    const errors = buildErrors(() => caaRecords("example.com", { issue: ["amazon.com"], iodef: ["mailto:security@exämple.com"] }, 300));
    assert.deepEqual(errors, [
      {
        code: "caa.iodef.non-ascii",
        severity: "error",
        message:
          'CAA iodef[0] "mailto:security@exämple.com" contains non-ASCII characters, which a CAA record cannot carry; write the host in its xn-- form: "mailto:security@xn--exmple-cua.com"',
        path: "iodef[0]",
      },
    ]);
    // The same URL written two ways is one value.
    const dup = buildErrors(() => caaRecords("example.com", { issue: ["amazon.com"], iodef: ["https://example.com/caa/ré", "https://example.com/caa/r%C3%A9"] }, 300));
    assert.deepEqual(dup.map((f) => [f.code, f.path]), [["caa.value.duplicate", "iodef[1]"]]);
  });

  it("reads issuer values per RFC 8659 §4.2", () => {
    for (const ok of ["letsencrypt.org", ";", "ca.example.net; account=123; validationmethods=http-01", "amazonaws.com"]) assert.ok(isCaaIssuerValue(ok), ok);
    for (const bad of ["", "bad ca", "ca.example.net; =x", "ca.example.net;;x=1"]) assert.ok(!isCaaIssuerValue(bad), bad);
  });
});
