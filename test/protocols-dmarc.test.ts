import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  buildDmarcValue,
  checkDmarc,
  checkDmarcLocation,
  checkDmarcRecordSet,
  dmarcIntentFindings,
  dmarcRecord,
  organizationalDomain,
  parseDmarc,
  reportAuthorizationRecords,
  type DmarcIntent,
} from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

describe("DMARC builder", () => {
  it("renders every tag in canonical order (rfc9989)", () => {
    const intent: DmarcIntent = {
      ruf: ["mailto:forensic@example.com"],
      rua: ["mailto:dmarc@example.com", "mailto:agg@rua.example.net"],
      fo: ["1", "d"],
      aspf: "s",
      adkim: "r",
      t: true,
      psd: "n",
      np: "reject",
      sp: "quarantine",
      p: "reject",
    };
    assert.equal(
      buildDmarcValue(intent, "rfc9989"),
      "v=DMARC1; p=reject; sp=quarantine; np=reject; psd=n; t=y; adkim=r; aspf=s; fo=1:d; rua=mailto:dmarc@example.com,mailto:agg@rua.example.net; ruf=mailto:forensic@example.com",
    );
  });

  it("omits t: false (the default) in both modes, and refuses t: true in rfc7489", () => {
    assert.equal(buildDmarcValue({ p: "none", t: false }, "rfc9989"), "v=DMARC1; p=none");
    assert.equal(buildDmarcValue({ p: "reject", t: false }, "rfc7489"), "v=DMARC1; p=reject");
    const errors = buildErrors(() => buildDmarcValue({ p: "reject", t: true }, "rfc7489"));
    assert.deepEqual(errors.map((f) => [f.code, f.severity, f.path]), [["dmarc.t.unsupported", "error", "t"]]);
  });

  it("publishes np in rfc7489 with a warning that only RFC 9989 receivers act on it", () => {
    const intent: DmarcIntent = { p: "reject", np: "reject" };
    assert.equal(buildDmarcValue(intent, "rfc7489"), "v=DMARC1; p=reject; np=reject");
    const findings = dmarcIntentFindings(intent, "rfc7489").filter((f) => f.severity !== "info");
    assert.deepEqual(findings, [
      {
        code: "dmarc.np.unsupported",
        severity: "warning",
        message:
          'DMARC tag "np=reject" is not part of RFC 7489 (it comes from RFC 9091 and RFC 9989): RFC 7489 receivers ignore it, so it only takes effect with RFC 9989 receivers; keep it for those, or remove np, or judge by RFC 9989 (postforge:dmarcMode: rfc9989 in the stack config, --dmarc-mode rfc9989 with verify --domain)',
        path: "np",
      },
    ]);
    assert.deepEqual(dmarcIntentFindings(intent, "rfc9989").filter((f) => f.severity !== "info"), []);
    assert.deepEqual(codes(buildErrors(() => buildDmarcValue({ p: "reject", np: "block" as never }, "rfc7489"))), ["dmarc.policy.invalid"]);
  });

  it("renders pct and a size suffix in rfc7489 mode", () => {
    assert.equal(
      buildDmarcValue({ p: "quarantine", pct: 25, fo: ["0", "1"], rua: ["mailto:dmarc@example.com!10m"] }, "rfc7489"),
      "v=DMARC1; p=quarantine; pct=25; fo=0:1; rua=mailto:dmarc@example.com!10m",
    );
  });

  it("builds the record at _dmarc.<domain>", () => {
    assert.deepEqual(dmarcRecord("Example.com.", { p: "reject", rua: ["mailto:dmarc@example.com"] }, "rfc9989", 3600), {
      name: "_dmarc.example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "dmarc",
      strings: ["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"],
    });
  });

  it("refuses pct in rfc9989 with the fix", () => {
    const errors = buildErrors(() => buildDmarcValue({ p: "reject", pct: 50 }, "rfc9989"));
    assert.deepEqual(errors, [
      {
        code: "dmarc.tag.removed",
        severity: "error",
        message: 'DMARC tag "pct=50" was removed in RFC 9989 and its receivers ignore it; remove it, or judge by RFC 7489 (postforge:dmarcMode: rfc7489 in the stack config, --dmarc-mode rfc7489 with verify --domain)',
        path: "pct",
      },
    ]);
  });

  it("treats the removed tags pct, rf and ri alike: errors when strict (builders), warnings on published values", () => {
    const value = "v=DMARC1; p=reject; pct=100; rf=afrf; ri=3600; rua=mailto:a@example.com";
    const strict = checkDmarc(value, "rfc9989", { strict: true });
    assert.deepEqual(strict.map((f) => [f.code, f.severity, f.path]), [
      ["dmarc.tag.removed", "error", "pct"],
      ["dmarc.tag.removed", "error", "rf"],
      ["dmarc.tag.removed", "error", "ri"],
    ]);
    for (const f of strict) assert.match(f.message, /was removed in RFC 9989 .*; remove it, or judge by RFC 7489 \(postforge:dmarcMode: rfc7489 in the stack config, --dmarc-mode rfc7489 with verify --domain\)$/);
    const lenient = checkDmarc(value, "rfc9989");
    assert.deepEqual(lenient.map((f) => [f.code, f.severity, f.path]), [
      ["dmarc.tag.removed", "warning", "pct"],
      ["dmarc.tag.removed", "warning", "rf"],
      ["dmarc.tag.removed", "warning", "ri"],
    ]);
    assert.deepEqual(lenient.map((f) => f.message), strict.map((f) => f.message));
    assert.deepEqual(checkDmarc(value, "rfc7489"), []);
    assert.deepEqual(checkDmarc(value, "rfc7489", { strict: true }), []);
  });

  it("refuses non-ASCII report addresses with the ASCII form as the fix", () => {
    const errors = buildErrors(() => buildDmarcValue({ p: "reject", rua: ["mailto:dmarc@exämple.com"], ruf: ["mailto:jösé@example.com"] }, "rfc9989"));
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["dmarc.uri.non-ascii", "rua[0]"],
      ["dmarc.uri.non-ascii", "ruf[0]"],
    ]);
    assert.match(errors[0].message, /"mailto:dmarc@exämple\.com" contains non-ASCII characters.*"mailto:dmarc@xn--exmple-cua\.com"/);
    assert.match(errors[1].message, /use an ASCII mailbox/);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=reject; rua=mailto:d@exämple.com!10m", "rfc7489")), ["dmarc.uri.non-ascii"]);
    assert.match(checkDmarc("v=DMARC1; p=reject; rua=mailto:d@exämple.com!10m", "rfc7489")[0].message, /"mailto:d@xn--exmple-cua\.com!10m"/);
  });

  it("refuses t and psd in rfc7489 with the fix", () => {
    const errors = buildErrors(() => buildDmarcValue({ p: "reject", t: true, psd: "y" }, "rfc7489"));
    assert.deepEqual(
      errors.map((f) => [f.code, f.path]),
      [
        ["dmarc.psd.unsupported", "psd"],
        ["dmarc.t.unsupported", "t"],
      ],
    );
    assert.match(errors[1].message, /remove t, or judge by RFC 9989 \(postforge:dmarcMode: rfc9989 in the stack config/);
  });

  it("refuses bad report URIs with their index", () => {
    const errors = buildErrors(() =>
      buildDmarcValue({ p: "reject", rua: ["mailto:ok@example.com", "https://reports.example.com", "mailto:not-an-address"], ruf: ["mailto:a@b.example,mailto:c@d.example"] }, "rfc9989"),
    );
    assert.deepEqual(
      errors.map((f) => [f.code, f.path]),
      [["dmarc.uri.invalid", "ruf[0]"]],
    );
    const more = buildErrors(() => buildDmarcValue({ p: "reject", rua: ["mailto:ok@example.com", "https://reports.example.com", "mailto:not-an-address"] }, "rfc9989"));
    assert.deepEqual(
      more.map((f) => [f.code, f.path]),
      [
        ["dmarc.uri.scheme", "rua[1]"],
        ["dmarc.uri.invalid", "rua[2]"],
      ],
    );
    assert.match(more[0].message, /"https:\/\/reports\.example\.com" must be a mailto: URI/);
  });

  it("refuses fo=0 with fo=1 in rfc9989 but not in rfc7489", () => {
    const errors = buildErrors(() => buildDmarcValue({ p: "reject", fo: ["0", "1"] }, "rfc9989"));
    assert.deepEqual(codes(errors), ["dmarc.fo.conflict"]);
    assert.equal(errors[0].path, "fo");
    assert.equal(buildDmarcValue({ p: "reject", fo: ["0", "1"] }, "rfc7489"), "v=DMARC1; p=reject; fo=0:1");
    assert.deepEqual(codes(buildErrors(() => buildDmarcValue({ p: "reject", fo: ["x"] }, "rfc7489"))), ["dmarc.fo.invalid"]);
  });

  it("refuses out-of-range pct, and warns on a size suffix in rfc9989", () => {
    assert.deepEqual(codes(buildErrors(() => buildDmarcValue({ p: "reject", pct: 101 }, "rfc7489"))), ["dmarc.pct.invalid"]);
    assert.deepEqual(codes(buildErrors(() => buildDmarcValue({ p: "reject", pct: 12.5 }, "rfc7489"))), ["dmarc.pct.invalid"]);
    const value = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com!10m";
    assert.deepEqual(
      checkDmarc(value, "rfc9989").map((f) => [f.code, f.severity, f.path]),
      [["dmarc.uri.size-obsolete", "warning", "rua[0]"]],
    );
    assert.deepEqual(checkDmarc(value, "rfc7489"), []);
  });
});

