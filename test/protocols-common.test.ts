import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { RecordBuildError } from "../components/dns/findings";
import { enclosingZone, type TxtRecord } from "../components/dns/model";
import {
  bimiRecord,
  dkimRecord,
  dmarcRecord,
  heloSpfRecord,
  isDomainName,
  mtaStsRecord,
  nullSpfRecord,
  parkedDomainRecords,
  reportAuthorizationRecords,
  revokedDkimRecord,
  spfRecord,
  tlsRptRecord,
} from "../components/dns/protocols";
import { txtRecord } from "../components/dns/protocols/common";
import { buildErrors } from "./support/findings";

const ASCII = /^[\x00-\x7f]*$/;

describe("isDomainName", () => {
  it("accepts LDH names with a TLD that holds a letter", () => {
    for (const ok of ["example.com", "Mail.Example.COM.", "xn--bcher-kva.example", "a-1.example.co.uk", "1.example.com", "example.c0m", "123.example"]) {
      assert.ok(isDomainName(ok), ok);
    }
    assert.ok(isDomainName("_spf.google.com", { allowUnderscore: true }));
    assert.ok(!isDomainName("_spf.google.com"));
    assert.ok(isDomainName("localhost", { minLabels: 1 }));
    assert.ok(!isDomainName("localhost"));
  });

  it("refuses all-numeric and hex TLDs, and so anything that reads as an IPv4 address", () => {
    for (const bad of ["mail.example.123", "203.0.113.5", "203.0.113.5.", "1.2.3.0x4", "mail.example.0x", "10.1", "example.123"]) {
      assert.ok(!isDomainName(bad), bad);
      assert.ok(!isDomainName(bad, { allowUnderscore: true }), `${bad} (allowUnderscore)`);
    }
  });

  it("refuses non-LDH, non-ASCII and oversized names", () => {
    const long = `${"a".repeat(63)}.`.repeat(4) + "com"; // 259 octets
    for (const bad of ["", ".", "-a.example.com", "a-.example.com", "a..example.com", "exämple.com", "a b.example.com", `${"a".repeat(64)}.com`, long, "example.com-"]) {
      assert.ok(!isDomainName(bad), bad);
    }
  });
});

describe("ASCII TXT values", () => {
  it("txtRecord refuses a non-ASCII value: the backstop for every TXT builder", () => {
    const errors = buildErrors(() => txtRecord("example.com", "v=spf1 -all é", 300, "spf"));
    assert.deepEqual(errors.map((f) => [f.code, f.severity]), [["dns.txt.non-ascii", "error"]]);
    assert.match(errors[0].message, /TXT value for "example\.com" contains non-ASCII characters/);
  });

  // Any text, biased towards the characters that matter here.
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.constantFrom("é", "ü", "ß", "日本", "\u00a0", "\u200b", "%C3%A9", "xn--bcher-kva"),
  );
  const built = (fn: () => TxtRecord | TxtRecord[]): TxtRecord[] | null => {
    try {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    } catch (e) {
      assert.ok(e instanceof RecordBuildError, `expected RecordBuildError, got ${e}`);
      return null;
    }
  };
  const assertAscii = (records: TxtRecord[] | null) => {
    for (const r of records ?? []) {
      for (const s of r.strings) assert.match(s, ASCII, `${r.name}: ${JSON.stringify(s)}`);
      assert.match(r.name, ASCII);
    }
  };

  it("every TXT builder either refuses its intent or produces ASCII, whatever text goes into it", () => {
    const rsa = (generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "der", type: "spki" }) as Buffer).toString("base64");
    fc.assert(
      fc.property(text, text, fc.constantFrom("rfc9989" as const, "rfc7489" as const), (a, b, mode) => {
        const dmarc = { p: "reject" as const, rua: [`mailto:${a}@example.com`, `mailto:dmarc@${b}.example.com`], ruf: [`mailto:f@ex${a}.net`] };
        assertAscii(built(() => dmarcRecord("example.com", dmarc, mode, 300)));
        assertAscii(built(() => reportAuthorizationRecords("example.com", dmarc, 300)));
        assertAscii(built(() => tlsRptRecord("example.com", { rua: [`https://r.example.net/${a}`, `mailto:tls@${b}.example`, `https://${a}.example/x`] }, 300)));
        assertAscii(
          built(() =>
            bimiRecord("example.com", { logo: `https://example.com/${a}/logo.svg`, evidence: `https://${b}.example/vmc.pem`, selector: a }, { intent: { p: "reject" }, mode }, 300),
          ),
        );
        assertAscii(built(() => spfRecord("example.com", { a: [`${a}.example.com`], includes: [{ domain: `${b}.example.net`, lookups: 1 }], all: "-all" }, 300)));
        assertAscii(built(() => mtaStsRecord("example.com", { mode: "enforce", mx: [`${a}.example.com`], maxAge: 604800 }, 300)));
        assertAscii(built(() => dkimRecord("example.com", { selector: a, algorithm: "rsa", publicKey: rsa }, 300)));
        assertAscii(built(() => revokedDkimRecord(`${b}.example`, "s1", "rsa", 300)));
        assertAscii(built(() => heloSpfRecord(`${a}.example.com`, 300)));
        assertAscii(built(() => nullSpfRecord(`${b}.example.com`, 300)));
        assertAscii(built(() => parkedDomainRecords(`${a}.example`, { rua: [`mailto:d@${b}.example`] }, mode, 300).filter((r): r is TxtRecord => r.type === "TXT")));
      }),
      { numRuns: 200 },
    );
  });
});

describe("enclosingZone", () => {
  const zones = new Map([["example.com", "com-zone"], ["eu.example.com", "eu-zone"], ["example.org", "org-zone"]]);
  it("finds the longest zone that is the name or a parent of it, and none for a name outside every zone", () => {
    assert.equal(enclosingZone("example.com", zones), "com-zone");
    assert.equal(enclosingZone("_dmarc.example.com", zones), "com-zone");
    assert.equal(enclosingZone("a._report._dmarc.eu.example.com", zones), "eu-zone");
    assert.equal(enclosingZone("eu.example.com", zones), "eu-zone");
    assert.equal(enclosingZone("notexample.com", zones), undefined);
    assert.equal(enclosingZone("example.net", zones), undefined);
    assert.equal(enclosingZone("com", zones), undefined);
  });
});
