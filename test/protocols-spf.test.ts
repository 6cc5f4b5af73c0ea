import { familiesCoveredWhole } from "../components/address-ranges";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { RecordBuildError } from "../components/dns/findings";
import {
  KNOWN_SPF_INCLUDES,
  buildSpfValue,
  checkSpf,
  checkSpfRecordSet,
  heloSpfRecord,
  nullSpfRecord,
  parseSpf,
  spfIntentFindings,
  spfLookupCost,
  spfRecord,
  type SpfIntent,
} from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

describe("SPF builder", () => {
  it("renders terms in canonical order with lower-case names", () => {
    const record = spfRecord(
      "Example.COM.",
      {
        all: "~all",
        includes: [{ domain: "AmazonSES.com" }, { domain: "_spf.google.com" }],
        mx: true,
        a: ["Mail.Example.com"],
        ip6: ["2001:DB8::/32"],
        ip4: ["192.0.2.0/24", "198.51.100.7"],
      },
      3600,
    );
    assert.deepEqual(record, {
      name: "example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "spf",
      strings: [
        "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 a:mail.example.com mx include:amazonses.com include:_spf.google.com ~all",
      ],
    });
  });

  it("allows an intent with no senders: a domain that sends nothing", () => {
    assert.equal(buildSpfValue({ all: "-all" }), "v=spf1 -all");
  });

  it("builds HELO and null SPF records", () => {
    assert.deepEqual(heloSpfRecord("MTA1.Example.com", 300), {
      name: "mta1.example.com",
      type: "TXT",
      ttl: 300,
      purpose: "helo-spf",
      strings: ["v=spf1 a -all"],
    });
    assert.deepEqual(nullSpfRecord("parked.example", 300), {
      name: "parked.example",
      type: "TXT",
      ttl: 300,
      purpose: "spf",
      strings: ["v=spf1 -all"],
    });
  });

  it("accepts exactly 10 declared lookups and refuses 11, naming the count", () => {
    const ten: SpfIntent = {
      a: ["mail.example.com"],
      mx: true,
      includes: [
        { domain: "one.example.net", lookups: 3 },
        { domain: "two.example.net", lookups: 5 },
      ],
      all: "-all",
    };
    assert.equal(spfLookupCost(ten), 10);
    assert.equal(
      buildSpfValue(ten),
      "v=spf1 a:mail.example.com mx include:one.example.net include:two.example.net -all",
    );
    const eleven: SpfIntent = { ...ten, includes: [...ten.includes!, { domain: "three.example.net", lookups: 1 }] };
    assert.equal(spfLookupCost(eleven), 11);
    const errors = buildErrors(() => buildSpfValue(eleven));
    assert.deepEqual(codes(errors), ["spf.lookups.over-limit"]);
    assert.match(errors[0].message, /needs 11 DNS lookups/);
    assert.match(errors[0].message, /allows 10/);
  });

  it("uses the catalogue cost unless the include declares one", () => {
    const google = KNOWN_SPF_INCLUDES["_spf.google.com"].lookups;
    assert.equal(spfLookupCost({ includes: [{ domain: "_spf.google.com" }], all: "-all" }), google);
    assert.equal(spfLookupCost({ includes: [{ domain: "_spf.google.com", lookups: 9 }], all: "-all" }), 9);
    for (const [domain, entry] of Object.entries(KNOWN_SPF_INCLUDES)) {
      assert.ok(Number.isInteger(entry.lookups) && entry.lookups >= 1, domain);
      assert.match(entry.note, /Nov 2026/);
    }
  });

  it("refuses an include with no known cost, pointing at its lookups field", () => {
    const errors = buildErrors(() => buildSpfValue({ includes: [{ domain: "mail.unknown.example" }], all: "-all" }));
    assert.deepEqual(errors, [
      {
        code: "spf.include.cost-unknown",
        severity: "error",
        message:
          'SPF include "mail.unknown.example" has no known lookup cost; declare includes[0].lookups (its worst-case DNS-lookup terms, counting the include itself) so the 10-lookup limit can be checked',
        path: "includes[0].lookups",
      },
    ]);
  });

  it("refuses bad addresses, host names, lookups and duplicates with paths", () => {
    const errors = buildErrors(() =>
      buildSpfValue({
        ip4: ["192.0.2.0/33", "300.1.1.1"],
        ip6: ["2001:db8::/129", "192.0.2.1"],
        a: ["not a host"],
        includes: [
          { domain: "bad_domain", lookups: 1 },
          { domain: "ok.example", lookups: 0 },
        ],
        all: "-all",
      }),
    );
    assert.deepEqual(
      errors.map((f) => [f.code, f.path]),
      [
        ["spf.ip4.invalid", "ip4[0]"],
        ["spf.ip4.invalid", "ip4[1]"],
        ["spf.ip6.invalid", "ip6[0]"],
        ["spf.ip6.invalid", "ip6[1]"],
        ["spf.a.invalid", "a[0]"],
        ["spf.include.invalid", "includes[0].domain"],
        ["spf.include.lookups-invalid", "includes[1].lookups"],
      ],
    );
    assert.match(errors[0].message, /"192\.0\.2\.0\/33"/);
    const dup = buildErrors(() =>
      buildSpfValue({ ip4: ["192.0.2.1"], includes: [{ domain: "amazonses.com" }, { domain: "AMAZONSES.com." }], all: "-all" }),
    );
    assert.deepEqual(
      dup.map((f) => [f.code, f.path]),
      [["spf.term.duplicate", "includes[1]"]],
    );
  });
});