describe("DMARC parser and rules", () => {
  it("parses tags", () => {
    assert.deepEqual(parseDmarc("v=DMARC1;p=reject ; rua = mailto:a@example.com;"), {
      tags: [
        { name: "v", key: "v", value: "DMARC1" },
        { name: "p", key: "p", value: "reject" },
        { name: "rua", key: "rua", value: "mailto:a@example.com" },
      ],
    });
    assert.ok("error" in parseDmarc("v=DMARC1; p=reject; p=none"));
    assert.ok("error" in parseDmarc("v=DMARC1; p"));
  });

  it("requires v=DMARC1 first, case-sensitive", () => {
    assert.deepEqual(codes(checkDmarc("p=reject; v=DMARC1; rua=mailto:a@example.com", "rfc9989")), ["dmarc.version.missing", "dmarc.version.position"]);
    assert.deepEqual(codes(checkDmarc("v=dmarc1; p=reject; rua=mailto:a@example.com", "rfc9989")), ["dmarc.version.invalid"]);
  });

  it("requires p second in rfc7489 only", () => {
    const value = "v=DMARC1; rua=mailto:a@example.com; p=reject";
    assert.deepEqual(codes(checkDmarc(value, "rfc7489")), ["dmarc.p.order"]);
    assert.deepEqual(checkDmarc(value, "rfc9989"), []);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; rua=mailto:a@example.com", "rfc9989")), ["dmarc.p.missing"]);
  });

  it("checks tag values and knows which tags each mode has", () => {
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=block; rua=mailto:a@example.com", "rfc9989")), ["dmarc.policy.invalid"]);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=reject; adkim=x; rua=mailto:a@example.com", "rfc9989")), ["dmarc.alignment.invalid"]);
    assert.deepEqual(
      checkDmarc("v=DMARC1; p=reject; ri=3600; rf=afrf; rua=mailto:a@example.com", "rfc9989").map((f) => [f.code, f.severity]),
      [
        ["dmarc.tag.removed", "warning"],
        ["dmarc.tag.removed", "warning"],
      ],
    );
    assert.deepEqual(checkDmarc("v=DMARC1; p=reject; ri=3600; rf=afrf; rua=mailto:a@example.com", "rfc7489"), []);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=reject; foo=bar; rua=mailto:a@example.com", "rfc9989")), ["dmarc.tag.unknown"]);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=reject; pct=50; rua=mailto:a@example.com", "rfc9989")), ["dmarc.tag.removed"]);
    assert.deepEqual(codes(checkDmarc("v=DMARC1; p=reject; t=y; rua=mailto:a@example.com", "rfc7489")), ["dmarc.t.unsupported"]);
  });

  it("reports monitoring-only and report-less records as info", () => {
    const findings = checkDmarc("v=DMARC1; p=none", "rfc9989");
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity]),
      [
        ["dmarc.p.none", "info"],
        ["dmarc.rua.missing", "info"],
      ],
    );
  });

  it("refuses DMARC records outside _dmarc, and more than one per name", () => {
    assert.deepEqual(codes(checkDmarcLocation("example.com", "v=DMARC1; p=reject")), ["dmarc.location.invalid"]);
    assert.deepEqual(checkDmarcLocation("_dmarc.example.com", "v=DMARC1; p=reject"), []);
    assert.deepEqual(checkDmarcLocation("example.com._report._dmarc.rua.example.net", "v=DMARC1"), []);
    assert.deepEqual(checkDmarcLocation("example.com", "v=spf1 -all"), []);
    assert.deepEqual(codes(checkDmarcRecordSet(["v=DMARC1; p=reject", "v=DMARC1; p=none"])), ["dmarc.record.multiple"]);
    assert.deepEqual(checkDmarcRecordSet(["v=DMARC1; p=reject", "something else"]), []);
  });
});

