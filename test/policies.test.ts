/**
 * The policy pack over the real example stacks (clean) and over deliberately
 * broken variants, each of which must trip exactly the rule it targets with
 * the expected message. Rule groups have their own files
 * (test/policies-*.test.ts); this one holds the clean runs and the SPF rules.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { CapturedResource } from "../cli/plan/engine";
import { listStacks } from "../cli/plan/stack-files";
import { ALL_RULES } from "../policies/rules";
import { assertOnly, captureStack, handMadeResource, runPolicies } from "./support/policy-harness";
import { PROJECT_DIR } from "./support/offline";

const BULK_PROFILE = { all: "mandatory" as const };


describe("policy pack over the example stacks", () => {
  const captured = new Map<string, CapturedResource[]>();
  before(async () => {
    for (const stack of listStacks(PROJECT_DIR)) captured.set(stack, await captureStack(stack));
  });

  it("has rules with unique names, each described, sourced and with defaults for its settings", () => {
    const names = ALL_RULES.map((r) => r.name);
    assert.equal(new Set(names).size, names.length);
    for (const rule of ALL_RULES) {
      assert.match(rule.name, /^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      assert.ok(rule.description.length > 20 && rule.source.length > 3, rule.name);
      for (const [key, property] of Object.entries(rule.config ?? {})) assert.notEqual((property as { default?: unknown }).default, undefined, `${rule.name}.${key}`);
    }
  });

  it("every example stack passes every rule, the bulk-sender rules included", async () => {
    assert.deepEqual([...captured.keys()], ["dev", "prod", "selfhosted"]);
    for (const [stack, resources] of captured) {
      const violations = await runPolicies(resources, BULK_PROFILE);
      assert.deepEqual(violations, [], `${stack}:\n${violations.map((v) => `[${v.policy}] ${v.message}`).join("\n")}`);
    }
  });

  describe("SPF", () => {
    it("spf-one-record: a second SPF record at a domain, made by hand in Route53", async () => {
      const resources = [
        ...captured.get("prod")!,
        handMadeResource("prod", "aws:route53/record:Record", "legacy-spf", {
          zoneId: "Z9876543210ZYXWVUTSRQ",
          name: "example.org",
          type: "TXT",
          ttl: 300,
          records: ["v=spf1 include:_spf.legacy.example -all"],
        }),
      ];
      // The hand-made set also collides with the Postforge-managed set, but the rule judges what receivers would see.
      assertOnly(await runPolicies(resources), "spf-one-record", [
        /^example\.org: 2 SPF records \(TXT "v=spf1 ip4:198\.51\.100\.10 include:amazonses\.com -all", TXT "v=spf1 include:_spf\.legacy\.example -all"\); receivers return permerror .* merge them into one record$/,
      ]);
    });

    it("spf-one-record: a sending domain with no SPF record", async () => {
      const resources = (await captureStack("dev")).filter((r) => !(r.name === "example.org-@-txt"));
      assertOnly(await runPolicies(resources), "spf-one-record", [/^example\.org: sends mail but publishes no SPF record; .* publish TXT "v=spf1 <your senders> -all" at example\.org$/]);
    });

    it("spf-all-qualifier: +all and ?all on hand-made Cloudflare records", async () => {
      const resources = [
        ...captured.get("dev")!,
        handMadeResource("dev", "cloudflare:index/dnsRecord:DnsRecord", "bounce-spf", {
          zoneId: "0123456789abcdef0123456789abcdef",
          name: "bounce.example.com",
          type: "TXT",
          ttl: 1,
          content: '"v=spf1 include:sendgrid.net +all"',
        }),
      ];
      assertOnly(await runPolicies(resources), "spf-all-qualifier", [/^bounce\.example\.com: SPF record "v=spf1 include:sendgrid\.net \+all": SPF term "\+all" lets any host on the internet pass SPF/]);
    });
  });

  describe("resources of every shape, judged without crashing", () => {
    it("a malformed Cloudflare TXT (unbalanced quote) is set aside; the rules still judge everything else", async () => {
      const resources = [
        ...captured.get("dev")!,
        handMadeResource("dev", "cloudflare:index/dnsRecord:DnsRecord", "broken-quote", { zoneId: "0123456789abcdef0123456789abcdef", name: "x.example.com", type: "TXT", ttl: 1, content: '"v=spf1 -all' }),
        handMadeResource("dev", "cloudflare:index/dnsRecord:DnsRecord", "open-spf", { zoneId: "0123456789abcdef0123456789abcdef", name: "y.example.com", type: "TXT", ttl: 1, content: '"v=spf1 +all"' }),
      ];
      assertOnly(await runPolicies(resources), "spf-all-qualifier", [/^y\.example\.com: SPF record "v=spf1 \+all"/]);
    });

    it("Cloudflare's older Record resource (value instead of content) is judged like DnsRecord", async () => {
      const resources = [
        ...captured.get("dev")!,
        handMadeResource("dev", "cloudflare:index/record:Record", "legacy-spf", { zoneId: "0123456789abcdef0123456789abcdef", name: "legacy.example.com", type: "TXT", value: "v=spf1 ?all" }),
      ];
      assertOnly(await runPolicies(resources), "spf-all-qualifier", [/^legacy\.example\.com: SPF record "v=spf1 \?all": SPF term "\?all" gives unlisted senders a neutral result/]);
    });

    it("a record named relative to its zone is placed through the zone resource it depends on; without one it is set aside", async () => {
      const zone = handMadeResource("prod", "aws:route53/zone:Zone", "news-zone", { name: "news.example" });
      const relative = handMadeResource("prod", "aws:route53/record:Record", "news-spf", { zoneId: "Z4444444444DDDDDDDDDD", name: "@", type: "TXT", ttl: 300, records: ["v=spf1 +all"] }, { dependencies: [zone.urn] });
      assertOnly(await runPolicies([...captured.get("prod")!, zone, relative]), "spf-all-qualifier", [/^news\.example: SPF record "v=spf1 \+all"/]);
      const orphan = handMadeResource("prod", "aws:route53/record:Record", "orphan-spf", { zoneId: "Z4444444444DDDDDDDDDD", name: "@", type: "TXT", ttl: 300, records: ["v=spf1 +all"] });
      assert.deepEqual(await runPolicies([...captured.get("prod")!, orphan]), []);
    });

    it("a subdomain used only as a DKIM d= needs no SPF, DMARC or MX of its own", async () => {
      const rsa = captured.get("prod")!.find((r) => r.name === "example.co.uk-partner2026._domainkey-txt")!;
      const key = handMadeResource("prod", "aws:route53/record:Record", "news-dkim", { ...rsa.inputs, name: "s1._domainkey.news.example.org" });
      assert.deepEqual(await runPolicies([...captured.get("prod")!, key]), []);
    });

    it("a Cloudflare-proxied A record at the mail host's name breaks forward-confirmed reverse DNS", async () => {
      const resources = await captureStack("selfhosted", (c) => {
        c["postforge:domains"][0].dns = { provider: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" };
        c["postforge:mailHost"].tls.cloudflareApiTokenSecretName = "postforge/cloudflare-dns-token";
      });
      const proxied = resources.map((r) => (r.type === "cloudflare:index/dnsRecord:DnsRecord" && r.inputs.name === "mail.example.com" && r.inputs.type === "A" ? { ...r, inputs: { ...r.inputs, proxied: true } } : r));
      assert.deepEqual(await runPolicies(resources), []);
      assertOnly(await runPolicies(proxied), "ptr-fcrdns", [/^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr names mail\.example\.com, whose A record .* is proxied by Cloudflare, .*; set proxied: false/]);
    });

    it("Route53 routing sets at one name are alternatives, not a second SPF record; two in one set are", async () => {
      const weighted = (id: string, records: string[]) =>
        handMadeResource("prod", "aws:route53/record:Record", `bounce-${id}`, { zoneId: "Z9876543210ZYXWVUTSRQ", name: "bounce.example.org", type: "TXT", ttl: 60, setIdentifier: id, weightedRoutingPolicies: [{ weight: 50 }], records });
      const prod = captured.get("prod")!;
      assert.deepEqual(await runPolicies([...prod, weighted("blue", ["v=spf1 include:amazonses.com -all"]), weighted("green", ["v=spf1 include:sendgrid.net -all"])]), []);
      assertOnly(await runPolicies([...prod, weighted("blue", ["v=spf1 include:amazonses.com -all", "v=spf1 include:sendgrid.net -all"])]), "spf-one-record", [
        /^bounce\.example\.org: 2 SPF records \(TXT "v=spf1 include:amazonses\.com -all", TXT "v=spf1 include:sendgrid\.net -all"\); receivers return permerror/,
      ]);
    });

    it("RFC 7489 mode: pct below 100 does not enforce in a production stack", async () => {
      const resources = await captureStack("prod", (c) => {
        c["postforge:dmarcMode"] = "rfc7489";
        c["postforge:domains"][1].dmarc.pct = 50;
      });
      assertOnly(await runPolicies(resources), "dmarc-enforcement", [/^example\.org: DMARC record _dmarc\.example\.org ".*pct=50.*" does not enforce in production stack "prod": pct=50 applies the policy to only part of the failing mail; set p=quarantine or p=reject and remove pct/]);
    });
  });
});
