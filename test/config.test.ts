import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { failingRun, runProgramWith } from "./support/offline";

/**
 * The catalogue of invalid stack configs: each runs the real index.ts offline
 * and must be refused with one message that names the stack, the path, the
 * value and what is allowed, with no resource registered.
 */

const rsa = (bits: number) => generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const rsa2048 = rsa(2048);
const rsa1024 = rsa(1024);

function validConfig(): Record<string, any> {
  return {
    environment: "production",
    dmarcMode: "rfc9989",
    domains: [
      {
        name: "example.com",
        dns: { provider: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" },
        mx: [{ host: "mail.example.com", priority: 10 }],
        hosts: [{ name: "mail.example.com", ipv4: "203.0.113.25" }],
        heloHosts: ["mail.example.com"],
        spf: { ip4: ["203.0.113.25"], includes: ["sendgrid.net"], all: "-all" },
        dkim: { publicKeys: [{ selector: "pf2026q4", algorithm: "rsa", publicKey: rsa2048 }] },
        dmarc: { p: "reject", rua: ["mailto:dmarc@example.com"] },
        mtaSts: { mode: "enforce" },
        tlsRpt: { rua: ["mailto:tls@example.com"] },
      },
      {
        name: "example.org",
        dns: { provider: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
        spf: { includes: [{ domain: "_spf.esp.example", lookups: 3 }] },
        dmarc: { p: "quarantine", rua: ["mailto:dmarc@example.com"] },
      },
    ],
    parkedDomains: [{ name: "example.net", dns: { provider: "cloudflare", zoneId: "fedcba9876543210fedcba9876543210" } }],
  };
}

type Mutation = (c: Record<string, any>) => void;

const catalogue: [string, Mutation, RegExp[]][] = [
  ["rua without mailto:", (c) => (c.domains[0].dmarc.rua = ["dmarc@example.com"]), [/domains\[0\]\.dmarc\.rua\[0\]/, /dmarc@example\.com/, /mailto:/]],
  ["unknown DMARC policy", (c) => (c.domains[0].dmarc.p = "block"), [/domains\[0\]\.dmarc\.p = "block": must be one of none, quarantine, reject/]],
  ["pct in RFC 9989 mode", (c) => (c.domains[0].dmarc.pct = 50), [/domains\[0\]\.dmarc\.pct/, /50/, /rfc7489/]],
  ["t in RFC 7489 mode", (c) => ((c.dmarcMode = "rfc7489"), (c.domains[0].dmarc.t = true)), [/domains\[0\]\.dmarc\.t/, /rfc9989/]],
  ["fo=0 with fo=1 in RFC 9989", (c) => (c.domains[0].dmarc.fo = ["0", "1"]), [/domains\[0\]\.dmarc\.fo/]],
  ["SPF over 10 lookups", (c) => (c.domains[1].spf.includes = [{ domain: "_spf.a.example", lookups: 6 }, { domain: "_spf.b.example", lookups: 5 }]), [/domains\[1\]\.spf/, /11/, /10/]],
  ["SPF include of unknown cost", (c) => (c.domains[1].spf.includes = ["_spf.unknown-esp.example"]), [/domains\[1\]\.spf\.includes\[0\]/, /_spf\.unknown-esp\.example/, /lookups/]],
  ["SPF +all", (c) => (c.domains[0].spf.all = "+all"), [/domains\[0\]\.spf\.all = "\+all": must be -all \(fail\) or ~all/]],
  ["invalid ip4", (c) => (c.domains[0].spf.ip4 = ["300.1.1.1"]), [/domains\[0\]\.spf\.ip4\[0\] = "300\.1\.1\.1": must be an IPv4 address or CIDR range/]],
  ["unknown DNS provider", (c) => (c.domains[0].dns = { provider: "godaddy" }), [/domains\[0\]\.dns/, /cloudflare/, /route53/]],
  ["bad Cloudflare zone id", (c) => (c.domains[0].dns.zoneId = "example.com"), [/domains\[0\]\.dns\.zoneId = "example\.com": must be a Cloudflare zone id/]],
  ["bad Route53 zone id", (c) => (c.domains[1].dns.hostedZoneId = "example.org"), [/domains\[1\]\.dns\.hostedZoneId = "example\.org": must be a Route53 hosted zone id/]],
  ["TTL below 60", (c) => (c.domains[0].ttl = 30), [/domains\[0\]\.ttl = 30: must be at least 60 seconds/]],
  ["both mx and nullMx", (c) => (c.domains[0].nullMx = true), [/domains\[0\]\.nullMx/, /cannot both receive mail/]],
  ["duplicate domain", (c) => (c.parkedDomains[0].name = "example.com"), [/parkedDomains\[0\]\.name: "example\.com" is already configured at domains\[0\]/]],
  ["unknown postforge key", (c) => (c.domain = "example.com"), [/postforge:domain: unknown key/, /postforge:domains/]],
  ["misspelt domain setting", (c) => (c.domains[0].dmark = { p: "reject" }), [/domains\[0\]\.dmark: unknown setting/]],
  ["missing DMARC", (c) => delete c.domains[1].dmarc, [/domains\[1\]\.dmarc = nothing/]],
  ["HELO host outside the domain", (c) => (c.domains[0].heloHosts = ["mail.example.org"]), [/domains\[0\]\.heloHosts\[0\]/, /outside example\.com/]],
  ["HELO host is the apex", (c) => (c.domains[0].heloHosts = ["example.com"]), [/domains\[0\]\.heloHosts\[0\]/, /mail\.example\.com/]],
  ["1024-bit DKIM key", (c) => (c.domains[0].dkim.publicKeys[0].publicKey = rsa1024), [/domains\[0\]\.dkim\.publicKeys\[0\]/, /1024/, /2048/]],
  ["DKIM selector with underscore", (c) => (c.domains[0].dkim.publicKeys[0].selector = "pf_2026"), [/domains\[0\]\.dkim\.publicKeys\[0\]\.selector/, /pf_2026/]],
  ["BIMI without enforcement", (c) => ((c.domains[0].dmarc.p = "none"), (c.domains[0].bimi = { logo: "https://example.com/logo.svg" })), [/domains\[0\]\.bimi/, /quarantine|reject/]],
  ["MTA-STS not covering an MX", (c) => (c.domains[0].mtaSts.mx = ["mx.other.example"]), [/domains\[0\]\.mtaSts/, /mail\.example\.com/]],
  ["TLS-RPT ftp URI", (c) => (c.domains[0].tlsRpt.rua = ["ftp://example.com/r"]), [/domains\[0\]\.tlsRpt\.rua\[0\]/, /ftp:\/\/example\.com\/r/, /mailto:|https:/]],
  ["unknown environment", (c) => (c.environment = "prod"), [/environment = "prod": must be production, staging or development/]],
  ["unknown DMARC mode", (c) => (c.dmarcMode = "rfc9999"), [/dmarcMode = "rfc9999": must be rfc9989 or rfc7489/]],
  ["invalid domain name", (c) => (c.domains[0].name = "exa mple.com"), [/domains\[0\]\.name = "exa mple\.com": must be a host name/]],
  ["host without an address", (c) => (c.domains[0].hosts = [{ name: "mail.example.com" }]), [/domains\[0\]\.hosts\[0\]/, /ipv4, ipv6 or both/]],
  ["domains is not a list", (c) => (c.domains = { name: "example.com" }), [/domains = \{"name":"example\.com"\}/]],
  // Rules across records, judged before anything is created.
  ["two keys at one DKIM selector", (c) => c.domains[0].dkim.publicKeys.push({ selector: "PF2026Q4", algorithm: "rsa", publicKey: rsa2048 }), [/domains\[0\]\.dkim\.publicKeys\[0\] and domains\[0\]\.dkim\.publicKeys\[1\]/, /would hold 2 DKIM key records/]],
  ["two SPF records at one name across domains", (c) => c.domains.push({ name: "mail.example.com", dns: { provider: "cloudflare", zoneId: "abcdefabcdefabcdefabcdefabcdefab" }, spf: { ip4: ["203.0.113.26"] }, dmarc: { p: "reject" } }), [/domains\[0\]\.heloHosts\[0\] and domains\[2\]\.spf/, /"mail\.example\.com"/, /SPF/]],
  ["a host listed twice", (c) => c.domains[0].hosts.push({ name: "mail.example.com", ipv4: "203.0.113.26" }), [/domains\[0\]\.hosts\[1\]\.name: "mail\.example\.com" is listed twice/]],
  ["a HELO host listed twice", (c) => c.domains[0].heloHosts.push("MAIL.example.com"), [/domains\[0\]\.heloHosts\[1\]: "mail\.example\.com" is listed twice/]],
  // Managed DKIM keys.
  ["managed 1024-bit key without the legacy opt-in", (c) => (c.domains[0].dkim.keys = [{ quarter: "2026q4", bits: 1024, state: "pending" }]), [/domains\[0\]\.dkim\.keys\[0\]: DKIM key example\.com\/pf2026q4: bits 1024 is too weak/, /allowLegacy1024RsaForOldReceivers/]],
  ["managed key of an unsupported size", (c) => (c.domains[0].dkim.keys = [{ quarter: "2026q4", bits: 1536, state: "pending" }]), [/bits 1536 is not allowed; use 2048 \(default\), 3072 or 4096/]],
  ["managed key selector that is not a DNS label", (c) => (c.domains[0].dkim.keys = [{ selector: "pf_2026", state: "pending" }]), [/domains\[0\]\.dkim\.keys\[0\]: .*selector "pf_2026" is not a DNS label/]],
  ["managed key with both selector and quarter", (c) => (c.domains[0].dkim.keys = [{ selector: "s1", quarter: "2026q4", state: "pending" }]), [/domains\[0\]\.dkim\.keys\[0\]: give either selector or quarter/]],
  ["a retiring key with no active successor", (c) => (c.domains[0].dkim.keys = [{ quarter: "2026q2", state: "retiring" }, { quarter: "2026q4", state: "pending" }]), [/pf2026q2 is retiring but no rsa key is active, so mail would go unsigned/]],
  ["two active keys of one algorithm", (c) => (c.domains[0].dkim.keys = [{ quarter: "2026q2", state: "active" }, { quarter: "2026q4", state: "active" }]), [/pf2026q2 and pf2026q4 are both active rsa keys; one signs, so set the older one to retiring/]],
  ["a managed key reusing an external selector", (c) => (c.domains[0].dkim.keys = [{ selector: "pf2026q4", state: "pending" }]), [/selector "pf2026q4" is used twice/]],
  ["an unknown rotation state", (c) => (c.domains[0].dkim.keys = [{ quarter: "2026q4", state: "live" }]), [/domains\[0\]\.dkim\.keys\[0\]\.state = "live": must be pending/]],
  ["overlap shorter than two days", (c) => (c.dkim = { overlapDays: 1 }), [/dkim\.overlapDays = 1: must be at least 2 days/]],
];

describe("stack config", () => {
  it("the valid base config plans", async () => {
    const run = await runProgramWith(validConfig());
    assert.equal(run.resources.filter((r) => r.type === "postforge:dns:MailDomain").length, 3);
  });

  for (const [label, mutate, expected] of catalogue) {
    it(`refuses ${label}, naming the stack and path, and registers nothing`, async () => {
      const config = validConfig();
      mutate(config);
      const failure = await failingRun(config);
      assert.equal(failure.name, "ValidationError", failure.message);
      assert.match(failure.message, /^stack "test" config is invalid:/);
      for (const pattern of expected) assert.match(failure.message, pattern);
      assert.deepEqual(failure.registered.map((r) => `${r.type} ${r.name}`), []);
    });
  }

  it("warns, without refusing, about what would work badly", async () => {
    const config = validConfig();
    config.domains[0].dmarc.p = "none";
    config.domains[0].hosts = [];
    // An MX outside the stack's zones: an MX target inside them without an address is refused (test/refusals.test.ts).
    config.domains[0].mx = [{ host: "mx.provider.example", priority: 10 }];
    config.domains[0].mtaSts = undefined;
    delete config.domains[1].mx;
    const run = await runProgramWith(config);
    assert.deepEqual(run.warnings, [
      'domains[0].heloHosts[0]: "mail.example.com" has no address in hosts, so "v=spf1 a -all" matches nothing and HELO checks fail; add it to hosts',
      "domains[0].dmarc.p: production domain example.com has DMARC p=none, which protects nothing; move to quarantine, then reject, once reports show your mail aligned",
      "domains[1]: example.org publishes no MX, so senders fall back to its A record and bounces may never arrive; add mx, or nullMx: true if it receives no mail",
    ]);
  });

  it("reports every problem at once", async () => {
    const config = validConfig();
    config.domains[0].dmarc.p = "block";
    config.domains[1].dns.hostedZoneId = "nope";
    config.environment = "prod";
    const failure = await failingRun(config);
    assert.equal(failure.message.split("\n").filter((l) => l.startsWith("  - ")).length, 3, failure.message);
  });
});
