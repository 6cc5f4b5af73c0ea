/**
 * `postforge verify` against a real knotd on loopback: the example prod
 * stack's zones served as a deploy publishes them (no failures), the same
 * zones deliberately broken (each break its expected check), the --domain
 * mode on good and broken domains, a resolver that never answers, STARTTLS on
 * a loopback SMTP server, and the command line (exit codes, --json shape).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DnsRecord } from "../components/dns/model";
import { main } from "../cli/postforge";
import type { Plan } from "../cli/plan/plan";
import type { Check } from "../cli/verify/checks/check";
import { verifyCommand } from "../cli/verify/command";
import { createDnsLookup } from "../cli/verify/dns";
import { verifyDomains, verifyPlan, type VerifyOptions } from "../cli/verify/run";
import { freePort, startKnot, type KnotServer } from "./support/dns-tools";
import { PROJECT_DIR, planExampleStack } from "./support/offline";
import {
  deployedRecords,
  prodZones,
  rawZone,
  reverseZone,
  startSilentServer,
  startSmtpServer,
  thirdPartyZones,
  txt,
  type SilentServer,
  type SmtpTestServer,
} from "./support/verify-zones";
import { captureIo } from "./support/io";

const TIMEOUT_MS = 1500;


function options(port: number, smtp: VerifyOptions["smtp"], extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    dns: createDnsLookup({ server: `127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS, concurrency: 8 }),
    dmarcMode: "rfc9989",
    tls: false,
    timeoutMs: TIMEOUT_MS,
    smtp,
    ...extra,
  };
}

function find(checks: Check[], domain: string, id: string): Check {
  const found = checks.filter((c) => c.domain === domain && c.id === id);
  assert.equal(found.length, 1, `expected one check ${domain} ${id}, got ${found.length}:\n${checks.map((c) => `${c.domain} ${c.id}`).join("\n")}`);
  return found[0];
}

function expectStatus(checks: Check[], domain: string, id: string, status: Check["status"], message?: RegExp): void {
  const c = find(checks, domain, id);
  assert.equal(c.status, status, `${domain} ${id}: ${c.message}`);
  if (message) assert.match(c.message, message);
}

const GOOD_DKIM = (() => {
  const record = deployedRecords([{ name: "s1._domainkey.good.test", type: "TXT", ttl: 300, purpose: "dkim", strings: ["v=DKIM1; k=rsa; p=<generated-at-deploy>"] }])[0];
  return record.type === "TXT" ? record.strings.join("") : "";
})();

/** Domains for --domain mode: one good, several broken, and the reverse zone for their MX hosts. */
function domainModeZones() {
  const chain = Array.from({ length: 11 }, (_, i) => txt(`c${i + 1}`, i < 10 ? `v=spf1 include:c${i + 2}.bad.test -all` : "v=spf1 ip4:192.0.2.66 -all"));
  return [
    rawZone("good.test", [
      "@ IN MX 10 mx.good.test.",
      "mx IN A 192.0.2.25",
      txt("@", "v=spf1 ip4:192.0.2.25 include:_spf.good.test -all"),
      txt("_spf", "v=spf1 a:mx.good.test -all"),
      txt("s1._domainkey", GOOD_DKIM),
      txt("_dmarc", "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"),
      txt("_mta-sts", "v=STSv1; id=20260101"),
      txt("_smtp._tls", "v=TLSRPTv1; rua=mailto:tls@good.test"),
      txt("default._bimi", "v=BIMI1; l=https://good.test/logo.svg; a=https://good.test/vmc.pem"),
    ]),
    rawZone("bad.test", [
      "@ IN MX 10 mx.bad.test.",
      "mx IN A 192.0.2.66",
      // DMARC at the apex instead of _dmarc, and SPF over 10 lookups through nested includes.
      txt("@", "v=DMARC1; p=reject"),
      txt("@", "v=spf1 include:c1.bad.test -all"),
      ...chain,
    ]),
    rawZone("twospf.test", [
      txt("@", "v=spf1 ip4:192.0.2.1 -all"),
      txt("@", "v=spf1 ip4:192.0.2.2 -all"),
      // rua at another organization that has not authorized it.
      txt("_dmarc", "v=DMARC1; p=none; rua=mailto:reports@good.test"),
    ]),
    rawZone("void.test", [txt("@", "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test -all"), txt("_dmarc", "v=DMARC1; p=reject")]),
    reverseZone("192.0.2", { "25": "mx.good.test", "66": "elsewhere.good.test" }),
  ];
}