describe("SPF network breadth", () => {
  it("refuses prefix /0 in the intent, like +all, naming the value, the path and the fix", () => {
    const errors = buildErrors(() => buildSpfValue({ ip4: ["192.0.2.0/24", "0.0.0.0/0"], ip6: ["::/0"], all: "-all" }));
    assert.deepEqual(errors, [
      {
        code: "spf.network.everything",
        severity: "error",
        message:
          'SPF ip4[1] "0.0.0.0/0" has prefix /0, so it authorizes every IPv4 address on the internet, as "+all" does; list only your senders\' addresses or networks, e.g. "192.0.2.0/24"',
        path: "ip4[1]",
      },
      {
        code: "spf.network.everything",
        severity: "error",
        message:
          'SPF ip6[0] "::/0" has prefix /0, so it authorizes every IPv6 address on the internet, as "+all" does; list only your senders\' addresses or networks, e.g. "2001:db8::/48"',
        path: "ip6[0]",
      },
    ]);
    // Any address with /0 is the whole internet.
    assert.deepEqual(codes(buildErrors(() => buildSpfValue({ ip4: ["192.0.2.1/0"], all: "~all" }))), ["spf.network.everything"]);
  });

  it("warns on IPv4 networks wider than /16 and IPv6 wider than /32, once, with the intent path", () => {
    const findings = spfIntentFindings({ ip4: ["10.0.0.0/8", "172.16.0.0/16", "192.0.2.7"], ip6: ["2001:db8::/31", "2001:db8::/32", "2001:db8::1"], all: "-all" });
    assert.deepEqual(findings.map((f) => [f.code, f.severity, f.path]), [
      ["spf.network.wide", "warning", "ip4[0]"],
      ["spf.network.wide", "warning", "ip6[0]"],
    ]);
    assert.equal(
      findings[0].message,
      'SPF ip4[0] "10.0.0.0/8" authorizes a /8 network (16,777,216 addresses), wider than /16: every host in it passes SPF for this domain; narrow it to the networks your senders use, e.g. "192.0.2.0/24"',
    );
    assert.match(findings[1].message, /^SPF ip6\[0\] "2001:db8::\/31" authorizes a \/31 network, wider than \/32/);
    // A warning does not stop the build.
    assert.equal(buildSpfValue({ ip4: ["10.0.0.0/8"], all: "-all" }), "v=spf1 ip4:10.0.0.0/8 -all");
  });

  it("judges published values the same way: /0 is an error, wide networks warn", () => {
    assert.deepEqual(
      checkSpf("v=spf1 ip4:0.0.0.0/0 -all").map((f) => [f.code, f.severity]),
      [["spf.network.everything", "error"]],
    );
    assert.match(checkSpf("v=spf1 ip4:0.0.0.0/0 -all")[0].message, /^SPF term "ip4:0\.0\.0\.0\/0" has prefix \/0, so it authorizes every IPv4 address/);
    assert.deepEqual(codes(checkSpf("v=spf1 +ip6:::/0 ~all")), ["spf.network.everything"]);
    assert.deepEqual(codes(checkSpf("v=spf1 a:mail.example.com/0 -all")), ["spf.network.everything"]);
    assert.deepEqual(codes(checkSpf("v=spf1 mx//0 -all")), ["spf.network.everything"]);
    assert.deepEqual(codes(checkSpf("v=spf1 ip4:10.0.0.0/15 ip6:2001:db8::/16 -all")), ["spf.network.wide", "spf.network.wide"]);
    assert.deepEqual(checkSpf("v=spf1 ip4:10.0.0.0/16 ip6:2001:db8::/32 ip4:192.0.2.1 ip6:2001:db8::1 -all"), []);
    // Only passing terms before "all" authorize anything.
    assert.deepEqual(checkSpf("v=spf1 -ip4:0.0.0.0/0 ~ip6:::/0 ?ip4:10.0.0.0/8 -all"), []);
    assert.deepEqual(codes(checkSpf("v=spf1 -all ip4:0.0.0.0/0")), ["spf.terms.after-all"]);
  });
});

