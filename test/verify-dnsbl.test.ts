/**
 * verify --dnsbl over a real knotd serving the blocklists' zones: an address
 * listed (with the list's meaning of the code), not listed, each of
 * Spamhaus's 127.255.255.x "cannot tell" answers, an answer outside
 * 127.0.0.0/24, a list that does not answer; and the public-resolver warning.
 * Plus the pure readers (components/sending/dnsbl.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { main } from "../cli/postforge";
import { dnsblResolverCheck } from "../cli/verify/checks/dnsbl";
import { DNSBLS, dnsblQueryName, isPublicResolver, judgeDnsblAnswer } from "../components/sending/dnsbl";
import { startKnot, type KnotServer } from "./support/dns-tools";
import { captureIo } from "./support/io";
import { rawZone } from "./support/verify-zones";

const zen = DNSBLS.find((l) => l.zone === "zen.spamhaus.org")!;

describe("DNS blocklist answers, read with the lists' own rules", () => {
  it("asks for the reversed octets under the zone, IPv4 only", () => {
    assert.equal(dnsblQueryName("203.0.113.25", "zen.spamhaus.org"), "25.113.0.203.zen.spamhaus.org");
    assert.equal(dnsblQueryName("2001:db8::1", "zen.spamhaus.org"), undefined);
  });

  it("reads 127.0.0.x as listed (with the code's meaning), NXDOMAIN as clear, and 127.255.255.x, other answers and failures as cannot tell", () => {
    assert.deepEqual(judgeDnsblAnswer(zen, { addresses: ["127.0.0.4"] }), { state: "listed", detail: "127.0.0.4 XBL: an exploited or infected host (CBL)" });
    assert.equal(judgeDnsblAnswer(zen, { addresses: ["127.0.0.99"] }).detail, "127.0.0.99 listed (a code the list does not document)");
    assert.deepEqual(judgeDnsblAnswer(zen, { nxdomain: true }), { state: "clear", detail: "not listed" });
    for (const code of ["127.255.255.252", "127.255.255.254", "127.255.255.255"]) assert.equal(judgeDnsblAnswer(zen, { addresses: [code] }).state, "unknown", code);
    assert.match(judgeDnsblAnswer(zen, { addresses: ["127.255.255.254"] }).detail, /public or open resolvers/);
    // An error code wins over a listing in the same answer: the list did not judge.
    assert.equal(judgeDnsblAnswer(zen, { addresses: ["127.0.0.2", "127.255.255.255"] }).state, "unknown");
    assert.equal(judgeDnsblAnswer(zen, { addresses: ["192.0.2.1"] }).state, "unknown");
    assert.equal(judgeDnsblAnswer(zen, { failure: "timeout" }).state, "unknown");
  });

  it("verify warns when its resolver is a public one, naming it, and not for one's own", () => {
    const warning = dnsblResolverCheck("example.com", ["10.0.0.2", "8.8.8.8"])!;
    assert.equal(warning.status, "warn");
    assert.match(warning.message, /^the blocklist checks go through public resolver 8\.8\.8\.8: Spamhaus refuses such queries \(127\.255\.255\.254\).*; run verify with --resolver set to a resolver of your own$/);
    assert.equal(dnsblResolverCheck("example.com", ["10.0.0.2", "127.0.0.53"]), undefined);
  });

  it("knows the public resolvers, with or without a port", () => {
    for (const server of ["8.8.8.8", "1.1.1.1:53", "[2606:4700:4700::1111]:53", "9.9.9.9"]) assert.equal(isPublicResolver(server), true, server);
    for (const server of ["10.0.0.2", "127.0.0.1:5353", "[::1]:53", "169.254.169.253"]) assert.equal(isPublicResolver(server), false, server);
  });
});

describe("verify --domain --dnsbl over live DNS", () => {
  let knot: KnotServer;
  // Each MX host's address meets one kind of answer on Spamhaus ZEN; the other lists answer for the first only.
  const hosts = {
    listed: "192.0.2.2",
    clear: "192.0.2.3",
    publicResolver: "192.0.2.4",
    quota: "192.0.2.5",
    typo: "192.0.2.6",
    wildcard: "192.0.2.7",
  };
  const reversed = (ip: string) => ip.split(".").reverse().join(".");
  before(async () => {
    knot = await startKnot([
      rawZone("dnsbl.test", [
        ...Object.entries(hosts).map(([name, ip], i) => `@ IN MX ${10 + i} ${name}.dnsbl.test.`),
        ...Object.entries(hosts).map(([name, ip]) => `${name} IN A ${ip}`),
      ]),
      rawZone("zen.spamhaus.org", [
        `${reversed(hosts.listed)} IN A 127.0.0.2`,
        `${reversed(hosts.listed)} IN A 127.0.0.4`,
        `${reversed(hosts.publicResolver)} IN A 127.255.255.254`,
        `${reversed(hosts.quota)} IN A 127.255.255.255`,
        `${reversed(hosts.typo)} IN A 127.255.255.252`,
        `${reversed(hosts.wildcard)} IN A 198.51.100.1`,
      ]),
      rawZone("bl.spamcop.net", [`${reversed(hosts.listed)} IN A 127.0.0.2`]),
      rawZone("b.barracudacentral.org", []),
      rawZone("psbl.surriel.com", []),
      // No bl.mailspike.net zone: that list does not answer (the server refuses), which is "cannot tell".
    ]);
  });
  after(async () => knot?.stop());

  const verify = async (...extra: string[]) => {
    const io = captureIo();
    const code = await main(["verify", "--domain", "dnsbl.test", "--resolver", `127.0.0.1:${knot.port}`, "--timeout", "1500", "--dnsbl", "--json", ...extra], io);
    const checks = JSON.parse(io.out) as { id: string; status: string; message: string }[];
    return { code, checks: checks.filter((c) => c.id.startsWith("dnsbl.")) };
  };

  it("fails a listed address naming the list and the code's meaning, passes a clear one, warns for each cannot-tell answer", async () => {
    const { code, checks } = await verify();
    assert.equal(code, 1, "a listing fails verify");
    const byId = (zone: string, ip: string) => checks.find((c) => c.id === `dnsbl.${zone}.${ip}`)!;
    const listed = byId("zen.spamhaus.org", hosts.listed);
    assert.equal(listed.status, "fail");
    assert.match(listed.message, /^192\.0\.2\.2 is listed on Spamhaus ZEN \(zen\.spamhaus\.org\): 127\.0\.0\.(2 SBL: a spam source or spam operation; 127\.0\.0\.4 XBL|4 XBL: an exploited or infected host \(CBL\); 127\.0\.0\.2 SBL)/);
    assert.equal(byId("bl.spamcop.net", hosts.listed).status, "fail");
    assert.deepEqual([byId("zen.spamhaus.org", hosts.clear).status, byId("zen.spamhaus.org", hosts.clear).message], ["pass", "192.0.2.3 is not listed on Spamhaus ZEN (zen.spamhaus.org)"]);
    assert.equal(byId("b.barracudacentral.org", hosts.listed).status, "pass");
    for (const [ip, why] of [
      [hosts.publicResolver, /127\.255\.255\.254: the list refuses queries through public or open resolvers/],
      [hosts.quota, /127\.255\.255\.255: the list says its free query quota is exceeded/],
      [hosts.typo, /127\.255\.255\.252: the list says the query was malformed/],
      [hosts.wildcard, /answered 198\.51\.100\.1, which is no answer of the list's/],
    ] as const) {
      const c = byId("zen.spamhaus.org", ip);
      assert.equal(c.status, "warn", `${ip}: ${c.message}`);
      assert.match(c.message, why);
      assert.match(c.message, /cannot tell$/);
    }
    // A list that does not answer is never a pass.
    assert.equal(byId("bl.mailspike.net", hosts.clear).status, "warn");
    assert.match(byId("bl.mailspike.net", hosts.clear).message, /no answer .*; cannot tell$/);
    // Five lists for each of the six addresses, and no resolver warning for a resolver of one's own.
    assert.equal(checks.filter((c) => c.id !== "dnsbl.resolver").length, 30);
    assert.equal(checks.find((c) => c.id === "dnsbl.resolver"), undefined);
  });

  it("checks nothing without --dnsbl", async () => {
    const io = captureIo();
    await main(["verify", "--domain", "dnsbl.test", "--resolver", `127.0.0.1:${knot.port}`, "--timeout", "1500", "--json"], io);
    assert.equal((JSON.parse(io.out) as { id: string }[]).filter((c) => c.id.startsWith("dnsbl.")).length, 0);
  });
});