describe("postforge verify against a real authoritative server", () => {
  let prod: Plan;
  let good: KnotServer;
  let broken: KnotServer;
  let starttls: SmtpTestServer;
  let plain: SmtpTestServer;
  let silent: SilentServer;

  before(async () => {
    prod = await planExampleStack("prod");
    const reverse = reverseZone("198.51.100", { "10": "mx1.example.com", "11": "mx2.example.com" });
    [good, broken, starttls, plain, silent] = await Promise.all([
      startKnot([...prodZones(prod), ...thirdPartyZones(), reverse, ...domainModeZones()]),
      startKnot([...prodZones(prod, breakProd), ...thirdPartyZones(), reverseZone("198.51.100", { "10": "mx1.example.com", "11": "other.example.org" })]),
      startSmtpServer(true),
      startSmtpServer(false),
      freePort().then(startSilentServer),
    ]);
  });
  after(async () => {
    await Promise.all([good?.stop(), broken?.stop(), starttls?.stop(), plain?.stop(), silent?.stop()]);
  });

  describe("the prod stack served as planned", () => {
    let checks: Check[];
    before(async () => {
      checks = await verifyPlan(prod, options(good.port, { port: starttls.port, connectTo: "127.0.0.1" }));
    });

    it("has no failing check", () => {
      assert.deepEqual(checks.filter((c) => c.status === "fail"), []);
    });

    it("warns only where nothing was fetched: the MTA-STS policy and MX certificates without --tls", () => {
      assert.deepEqual(
        checks.filter((c) => c.status === "warn").map((c) => `${c.domain} ${c.id}`).sort(),
        [
          "example.co.uk tls.cert.mx1.example.com",
          "example.com mta-sts.policy",
          "example.com tls.cert.mx1.example.com",
          "example.com tls.cert.mx2.example.com",
          "example.org tls.cert.mx1.example.com",
        ],
      );
      assert.match(find(checks, "example.com", "tls.cert.mx1.example.com").message, /not checked; pass --tls/);
    });

    it("checks every planned record, DKIM keys made at deploy by presence and validity", () => {
      expectStatus(checks, "example.com", "dkim.pf2026q4.present", "pass", /generated at deploy/);
      expectStatus(checks, "example.com", "dkim.pf2026q4e.valid", "pass");
      expectStatus(checks, "example.co.uk", "dkim.partner2026.present", "pass", /as planned/);
      expectStatus(checks, "example.net", "dkim.*.present", "pass");
      expectStatus(checks, "example.com", "record.mx.example.com", "pass");
      expectStatus(checks, "example.com", "record.caa.example.com", "pass");
      expectStatus(checks, "example.com", "record.a.mx1.example.com", "pass");
    });

    it("evaluates SPF live: lookups, sending IPs, HELO records", () => {
      expectStatus(checks, "example.com", "spf.lookups", "pass", /needs 4 of 10/);
      expectStatus(checks, "example.com", "spf.void-lookups", "pass");
      expectStatus(checks, "example.com", "spf.pass.198.51.100.10", "pass");
      expectStatus(checks, "example.com", "spf.pass.198.51.100.11", "pass");
      expectStatus(checks, "example.com", "spf.helo.mx1.example.com.198.51.100.10", "pass");
      expectStatus(checks, "example.org", "spf.pass.198.51.100.10", "pass");
    });

    it("checks DMARC, report authorization, FCrDNS, MTA-STS, TLS-RPT, BIMI and STARTTLS", () => {
      expectStatus(checks, "example.com", "dmarc.valid", "pass");
      expectStatus(checks, "example.org", "dmarc.report-auth.example.com", "pass");
      expectStatus(checks, "example.com", "fcrdns.198.51.100.10", "pass", /198\.51\.100\.10 → mx1\.example\.com → 198\.51\.100\.10/);
      expectStatus(checks, "example.com", "mta-sts.record", "pass");
      expectStatus(checks, "example.com", "tls-rpt.valid", "pass");
      expectStatus(checks, "example.com", "bimi.dmarc", "pass");
      expectStatus(checks, "example.com", "starttls.mx1.example.com", "pass");
      assert.ok(starttls.ehlos.length >= 2, "the SMTP server was greeted");
    });
  });

  describe("the prod stack served broken", () => {
    let checks: Check[];
    before(async () => {
      checks = await verifyPlan(prod, options(broken.port, { port: plain.port, connectTo: "127.0.0.1" }));
    });

    it("a missing DKIM key fails its presence check", () => {
      expectStatus(checks, "example.com", "dkim.pf2026q4.present", "fail", /no DKIM key record at pf2026q4\._domainkey\.example\.com/);
      expectStatus(checks, "example.com", "dkim.pf2026q4e.present", "pass");
    });

    it("two SPF records fail spf.record", () => {
      expectStatus(checks, "example.org", "spf.record", "fail", /2 SPF records/);
      expectStatus(checks, "example.org", "record.txt.example.org", "fail", /unplanned/);
    });

    it("SPF over 10 lookups through nested includes fails spf.lookups, while the listed IPs still pass", () => {
      expectStatus(checks, "example.com", "spf.lookups", "fail", /needs 11 DNS lookups/);
      expectStatus(checks, "example.com", "spf.pass.198.51.100.10", "pass");
    });

    it("DMARC at the apex instead of _dmarc fails location and record", () => {
      expectStatus(checks, "example.co.uk", "dmarc.location", "fail", /no effect/);
      expectStatus(checks, "example.co.uk", "dmarc.record", "fail", /no DMARC record at _dmarc\.example\.co\.uk/);
    });

    it("a PTR pointing elsewhere fails FCrDNS", () => {
      expectStatus(checks, "example.com", "fcrdns.198.51.100.11", "fail", /other\.example\.org has no address record/);
      expectStatus(checks, "example.com", "fcrdns.198.51.100.10", "pass");
    });

    it("an external rua without its _report._dmarc record fails report authorization", () => {
      expectStatus(checks, "example.net", "dmarc.report-auth.example.com", "fail", /example\.net\._report\._dmarc\.example\.com/);
      expectStatus(checks, "example.org", "dmarc.report-auth.example.com", "pass");
    });

    it("an MX without STARTTLS fails starttls", () => {
      expectStatus(checks, "example.com", "starttls.mx1.example.com", "fail", /does not offer STARTTLS/);
    });
  });

  describe("--domain mode", () => {
    it("passes a good domain (warning about nothing)", async () => {
      const checks = await verifyDomains(["good.test"], ["s1"], options(good.port, { port: 25 }));
      assert.deepEqual(checks.filter((c) => c.status !== "pass"), []);
      expectStatus(checks, "good.test", "spf.lookups", "pass", /needs 2 of 10/);
      expectStatus(checks, "good.test", "dkim.s1.valid", "pass");
      expectStatus(checks, "good.test", "fcrdns.192.0.2.25", "pass");
      expectStatus(checks, "good.test", "bimi.dmarc", "pass");
    });

    it("fails a broken domain on each broken rule", async () => {
      const checks = await verifyDomains(["bad.test", "twospf.test", "void.test"], ["s1"], options(good.port, { port: 25 }));
      expectStatus(checks, "bad.test", "spf.lookups", "fail", /needs 11 DNS lookups/);
      expectStatus(checks, "bad.test", "dmarc.location", "fail");
      expectStatus(checks, "bad.test", "dmarc.record", "fail");
      expectStatus(checks, "bad.test", "dkim.s1.present", "fail");
      expectStatus(checks, "bad.test", "fcrdns.192.0.2.66", "fail", /elsewhere\.good\.test/);
      expectStatus(checks, "bad.test", "mta-sts.record", "warn");
      expectStatus(checks, "twospf.test", "spf.record", "fail", /2 SPF records/);
      expectStatus(checks, "twospf.test", "dmarc.report-auth.good.test", "fail");
      expectStatus(checks, "void.test", "spf.void-lookups", "fail", /3 void lookups/);
    });
  });

  describe("the lookup layer", () => {
    it("reuses its resolvers: the prod stack's queries run on at most as many Resolvers as may be in flight", async () => {
      const opts = options(good.port, { port: starttls.port, connectTo: "127.0.0.1" });
      const checks = await verifyPlan(prod, opts);
      assert.deepEqual(checks.filter((c) => c.status === "fail"), []);
      assert.ok(opts.dns.stats.sent > 30, `only ${opts.dns.stats.sent} queries`);
      assert.ok(opts.dns.stats.resolvers <= 8, `${opts.dns.stats.resolvers} Resolvers for ${opts.dns.stats.sent} queries`);
    });

    it("a pooled Resolver cancelled by a timeout is asked again, not left cancelled", async () => {
      const timeout = 200;
      const dns = createDnsLookup({ server: `127.0.0.1:${silent.port}`, timeoutMs: timeout, concurrency: 1 });
      assert.equal((await dns.txt("good.test")).ok, false);
      // The second question runs on the Resolver the first one cancelled: it must wait its own timeout.
      const started = Date.now();
      const second = await dns.mx("good.test");
      const waited = Date.now() - started;
      assert.equal(second.ok, false);
      assert.ok(waited >= timeout - 20, `the second query ended after ${waited} ms: it was never sent`);
      assert.equal(dns.stats.resolvers, 1);
      assert.equal(dns.stats.sent, 2);
    });
  });

  describe("a resolver that never answers", () => {
    it("fails clearly within the timeout instead of hanging", async () => {
      const timeout = 400;
      const io = captureIo();
      const started = Date.now();
      const code = await main(["verify", "--domain", "good.test", "--resolver", `127.0.0.1:${silent.port}`, "--timeout", String(timeout), "--json"], io);
      const elapsed = Date.now() - started;
      assert.equal(code, 1);
      assert.ok(elapsed < timeout * 2 + 500, `took ${elapsed} ms`);
      const checks = JSON.parse(io.out) as Check[];
      const spf = checks.find((c) => c.id === "spf.record")!;
      assert.equal(spf.status, "fail");
      assert.equal(spf.message, `DNS query for good.test TXT timed out after ${timeout} ms at 127.0.0.1:${silent.port}`);
    });
  });

  describe("command line", () => {
    it("exits 0 with a JSON array of {id, domain, status, message} for a good domain", async () => {
      const io = captureIo();
      assert.equal(await main(["verify", "--domain", "good.test", "--dkim-selector", "s1", "--resolver", `127.0.0.1:${good.port}`, "--json"], io), 0, io.err);
      const checks = JSON.parse(io.out) as Check[];
      assert.ok(Array.isArray(checks) && checks.length > 0);
      for (const c of checks) {
        assert.deepEqual(Object.keys(c), ["id", "domain", "status", "message"]);
        assert.ok(["pass", "warn", "fail"].includes(c.status));
      }
      assert.ok(checks.some((c) => c.id === "dkim.s1.present"));
    });

    it("exits 1 and prints a checklist for a broken domain", async () => {
      const io = captureIo();
      assert.equal(await main(["verify", "--domain", "twospf.test", "--resolver", `127.0.0.1:${good.port}`], io), 1);
      assert.match(io.out, /^Verify twospf\.test against 127\.0\.0\.1:\d+/);
      assert.match(io.out, /✗ spf\.record: 2 SPF records/);
      assert.match(io.out, /FAILED\n$/);
    });

    it("verifies a stack end to end: plan offline, then DNS (STARTTLS unreachable only warns)", async () => {
      const io = captureIo();
      const code = await verifyCommand(["--stack", "prod", "--cwd", PROJECT_DIR, "--resolver", `127.0.0.1:${good.port}`, "--json"], io, {
        smtp: { port: starttls.port, connectTo: "127.0.0.1" },
      });
      const checks = JSON.parse(io.out) as Check[];
      assert.deepEqual(checks.filter((c) => c.status === "fail"), []);
      assert.equal(code, 0);
    });

    it("exits 2 on bad flags, naming the flag, the value and the fix", async () => {
      const cases: [string[], RegExp][] = [
        [["verify"], /--stack = nothing: give exactly one of --stack NAME/],
        [["verify", "--stack", "prod", "--domain", "example.com"], /not both/],
        [["verify", "--domain", "example.com", "--timeout", "soon"], /--timeout = "soon": must be whole milliseconds/],
        [["verify", "--domain", "example.com", "--resolver", "dns.example:53"], /--resolver = "dns.example:53": must be an IP address/],
        [["verify", "--domain", "example.com", "--dmarc-mode", "bis"], /--dmarc-mode = "bis": must be rfc9989/],
        [["verify", "--domain", "not a domain"], /--domain\[0\] = "not a domain"/],
        [["verify", "--stack", "prod", "--dkim-selector", "s1"], /--dkim-selector = \["s1"\]: applies to --domain only/],
        [["verify", "--domain", "example.com", "--frobnicate"], /Unknown option '--frobnicate'/],
      ];
      for (const [argv, message] of cases) {
        const io = captureIo();
        assert.equal(await main(argv, io), 2, argv.join(" "));
        assert.match(io.err, message, argv.join(" "));
      }
    });
  });
});