describe("SPF parser and rules", () => {
  it("parses mechanisms, qualifiers, CIDRs and modifiers", () => {
    const parsed = parseSpf("v=spf1 -ip4:192.0.2.0/24 a:mail.example.com/24//64 ~mx include:_spf.example.com exists:%{i}._spf.example.com redirect=_spf.example.org");
    assert.ok("terms" in parsed);
    assert.deepEqual(parsed.terms, [
      { kind: "mechanism", qualifier: "-", text: "-ip4:192.0.2.0/24", name: "ip4", ip: "192.0.2.0", cidr4: 24 },
      { kind: "mechanism", qualifier: "+", text: "a:mail.example.com/24//64", name: "a", domain: "mail.example.com", cidr4: 24, cidr6: 64 },
      { kind: "mechanism", qualifier: "~", text: "~mx", name: "mx", domain: undefined, cidr4: undefined, cidr6: undefined },
      { kind: "mechanism", qualifier: "+", text: "include:_spf.example.com", name: "include", domain: "_spf.example.com" },
      { kind: "mechanism", qualifier: "+", text: "exists:%{i}._spf.example.com", name: "exists", domain: "%{i}._spf.example.com" },
      { kind: "modifier", name: "redirect", value: "_spf.example.org", text: "redirect=_spf.example.org" },
    ]);
  });

  it("accepts a clean record with no findings", () => {
    assert.deepEqual(checkSpf("v=spf1 ip4:192.0.2.0/24 include:amazonses.com -all"), []);
    assert.deepEqual(checkSpf("V=SPF1 redirect=_spf.google.com"), []);
  });

  it("requires exactly v=spf1 then a space or the end", () => {
    for (const value of ["v=spf10 -all", " v=spf1 -all", "spf1 -all", "v=spf1-all"]) {
      assert.deepEqual(codes(checkSpf(value)), ["spf.version.missing"], value);
    }
  });

  it("reports syntax errors as permerror", () => {
    for (const value of [
      "v=spf1 ip4:192.0.2.1/33 -all",
      "v=spf1 ip6:192.0.2.1 -all",
      "v=spf1 include -all",
      "v=spf1 all:x",
      "v=spf1 foo:bar -all",
      "v=spf1 a/33 -all",
      "v=spf1 mx//129 -all",
      "v=spf1 include:%{z}.example.com -all",
      "v=spf1 include:example -all",
      "v=spf1 redirect=",
    ]) {
      const findings = checkSpf(value);
      assert.deepEqual(codes(findings), ["spf.syntax.invalid"], value);
    }
  });

  it("judges the all term", () => {
    assert.deepEqual(codes(checkSpf("v=spf1 +all")), ["spf.all.pass"]);
    assert.deepEqual(codes(checkSpf("v=spf1 all")), ["spf.all.pass"]);
    assert.deepEqual(codes(checkSpf("v=spf1 ?all")), ["spf.all.neutral"]);
    assert.deepEqual(codes(checkSpf("v=spf1 ip4:192.0.2.1")), ["spf.all.missing"]);
    assert.deepEqual(codes(checkSpf("v=spf1 -all ip4:192.0.2.1")), ["spf.terms.after-all"]);
  });

  it("warns on ptr, duplicates and an ignored redirect; refuses repeated modifiers", () => {
    assert.deepEqual(codes(checkSpf("v=spf1 ptr -all")), ["spf.ptr"]);
    assert.deepEqual(codes(checkSpf("v=spf1 ip4:192.0.2.1 +ip4:192.0.2.1 -all")), ["spf.term.duplicate"]);
    assert.deepEqual(codes(checkSpf("v=spf1 -all redirect=amazonses.com")), ["spf.redirect.ignored"]);
    assert.deepEqual(codes(checkSpf("v=spf1 redirect=amazonses.com redirect=sendgrid.net")), ["spf.modifier.duplicate"]);
    assert.deepEqual(codes(checkSpf("v=spf1 exp=a.example.com exp=b.example.com -all")), ["spf.modifier.duplicate"]);
  });

  it("counts worst-case lookups, through known includes and options", () => {
    // 4 (google) + 5 (mailgun) + 2 (outlook) = 11
    const over = checkSpf("v=spf1 include:_spf.google.com include:mailgun.org include:spf.protection.outlook.com -all");
    assert.deepEqual(codes(over), ["spf.lookups.over-limit"]);
    assert.match(over[0].message, /needs 11 DNS lookups/);
    // Unknown includes count 1 each, with an info finding.
    const unknown = checkSpf("v=spf1 include:a.example include:b.example -all");
    assert.deepEqual(codes(unknown), ["spf.lookups.include-unknown", "spf.lookups.include-unknown"]);
    assert.ok(unknown.every((f) => f.severity === "info"));
    const declared = checkSpf("v=spf1 include:a.example include:b.example -all", { knownIncludes: { "a.example": 5, "B.Example.": 6 } });
    assert.deepEqual(codes(declared), ["spf.lookups.over-limit"]);
    // Terms after "all" are never evaluated, so they cost nothing.
    const ten = "v=spf1 a mx ptr exists:%{i}.x.example include:a.example include:b.example include:c.example include:d.example include:e.example include:f.example -all include:g.example";
    assert.ok(!codes(checkSpf(ten)).includes("spf.lookups.over-limit"));
    assert.ok(codes(checkSpf(ten.replace(" -all", ""))).includes("spf.lookups.over-limit"));
  });

  it("warns when the record is too large for a UDP answer", () => {
    const ips = Array.from({ length: 30 }, (_, i) => `ip4:198.51.100.${i}`).join(" ");
    const value = `v=spf1 ${ips} -all`;
    assert.ok(value.length > 450);
    assert.deepEqual(codes(checkSpf(value)), ["spf.size.large"]);
  });

  it("refuses more than one SPF record at a name", () => {
    assert.deepEqual(checkSpfRecordSet(["v=spf1 -all", "google-site-verification=x"]), []);
    const findings = checkSpfRecordSet(["v=spf1 -all", "v=spf1 include:amazonses.com -all"]);
    assert.deepEqual(codes(findings), ["spf.record.multiple"]);
    assert.equal(findings[0].severity, "error");
  });
});