describe("DMARC report authorization", () => {
  it("finds organizational domains with the public suffix list", () => {
    assert.equal(organizationalDomain("mail.example.co.uk"), "example.co.uk");
    assert.equal(organizationalDomain("A.B.Example.COM."), "example.com");
    assert.equal(organizationalDomain("localhost"), "localhost");
  });

  it("publishes one record per external destination host, sorted", () => {
    const records = reportAuthorizationRecords(
      "Example.com",
      {
        p: "reject",
        rua: ["mailto:dmarc@example.com", "mailto:agg@rua.vendor.net", "mailto:dmarc@reports.example.com", "mailto:x@a-collector.example.org"],
        ruf: ["mailto:f@rua.vendor.net!10m"],
      },
      3600,
    );
    assert.deepEqual(records, [
      { name: "example.com._report._dmarc.a-collector.example.org", type: "TXT", ttl: 3600, purpose: "dmarc-report-auth", strings: ["v=DMARC1"] },
      { name: "example.com._report._dmarc.rua.vendor.net", type: "TXT", ttl: 3600, purpose: "dmarc-report-auth", strings: ["v=DMARC1"] },
    ]);
    assert.deepEqual(reportAuthorizationRecords("example.com", { p: "reject", rua: ["mailto:d@sub.example.com"] }, 3600), []);
  });

  it("skips invalid URIs silently, leaving them to dmarcRecord so each is reported once", () => {
    const intent: DmarcIntent = {
      p: "reject",
      rua: ["https://x.example.net", "mailto:agg@rua.vendor.net", "mailto:not-an-address", "mailto:a@one.example.org,mailto:b@two.example.org", "mailto:d@exämple.net"],
      ruf: ["mailto:f@ruf.vendor.net!bogus"],
    };
    assert.deepEqual(reportAuthorizationRecords("example.com", intent, 3600), [
      { name: "example.com._report._dmarc.rua.vendor.net", type: "TXT", ttl: 3600, purpose: "dmarc-report-auth", strings: ["v=DMARC1"] },
    ]);
    // dmarcRecord reports every bad URI exactly once.
    const errors = buildErrors(() => dmarcRecord("example.com", { p: "reject", rua: ["https://x.example.net", "mailto:not-an-address", "mailto:d@exämple.net"] }, "rfc9989", 3600));
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["dmarc.uri.scheme", "rua[0]"],
      ["dmarc.uri.invalid", "rua[1]"],
      ["dmarc.uri.non-ascii", "rua[2]"],
    ]);
  });
});

