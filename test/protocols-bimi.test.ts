import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bimiRecord, checkBimi, checkBimiDmarcEligibility, type BimiIntent } from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

const logo: BimiIntent = { logo: "https://example.com/bimi/logo.svg", evidence: "https://example.com/bimi/vmc.pem" };

describe("BIMI", () => {
  it("builds the record at default._bimi under DMARC enforcement", () => {
    assert.deepEqual(bimiRecord("Example.com", logo, { intent: { p: "reject" }, mode: "rfc9989" }, 3600), {
      name: "default._bimi.example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "bimi",
      strings: ["v=BIMI1; l=https://example.com/bimi/logo.svg; a=https://example.com/bimi/vmc.pem"],
    });
    assert.deepEqual(bimiRecord("example.com", { selector: "Brand2", logo: logo.logo }, { intent: { p: "quarantine" }, mode: "rfc7489" }, 300), {
      name: "brand2._bimi.example.com",
      type: "TXT",
      ttl: 300,
      purpose: "bimi",
      strings: ["v=BIMI1; l=https://example.com/bimi/logo.svg"],
    });
  });

  it("refuses BIMI under p=none, naming the fix", () => {
    const errors = buildErrors(() => bimiRecord("example.com", logo, { intent: { p: "none", rua: ["mailto:d@example.com"] }, mode: "rfc9989" }, 300));
    assert.deepEqual(errors, [
      {
        code: "bimi.dmarc.not-enforced",
        severity: "error",
        message: 'BIMI needs DMARC enforcement, but DMARC p is "none"; set dmarc p to "quarantine" or "reject" before publishing BIMI',
      },
    ]);
  });

  it("refuses sp=none, partial quarantine in rfc7489 and testing quarantine in rfc9989", () => {
    assert.deepEqual(codes(checkBimiDmarcEligibility({ p: "reject", sp: "none" }, "rfc9989")), ["bimi.dmarc.sp-none"]);
    assert.deepEqual(codes(checkBimiDmarcEligibility({ p: "quarantine", pct: 50 }, "rfc7489")), ["bimi.dmarc.pct"]);
    assert.deepEqual(checkBimiDmarcEligibility({ p: "quarantine", pct: 100 }, "rfc7489"), []);
    assert.deepEqual(checkBimiDmarcEligibility({ p: "reject", pct: 50 }, "rfc7489"), []);
    assert.deepEqual(codes(checkBimiDmarcEligibility({ p: "quarantine", t: true }, "rfc9989")), ["bimi.dmarc.testing"]);
    assert.deepEqual(checkBimiDmarcEligibility({ p: "reject", t: true }, "rfc9989"), []);
    assert.match(buildErrors(() => bimiRecord("example.com", logo, { intent: { p: "quarantine", pct: 10 }, mode: "rfc7489" }, 300))[0].message, /set pct to 100/);
  });

  it("refuses non-https or non-SVG logos and bad evidence, with paths", () => {
    const errors = buildErrors(() =>
      bimiRecord("example.com", { selector: "bad_sel", logo: "http://example.com/logo.png", evidence: "ftp://example.com/vmc.pem" }, { intent: { p: "reject" }, mode: "rfc9989" }, 300),
    );
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["bimi.selector.invalid", "selector"],
      ["bimi.l.invalid", "logo"],
      ["bimi.a.invalid", "evidence"],
    ]);
  });

  it("publishes logo and evidence URLs as their href: non-ASCII paths percent-encoded, IDN hosts in xn-- form", () => {
    const record = bimiRecord(
      "example.com",
      { logo: "https://example.com/bimi/logó.svg", evidence: "https://bücher.example/bimi/vmc.pem" },
      { intent: { p: "reject" }, mode: "rfc9989" },
      300,
    );
    assert.deepEqual(record.strings, ["v=BIMI1; l=https://example.com/bimi/log%C3%B3.svg; a=https://xn--bcher-kva.example/bimi/vmc.pem"]);
    assert.match(record.strings.join(""), /^[\x20-\x7e]*$/);
  });

  it("refuses non-ASCII l= and a= in published values, giving the percent-encoded URL", () => {
    const findings = checkBimi("v=BIMI1; l=https://example.com/bimi/logó.svg; a=https://example.com/vmc-é.pem");
    assert.deepEqual(findings, [
      {
        code: "bimi.l.non-ascii",
        severity: "error",
        message:
          'BIMI l= "https://example.com/bimi/logó.svg" contains non-ASCII characters, which a BIMI record cannot carry; publish the percent-encoded URL "https://example.com/bimi/log%C3%B3.svg"',
        path: "l",
      },
      {
        code: "bimi.a.non-ascii",
        severity: "error",
        message:
          'BIMI a= "https://example.com/vmc-é.pem" contains non-ASCII characters, which a BIMI record cannot carry; publish the percent-encoded URL "https://example.com/vmc-%C3%A9.pem"',
        path: "a",
      },
    ]);
    assert.deepEqual(checkBimi("v=BIMI1; l=https://example.com/bimi/log%C3%B3.svg; a=https://example.com/vmc.pem"), []);
  });

  it("judges published values", () => {
    assert.deepEqual(checkBimi("v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem"), []);
    assert.deepEqual(codes(checkBimi("v=BIMI1; l=https://example.com/logo.svg")), ["bimi.a.missing"]);
    assert.deepEqual(codes(checkBimi("v=BIMI1; l=; a=;")), ["bimi.declined"]);
    assert.deepEqual(codes(checkBimi("l=https://example.com/logo.svg; v=BIMI1")), ["bimi.version"]);
    assert.deepEqual(codes(checkBimi("v=BIMI1; l=https://example.com/logo.png; a=https://example.com/vmc.pem")), ["bimi.l.invalid"]);
    assert.deepEqual(codes(checkBimi("v=BIMI1; a=https://example.com/vmc.pem")), ["bimi.l.missing"]);
  });
});