describe("SPF properties", () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const host = fc.tuple(label, label, fc.constantFrom("com", "net", "org", "example")).map((p) => p.join("."));
  // Prefix /0 is the whole internet and always refused (see the property below).
  const ip4 = fc.tuple(fc.ipV4(), fc.option(fc.integer({ min: 1, max: 32 }), { nil: undefined })).map(([ip, n]) => (n === undefined ? ip : `${ip}/${n}`));
  const ip6 = fc.tuple(fc.ipV6(), fc.option(fc.integer({ min: 1, max: 128 }), { nil: undefined })).map(([ip, n]) => (n === undefined ? ip : `${ip}/${n}`));
  const intent = fc
    .record({
      ip4: fc.uniqueArray(ip4, { maxLength: 5 }),
      ip6: fc.uniqueArray(ip6, { maxLength: 3, selector: (s) => s.toLowerCase() }),
      a: fc.uniqueArray(host, { maxLength: 3 }),
      mx: fc.boolean(),
      includes: fc.uniqueArray(fc.record({ domain: host, lookups: fc.integer({ min: 1, max: 4 }) }), { maxLength: 4, selector: (i) => i.domain }),
      all: fc.constantFrom("-all" as const, "~all" as const),
    })
    .filter((i) => spfLookupCost(i) <= 10 && new Set([...i.a, ...i.includes.map((x) => x.domain)]).size === i.a.length + i.includes.length)
    // Networks that together hold the whole internet are refused like +all (a property found 0.0.0.0/1 + 128.0.0.0/1).
    .filter((i) => familiesCoveredWhole([...i.ip4, ...i.ip6]).length === 0);

  it("any valid intent within the limit builds a value checkSpf accepts without errors", () => {
    fc.assert(
      fc.property(intent, (i) => {
        const value = buildSpfValue(i);
        const known = Object.fromEntries(i.includes.map((x) => [x.domain, x.lookups]));
        const findings = checkSpf(value, { knownIncludes: known });
        assert.deepEqual(findings.filter((f) => f.severity === "error"), []);
        assert.match(value, /^[\x20-\x7e]*$/);
        const parsed = parseSpf(value);
        assert.ok("terms" in parsed);
        assert.equal(parsed.terms.length, i.ip4.length + i.ip6.length + i.a.length + (i.mx ? 1 : 0) + i.includes.length + 1);
      }),
    );
  });

  it("any network with prefix /0 is refused at its path, whatever the address", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.ipV4(), fc.ipV6(), (v4, a4, a6) => {
        const i: SpfIntent = v4 ? { ip4: [`${a4}/0`], all: "-all" } : { ip6: [`${a6}/0`], all: "-all" };
        const errors = buildErrors(() => buildSpfValue(i));
        assert.deepEqual(errors.map((f) => [f.code, f.path]), [["spf.network.everything", v4 ? "ip4[0]" : "ip6[0]"]]);
        assert.deepEqual(codes(checkSpf(`v=spf1 ${v4 ? `ip4:${a4}` : `ip6:${a6}`}/0 -all`)), ["spf.network.everything"]);
      }),
    );
  });

  it("the builder refuses exactly when the declared cost exceeds 10", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), (costs) => {
        const i: SpfIntent = { includes: costs.map((lookups, n) => ({ domain: `s${n}.example.net`, lookups })), all: "-all" };
        const total = costs.reduce((a, b) => a + b, 0);
        let refused = false;
        try {
          buildSpfValue(i);
        } catch (e) {
          refused = e instanceof RecordBuildError && e.findings.some((f) => f.code === "spf.lookups.over-limit");
        }
        assert.equal(refused, total > 10);
      }),
    );
  });
});