describe("DMARC properties", () => {
  const policy = fc.constantFrom("none" as const, "quarantine" as const, "reject" as const);
  const local = fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,10}[a-z0-9]$/).filter((s) => !s.includes(".."));
  const host = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.constantFrom("com", "net", "co.uk")).map((p) => p.join("."));
  const uri = fc.tuple(local, host).map(([l, h]) => `mailto:${l}@${h}`);
  const common = {
    p: policy,
    sp: fc.option(policy, { nil: undefined }),
    np: fc.option(policy, { nil: undefined }),
    adkim: fc.option(fc.constantFrom("r" as const, "s" as const), { nil: undefined }),
    aspf: fc.option(fc.constantFrom("r" as const, "s" as const), { nil: undefined }),
    // At most two: receivers may honour no more (RFC 7489 §6.2), so a third is a warning.
    rua: fc.option(fc.array(uri, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    ruf: fc.option(fc.array(uri, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  };
  const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

  it("valid rfc9989 intents build values the rules accept and the parser reads back", () => {
    const intent = fc.record({
      ...common,
      fo: fc.option(fc.subarray(["1", "d", "s"], { minLength: 1 }), { nil: undefined }),
      t: fc.option(fc.boolean(), { nil: undefined }),
      psd: fc.option(fc.constantFrom("y" as const, "n" as const, "u" as const), { nil: undefined }),
    });
    fc.assert(
      fc.property(intent, (raw) => {
        const i = strip(raw) as DmarcIntent;
        const value = buildDmarcValue(i, "rfc9989");
        assert.match(value, /^[\x20-\x7e]*$/);
        assert.deepEqual(checkDmarc(value, "rfc9989").filter((f) => f.severity !== "info"), []);
        const parsed = parseDmarc(value);
        assert.ok("tags" in parsed);
        assert.equal(parsed.tags.find((t) => t.key === "p")!.value, i.p);
        assert.deepEqual(parsed.tags.find((t) => t.key === "rua")?.value.split(","), i.rua);
      }),
    );
  });

  it("valid rfc7489 intents build ASCII values the rules accept (np only with its warning)", () => {
    const intent = fc.record({
      ...common,
      fo: fc.option(fc.subarray(["0", "1", "d", "s"], { minLength: 1 }), { nil: undefined }),
      pct: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(intent, (raw) => {
        const i = strip(raw) as DmarcIntent;
        const value = buildDmarcValue(i, "rfc7489");
        assert.match(value, /^[\x20-\x7e]*$/);
        assert.deepEqual(
          checkDmarc(value, "rfc7489").filter((f) => f.severity !== "info").map((f) => f.code),
          i.np === undefined ? [] : ["dmarc.np.unsupported"],
        );
      }),
    );
  });
});
