/**
 * The verify SPF evaluator over a real knotd: check_host() results per IP
 * (RFC 7208 cases after the openspf suite: include-at-limit, over the limit,
 * void lookups, include/redirect without SPF, redirect ignored with all,
 * a/mx/exists), and the worst-case walk. Plus the pure checks on
 * looked-up data, without DNS.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { fcrdnsCheck } from "../cli/verify/checks/mx";
import { mtaStsPolicyCheck } from "../cli/verify/checks/tls";
import { fetchMtaStsPolicy } from "../cli/verify/net";
import { dkimChecks } from "../cli/verify/checks/dkim";
import { checkPlannedRecordSet } from "../cli/verify/checks/records";
import { spfRecordChecks } from "../cli/verify/checks/spf";
import { createDnsLookup, expandIPv6, reverseName, type DnsLookup } from "../cli/verify/dns";
import { analyzeSpf, evaluateSpf } from "../cli/verify/spf-eval";
import { startKnot, type KnotServer } from "./support/dns-tools";
import { rawZone, txt } from "./support/verify-zones";

const includes = (prefix: string, n: number, last: string) =>
  Array.from({ length: n }, (_, i) => txt(`${prefix}${i + 1}`, i < n - 1 ? `v=spf1 include:${prefix}${i + 2}.spf.test -all` : last));

describe("SPF evaluation over live DNS", () => {
  let knot: KnotServer;
  let dns: DnsLookup;
  before(async () => {
    knot = await startKnot([
      rawZone("spf.test", [
        "host IN A 192.0.2.10",
        "host6 IN AAAA 2001:db8::10",
        "@ IN MX 10 host.spf.test.",
        "exists-yes IN A 127.0.0.2",
        txt("plain", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"),
        txt("softfail", "v=spf1 ip4:192.0.2.1 ~all"),
        txt("a", "v=spf1 a:host.spf.test a:host6.spf.test -all"),
        txt("mx", "v=spf1 mx:spf.test -all"),
        txt("exists", "v=spf1 exists:%{l}.spf.test -all"),
        // 9 lookups of chain, then ip4 matches before term 11: passes (suite include-at-limit).
        txt("atlimit", "v=spf1 include:c1.spf.test ip4:198.51.100.1 include:c1.spf.test -all"),
        ...includes("c", 9, "v=spf1 ip4:203.0.113.9 -all"),
        txt("over", "v=spf1 include:d1.spf.test -all"),
        ...includes("d", 11, "v=spf1 ip4:198.51.100.1 -all"),
        txt("void", "v=spf1 a:n1.spf.test a:n2.spf.test a:n3.spf.test ip4:198.51.100.1 -all"),
        txt("incnone", "v=spf1 include:host.spf.test -all"),
        txt("redirnone", "v=spf1 redirect=host.spf.test"),
        txt("redirect", "v=spf1 redirect=plain.spf.test"),
        txt("redirall", "v=spf1 ?all redirect=plain.spf.test"),
        txt("two", "v=spf1 -all"),
        txt("two", "v=spf1 +all"),
        txt("loop", "v=spf1 include:loop.spf.test -all"),
      ]),
    ]);
    dns = createDnsLookup({ server: `127.0.0.1:${knot.port}`, timeoutMs: 1500, concurrency: 8 });
  });
  after(async () => knot?.stop());

  const cases: [string, string, string, string?][] = [
    ["192.0.2.77", "plain.spf.test", "pass"],
    ["2001:db8::1", "plain.spf.test", "pass"],
    ["198.51.100.1", "plain.spf.test", "fail"],
    ["198.51.100.1", "softfail.spf.test", "softfail"],
    ["192.0.2.10", "a.spf.test", "pass"],
    ["2001:db8::10", "a.spf.test", "pass"],
    ["192.0.2.10", "mx.spf.test", "pass"],
    ["192.0.2.11", "mx.spf.test", "fail"],
    ["198.51.100.1", "atlimit.spf.test", "pass"],
    ["198.51.100.1", "over.spf.test", "permerror", "allows 10"],
    ["198.51.100.1", "void.spf.test", "permerror", "void lookup 3"],
    ["198.51.100.1", "incnone.spf.test", "permerror", "host.spf.test has no SPF record"],
    ["198.51.100.1", "redirnone.spf.test", "permerror", "RFC 7208 §6.1"],
    ["192.0.2.5", "redirect.spf.test", "pass"],
    ["192.0.2.5", "redirall.spf.test", "neutral"],
    ["192.0.2.5", "two.spf.test", "permerror", "2 SPF records"],
    ["192.0.2.5", "nothing.spf.test", "none"],
    ["192.0.2.5", "loop.spf.test", "permerror", "allows 10"],
  ];
  for (const [ip, domain, result, reason] of cases) {
    it(`${ip} at ${domain}: ${result}`, async () => {
      const evaluation = await evaluateSpf(ip, domain, dns);
      assert.equal(evaluation.result, result, evaluation.reason);
      if (reason) assert.ok(evaluation.reason.includes(reason), evaluation.reason);
    });
  }

  it("expands macros in exists: (the local part of the sender)", async () => {
    assert.equal((await evaluateSpf("192.0.2.5", "exists.spf.test", dns, "exists-yes@example.org")).result, "pass");
    assert.equal((await evaluateSpf("192.0.2.5", "exists.spf.test", dns, "nobody@example.org")).result, "fail");
  });

  it("walks the worst case: counts every include, void lookups and problems", async () => {
    const atLimit = await analyzeSpf("atlimit.spf.test", dns);
    assert.equal(atLimit.lookups, 18, "both include chains counted");
    const voids = await analyzeSpf("void.spf.test", dns);
    assert.equal(voids.voidLookups, 3);
    const none = await analyzeSpf("incnone.spf.test", dns);
    assert.match(none.problems.join(), /include:host\.spf\.test.*no SPF record/);
    const loop = await analyzeSpf("loop.spf.test", dns);
    assert.match(loop.problems.join(), /loops back/);
    assert.deepEqual((await analyzeSpf("redirall.spf.test", dns)).lookups, 0, "redirect ignored when all is present");
  });
});

describe("verify checks on looked-up data (no DNS)", () => {
  const found = (value: string[]) => ({ ok: true as const, value });
  const nodata = { ok: false as const, failure: "nodata" as const, message: "no TXT record at x" };
  const timeout = { ok: false as const, failure: "timeout" as const, message: "DNS query for x TXT timed out after 5 ms at 127.0.0.1:1" };

  it("spf.record: none, two, one; a timeout is a failure with the query's message", () => {
    assert.equal(spfRecordChecks("x.test", nodata).checks[0].status, "fail");
    assert.equal(spfRecordChecks("x.test", found(["v=spf1 -all", "v=spf1 ~all"])).checks[0].status, "fail");
    const one = spfRecordChecks("x.test", found(["v=spf1 ip4:192.0.2.1 -all", "google-site-verification=abc"]));
    assert.deepEqual(one.checks.map((c) => `${c.id} ${c.status}`), ["spf.record pass", "spf.valid pass"]);
    assert.equal(spfRecordChecks("x.test", found(["v=spf1 +all"])).checks[1].status, "fail");
    assert.deepEqual(spfRecordChecks("x.test", timeout).checks[0], { id: "spf.record", domain: "x.test", status: "fail", message: timeout.message });
  });

  it("record sets compare as sets in one normal form", () => {
    assert.equal(checkPlannedRecordSet("x.test", "x.test", "MX", ["10 mx.x.test"], found(["10 MX.x.test"])).status, "pass");
    const differs = checkPlannedRecordSet("x.test", "x.test", "TXT", ["a"], found(["b"]));
    assert.equal(differs.status, "fail");
    assert.match(differs.message, /missing "a"; unplanned "b"/);
    assert.equal(checkPlannedRecordSet("x.test", "x.test", "A", ["192.0.2.1"], nodata).id, "record.a.x.test");
  });

  it("dkim: placeholder plans compare tags only; a different key type fails; bad keys fail validity", () => {
    const ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    const ok = dkimChecks("x.test", "s1", found([ed]), "v=DKIM1; k=ed25519; p=<generated-at-deploy>");
    assert.deepEqual(ok.map((c) => c.status), ["pass", "pass"]);
    assert.equal(dkimChecks("x.test", "s1", found([ed]), "v=DKIM1; k=rsa; p=<generated-at-deploy>")[0].status, "fail");
    assert.equal(dkimChecks("x.test", "s1", found(["v=DKIM1; k=ed25519; p=AAAA"]))[1].status, "fail");
    assert.equal(dkimChecks("x.test", "s1", nodata)[0].id, "dkim.s1.present");
  });

  it("fcrdns: round trip passes, another name warns against the plan, no PTR fails", () => {
    const forward = new Map([["mx.x.test", found(["192.0.2.1"])]]);
    assert.equal(fcrdnsCheck("x.test", "192.0.2.1", found(["mx.x.test"]), forward).status, "pass");
    assert.equal(fcrdnsCheck("x.test", "192.0.2.1", found(["mx.x.test"]), forward, ["mail.x.test"]).status, "warn");
    assert.equal(fcrdnsCheck("x.test", "192.0.2.1", nodata, forward).status, "fail");
  });

  it("reverse names for IPv4 and IPv6", () => {
    assert.equal(reverseName("203.0.113.25"), "25.113.0.203.in-addr.arpa");
    assert.equal(expandIPv6("2001:db8::1"), "2001:0db8:0000:0000:0000:0000:0000:0001");
    assert.equal(reverseName("2001:db8::1"), `1.${"0.".repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
  });
});

describe("MTA-STS policy fetch (--tls), on a loopback HTTP server", () => {
  const policy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.x.test\r\nmax_age: 1209600\r\n";
  let server: Server;
  let base = "";
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/redirect") return void res.writeHead(301, { location: "/policy" }).end();
      if (req.url === "/html") return void res.writeHead(200, { "content-type": "text/html" }).end(policy);
      if (req.url === "/silent") return; // never answers
      res.writeHead(200, { "content-type": "text/plain" }).end(policy);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("passes the planned policy, fails another one, a redirect, a wrong type and silence", async () => {
    const fetch = (path: string) => fetchMtaStsPolicy("x.test", { timeoutMs: 300, url: `${base}${path}` });
    assert.equal(mtaStsPolicyCheck("x.test", await fetch("/policy"), policy).status, "pass");
    assert.match(mtaStsPolicyCheck("x.test", await fetch("/policy"), policy.replace("enforce", "testing")).message, /differs from the planned policy/);
    assert.match(mtaStsPolicyCheck("x.test", await fetch("/redirect")).message, /forbids following redirects/);
    assert.match(mtaStsPolicyCheck("x.test", await fetch("/html")).message, /not text\/plain/);
    assert.match(mtaStsPolicyCheck("x.test", await fetch("/silent")).message, /no answer within 300 ms/);
    assert.equal(mtaStsPolicyCheck("x.test", undefined).status, "warn");
  });
});