/** The deliberate breaks served by the second knotd (the plan stays the same). */
function breakProd(domain: string, records: DnsRecord[]): DnsRecord[] {
  const ttl = records[0]?.ttl ?? 300;
  const t = (name: string, value: string): DnsRecord => ({ name, type: "TXT", ttl, purpose: "other", strings: [value] });
  switch (domain) {
    case "example.com": {
      // The ESP's include grows a nested chain: 4 lookups before it + 7 through it = 11.
      const chain = Array.from({ length: 7 }, (_, i) => t(`l${i + 1}.esp.example.com`, i < 6 ? `v=spf1 include:l${i + 2}.esp.example.com -all` : "v=spf1 ip4:192.0.2.50 -all"));
      return [
        ...records.filter((r) => r.name !== "pf2026q4._domainkey.example.com" && r.name !== "example.net._report._dmarc.example.com"),
        t("_spf.esp.example.com", "v=spf1 include:l1.esp.example.com -all"),
        ...chain,
      ];
    }
    case "example.org":
      return [...records, t("example.org", "v=spf1 ip4:192.0.2.9 -all")];
    case "example.co.uk":
      return [...records.filter((r) => r.name !== "_dmarc.example.co.uk"), t("example.co.uk", "v=DMARC1; p=reject; rua=mailto:dmarc-rua@example.com")];
    default:
      return records;
  }
}
