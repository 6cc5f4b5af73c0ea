/**
 * The SPF evaluator (components/dns/protocols/spf-eval.ts) against the
 * OpenSPF RFC 7208 test suite (release 2014.04, from pyspf; BSD licence in
 * test/fixtures/spf/rfc7208-tests.LICENSE). Each scenario's zone data is
 * served by an in-memory lookup: SPF-type records are copied to TXT where
 * the name has no TXT entry of its own (the suite's convention; "TXT: NONE"
 * is such an entry with no record), TIMEOUT makes a query the name has no
 * answer for time out, a CNAME is followed. Each test's result must
 * be the expected one (or one of them), and its explanation, where the suite
 * gives one, the one expected ("DEFAULT": none from exp=). The score is
 * printed, and every miss named.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkSpf, checkSpfSync, type SpfSyncLookup } from "../components/dns/protocols/spf-eval";

import { scenarios, zoneLookup } from "./support/spf-suite";

describe("SPF evaluator on the RFC 7208 test suite", () => {
  it("gets every result and every explanation of the 203 tests right", async (t) => {
    let total = 0;
    const misses: string[] = [];
    for (const scenario of scenarios) {
      const dns = zoneLookup(scenario.zonedata);
      for (const [name, test] of Object.entries(scenario.tests)) {
        total++;
        const domain = test.mailfrom.includes("@") ? test.mailfrom.slice(test.mailfrom.lastIndexOf("@") + 1) : test.mailfrom || test.helo;
        const got = await checkSpf({ ip: test.host, domain, sender: test.mailfrom, helo: test.helo, receiver: "receiver.example.com", now: 0 }, dns);
        const expected = Array.isArray(test.result) ? test.result : [test.result];
        const resultOk = expected.includes(got.result);
        const explanationOk =
          test.explanation === undefined || got.result !== "fail" || (test.explanation === "DEFAULT" ? got.explanation === undefined : got.explanation === test.explanation);
        if (!resultOk || !explanationOk) {
          misses.push(`${scenario.description} / ${name}: got ${got.result}${got.explanation !== undefined ? ` "${got.explanation}"` : ""}, want ${expected.join(" or ")}${test.explanation ? ` "${test.explanation}"` : ""} (${got.reason})`);
        }
      }
    }
    t.diagnostic(`RFC 7208 suite: ${total - misses.length} of ${total} right`);
    assert.equal(total, 203);
    assert.deepEqual(misses, []);
  });

  it("has teeth: a wrong answer in the zone data is a miss", async () => {
    const dns = zoneLookup({ "example.com": [{ SPF: "v=spf1 ip4:192.0.2.0/24 -all" }] });
    assert.equal((await checkSpf({ ip: "192.0.2.7", domain: "example.com", sender: "a@example.com" }, dns)).result, "pass");
    assert.equal((await checkSpf({ ip: "198.51.100.7", domain: "example.com", sender: "a@example.com" }, dns)).result, "fail");
    assert.equal((await checkSpf({ ip: "::ffff:192.0.2.7", domain: "example.com", sender: "a@example.com" }, dns)).result, "pass", "an IPv4-mapped IPv6 client is IPv4");
  });

  it("runs the same steps over answers known at once, and calls a check on an address known only after deploy undetermined, not failed", () => {
    const zone: Record<string, string[]> = { "example.com": ["v=spf1 a:mail.example.com -all"], "example.org": ["v=spf1 ip4:192.0.2.1 -all"], "example.net": ["v=spf1 ip4:0.0.0.0/0 -all"] };
    const sync: SpfSyncLookup = {
      txt: (name) => (zone[name] ? { ok: true, value: zone[name] } : { ok: false, failure: "nxdomain", message: name }),
      a: (name) => (name === "mail.example.com" ? { ok: true, value: ["240.0.0.1"] } : { ok: false, failure: "nxdomain", message: name }),
      aaaa: (name) => ({ ok: false, failure: "nodata", message: name }),
      mx: (name) => ({ ok: false, failure: "nodata", message: name }),
      ptr: (ip) => ({ ok: false, failure: "unknown", message: ip }),
    };
    const check = (domain: string) => checkSpfSync({ ip: "240.0.0.1", clientIpUnknown: true, domain, sender: `postmaster@${domain}` }, sync);
    assert.equal(check("example.com").result, "pass", "the host's own name gives its (stand-in) address");
    assert.deepEqual([check("example.org").result, check("example.org").undetermined], ["temperror", true], "a literal network may or may not hold the address");
    assert.equal(check("example.net").result, "pass", "a /0 holds every address");
  });

  it("leaves undetermined what the address known after deploy decides: macros of it, and any one network among definite ones", () => {
    const zone: Record<string, string[]> = {
      "macro.example": ["v=spf1 -exists:%{ir}.bl.example.com a:mail.example.com -all"],
      "two.example": ["v=spf1 a:both.example.com -all"],
    };
    const addresses: Record<string, string[]> = { "mail.example.com": ["240.0.0.1"], "both.example.com": ["203.0.113.5", "240.0.0.1"] };
    const sync: SpfSyncLookup = {
      txt: (name) => (zone[name] ? { ok: true, value: zone[name] } : { ok: false, failure: "nxdomain", message: name }),
      a: (name) => (addresses[name] ? { ok: true, value: addresses[name] } : { ok: false, failure: "nxdomain", message: name }),
      aaaa: (name) => ({ ok: false, failure: "nodata", message: name }),
      mx: (name) => ({ ok: false, failure: "nodata", message: name }),
      ptr: (ip) => ({ ok: false, failure: "unknown", message: ip }),
    };
    const check = (domain: string) => checkSpfSync({ ip: "240.0.0.1", clientIpUnknown: true, domain, sender: `postmaster@${domain}` }, sync);
    const macro = check("macro.example");
    assert.deepEqual([macro.result, macro.undetermined], ["temperror", true], macro.reason);
    assert.match(macro.reason, /macro %\{i\} expands the address known only after deploy/);
    assert.equal(check("two.example").result, "pass", "the host's own address among the answers decides, whatever comes first");
  });

  it("reads an IPv4-mapped client in every spelling as IPv4, refuses zone IDs, and takes a garbage AAAA answer as no match", () => {
    const zone: Record<string, string[]> = { "v4.example": ["v=spf1 ip4:1.2.3.4 -all"], "zone.example": ["v=spf1 ip6:fe80::1%eth0 -all"], "aaaa.example": ["v=spf1 aaaa:x a:host.aaaa.example ?all"] };
    const sync: SpfSyncLookup = {
      txt: (name) => (zone[name] ? { ok: true, value: zone[name] } : { ok: false, failure: "nxdomain", message: name }),
      a: (name) => ({ ok: false, failure: "nodata", message: name }),
      aaaa: (name) => (name === "host.aaaa.example" ? { ok: true, value: ["1.2.3.4"] } : { ok: false, failure: "nodata", message: name }),
      mx: (name) => ({ ok: false, failure: "nodata", message: name }),
      ptr: (ip) => ({ ok: false, failure: "nxdomain", message: ip }),
    };
    for (const ip of ["::ffff:1.2.3.4", "::ffff:102:304", "0:0:0:0:0:ffff:1.2.3.4", "::FFFF:0102:0304"]) {
      assert.equal(checkSpfSync({ ip, domain: "v4.example" }, sync).result, "pass", ip);
    }
    assert.equal(checkSpfSync({ ip: "::ffff:1.2.3.5", domain: "v4.example" }, sync).result, "fail");
    assert.equal(checkSpfSync({ ip: "fe80::1", domain: "zone.example" }, sync).result, "permerror");
    assert.throws(() => checkSpfSync({ ip: "fe80::1%eth0", domain: "v4.example" }, sync), /"fe80::1%eth0" is not an IP address/);
    zone["aaaa.example"] = ["v=spf1 a:host.aaaa.example ?all"];
    assert.equal(checkSpfSync({ ip: "2001:db8::1", domain: "aaaa.example" }, sync).result, "neutral");
  });
});
