/**
 * The SPF, DMARC, BIMI, MTA-STS and TLS-RPT rules of the policy pack over
 * deliberately broken variants of the example stacks: each variant trips
 * exactly the rule it targets, with the expected message; each setting
 * changes the verdict it should; values unknown at preview are skipped.
 * Records are broken on both providers (Cloudflare content is quoted
 * character-strings; Route53 values are unquoted, strings joined by `""`).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SECRET_PLACEHOLDER, type CapturedResource } from "../cli/plan/engine";
import { mtaStsPolicyId } from "../components/dns/protocols";
import { ALL_RULES } from "../policies/rules";
import { assertOnly, captureStack, handMadeResource, runPolicies, type ReportedViolation } from "./support/policy-harness";


/** Violations of the baseline rules only: the bulk-sender profile restates some baseline requirements (a DMARC record, SPF) for the mailbox providers. */
function baselineOnly(violations: ReportedViolation[]): ReportedViolation[] {
  const bulk = new Set(ALL_RULES.filter((r) => r.profile === "bulk-sender").map((r) => r.name));
  return violations.filter((v) => !bulk.has(v.policy));
}

function assertClean(violations: ReportedViolation[]): void {
  assert.deepEqual(violations, [], violations.map((v) => `[${v.policy}] ${v.message}`).join("\n"));
}

const CLOUDFLARE = "cloudflare:index/dnsRecord:DnsRecord";
const ROUTE53 = "aws:route53/record:Record";
const MAIL_DOMAIN = "postforge:dns:MailDomain";

const ZONE_IDS: Record<string, Record<string, string>> = {
  dev: { "example.com": "0123456789abcdef0123456789abcdef", "example.org": "89abcdef0123456789abcdef01234567" },
  prod: { "example.com": "Z0123456789ABCDEFGHIJ", "example.org": "Z9876543210ZYXWVUTSRQ", "example.co.uk": "Z1111111111AAAAAAAAAA" },
  selfhosted: { "example.com": "Z0123456789ABCDEFGHIJ", "example.org": "Z9876543210ZYXWVUTSRQ" },
};
const zoneOf = (stack: string, name: string) => Object.entries(ZONE_IDS[stack]).find(([zone]) => name === zone || name.endsWith(`.${zone}`))![1];

/** A TXT record made by hand in Cloudflare: content as quoted character-strings. */
function cloudflareTxt(stack: string, name: string, ...strings: string[]): CapturedResource {
  return handMadeResource(stack, CLOUDFLARE, `hand-${name}-txt`, {
    zoneId: zoneOf(stack, name),
    name,
    type: "TXT",
    ttl: 1,
    content: strings.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(" "),
  });
}

/** A record set made by hand in Route53: TXT values unquoted, several strings of one value joined by `""`. */
function route53(stack: string, name: string, type: string, records: string[]): CapturedResource {
  return handMadeResource(stack, ROUTE53, `hand-${name}-${type.toLowerCase()}`, { zoneId: zoneOf(stack, name), name, type, ttl: 300, records });
}

/** The resources with one resource's inputs changed (the captured array is shared, so copy). */
function changed(resources: CapturedResource[], type: string, name: string, inputs: Record<string, unknown>): CapturedResource[] {
  let found = false;
  const out = resources.map((r) => {
    if (r.type !== type || r.name !== name) return r;
    found = true;
    // A component's facts reach stack policies as its registered outputs: change them alike.
    return { ...r, inputs: { ...r.inputs, ...inputs }, ...(r.custom ? {} : { outputs: { ...r.outputs, ...inputs } }) };
  });
  assert.ok(found, `no ${type} ${name}`);
  return out;
}

/** A Postforge-managed TXT record's value replaced, in the provider's encoding. */
function withTxt(resources: CapturedResource[], resourceName: string, value: string): CapturedResource[] {
  const record = resources.find((r) => r.name === resourceName && (r.type === CLOUDFLARE || r.type === ROUTE53));
  assert.ok(record, `no record ${resourceName}`);
  return changed(resources, record.type, resourceName, record.type === CLOUDFLARE ? { content: `"${value}"` } : { records: [value] });
}

function without(resources: CapturedResource[], resourceName: string): CapturedResource[] {
  const out = resources.filter((r) => r.name !== resourceName);
  assert.equal(out.length, resources.length - 1, `no single resource ${resourceName}`);
  return out;
}

const urnOf = (resources: CapturedResource[], name: string) => resources.find((r) => r.name === name)!.urn;

describe("SPF, DMARC, BIMI, MTA-STS and TLS-RPT rules", () => {
  const captured = new Map<string, CapturedResource[]>();
  const stack = (name: string) => captured.get(name)!;
  before(async () => {
    for (const name of ["dev", "prod", "selfhosted"]) captured.set(name, await captureStack(name));
  });

  it("records unknown at preview are skipped, not reported", async () => {
    const unknown = { records: [SECRET_PLACEHOLDER] };
    let resources = changed(stack("prod"), ROUTE53, "example.org-_dmarc-txt", unknown);
    resources = changed(resources, ROUTE53, "example.org-@-txt", unknown);
    resources = changed(resources, ROUTE53, "example.com-_mta-sts-txt", unknown);
    resources = changed(resources, ROUTE53, "example.com-_dmarc-txt", unknown);
    resources = [...resources, route53("prod", "bounce.example.com", "TXT", ["v=spf1 include:_spf.example.org a:a1.example.org a:a2.example.org -all"])];
    resources = [...resources, route53("prod", "_spf.example.org", "TXT", [SECRET_PLACEHOLDER])];
    const groups = new Set(["SPF", "DMARC", "BIMI", "MTA-STS and TLS-RPT"]);
    const ours = new Set(ALL_RULES.filter((r) => r.profile === "baseline" && groups.has(r.group)).map((r) => r.name));
    assertClean((await runPolicies(resources)).filter((v) => ours.has(v.policy)));
  });

  describe("SPF", () => {
    it("spf-syntax: an invalid ip4 term in a hand-made Route53 record", async () => {
      const resources = [...stack("prod"), route53("prod", "bounce.example.com", "TXT", ["v=spf1 ip4:198.51.100.300 -all"])];
      const violations = await runPolicies(resources);
      assertOnly(violations, "spf-syntax", [
        /^bounce\.example\.com: SPF record "v=spf1 ip4:198\.51\.100\.300 -all" has a syntax error: "ip4:198\.51\.100\.300": expected ip4:<IPv4 address>\[\/0-32\]; receivers return permerror \(RFC 7208 §4\.6\)\. Fix or remove the term$/,
      ]);
      assert.equal(violations[0].urn, resources.at(-1)!.urn);
    });

    it("spf-syntax: redirect= twice in a hand-made Cloudflare record", async () => {
      const resources = [...stack("dev"), cloudflareTxt("dev", "bounce.example.com", "v=spf1 redirect=example.com redirect=example.org")];
      assertOnly(await runPolicies(resources), "spf-syntax", [
        /^bounce\.example\.com: SPF record "v=spf1 redirect=example\.com redirect=example\.org": SPF modifier "redirect=" appears 2 times; RFC 7208 §6 allows it once \(permerror\)\. Keep one$/,
      ]);
    });

    it("spf-lookup-limit: three heavy includes in a hand-made Cloudflare record", async () => {
      const resources = [
        ...stack("dev"),
        cloudflareTxt("dev", "news.example.com", "v=spf1 include:_spf.google.com include:mailgun.org include:spf.protection.outlook.com -all"),
      ];
      assertOnly(await runPolicies(resources), "spf-lookup-limit", [
        /^news\.example\.com: SPF record "v=spf1 include:_spf\.google\.com include:mailgun\.org include:spf\.protection\.outlook\.com -all" needs 11 DNS lookups in the worst case \(include:_spf\.google\.com: 4, include:mailgun\.org: 5, include:spf\.protection\.outlook\.com: 2\), over the limit of 10; beyond 10 receivers return permerror .* Remove senders, replace includes with ip4\/ip6 networks, or move a sender to a subdomain with its own SPF record$/,
      ]);
    });

    it("spf-lookup-limit: an include of an SPF record the stack publishes counts that record's lookups", async () => {
      const resources = [
        ...withTxt(stack("dev"), "example.com-@-txt", "v=spf1 ip4:203.0.113.25 include:sendgrid.net include:_spf.example.com -all"),
        cloudflareTxt("dev", "_spf.example.com", "v=spf1 include:mailgun.org include:_spf.google.com -all"),
      ];
      // _spf.example.com alone needs 9; through example.com's include it costs 10, plus sendgrid.net.
      assertOnly(await runPolicies(resources), "spf-lookup-limit", [
        /^example\.com: SPF record "v=spf1 ip4:203\.0\.113\.25 include:sendgrid\.net include:_spf\.example\.com -all" needs 11 DNS lookups in the worst case \(include:sendgrid\.net: 1, include:_spf\.example\.com: 10\), over the limit of 10;/,
      ]);
    });

    it("spf-lookup-limit: includeCosts and maxLookups change the verdict on the prod stack (Route53)", async () => {
      // The stack config declares spf.protection.outlook.com 2 and _spf.esp.example.com 3 (StackSettings);
      // with _spf.google.com's catalogued 4 that is 9. includeCosts adds to and overrides those declarations.
      assertClean(await runPolicies(stack("prod"), { "spf-lookup-limit": { includeCosts: { "_spf.esp.example.com": 4 } } }));
      assertOnly(await runPolicies(stack("prod"), { "spf-lookup-limit": { includeCosts: { "_spf.esp.example.com": 5 } } }), "spf-lookup-limit", [
        /^example\.com: SPF record "v=spf1 ip4:198\.51\.100\.10 .*" needs 11 DNS lookups in the worst case \(include:_spf\.google\.com: 4, include:spf\.protection\.outlook\.com: 2, include:_spf\.esp\.example\.com: 5\), over the limit of 10;.*own SPF record$/,
      ]);
      assertOnly(await runPolicies(stack("prod"), { "spf-lookup-limit": { maxLookups: 8 } }), "spf-lookup-limit", [
        /^example\.com: .* needs 9 DNS lookups in the worst case \(include:_spf\.google\.com: 4, include:spf\.protection\.outlook\.com: 2, include:_spf\.esp\.example\.com: 3\), over the 8 this stack allows \(RFC limit 10\);/,
      ]);
      // Without the stack's declarations (a stack not made by index.ts), an unknown include counts 1 and says so.
      const withoutSettings = stack("prod").filter((r) => r.type !== "postforge:config:StackSettings");
      assertOnly(await runPolicies(withoutSettings, { "spf-lookup-limit": { maxLookups: 6 } }), "spf-lookup-limit", [
        /^example\.com: .* needs 7 DNS lookups .*, over the 6 this stack allows \(RFC limit 10\);.*; "_spf\.esp\.example\.com" has no known cost and counted 1: declare the worst case in includeCosts$/,
      ]);
    });

    it("spf-void-lookups: three terms with nothing to resolve in a hand-made Route53 record", async () => {
      const resources = [
        ...stack("prod"),
        route53("prod", "bounce.example.com", "TXT", ["v=spf1 a:old.example.com mx:old.example.com include:_spf.old.example.com -all"]),
      ];
      assertOnly(await runPolicies(resources), "spf-void-lookups", [
        /^bounce\.example\.com: SPF record "v=spf1 a:old\.example\.com mx:old\.example\.com include:_spf\.old\.example\.com -all" has 3 terms whose lookup finds nothing in this stack's zones \("a:old\.example\.com": no A or AAAA record at old\.example\.com; "mx:old\.example\.com": no MX record at old\.example\.com; "include:_spf\.old\.example\.com": no SPF record at _spf\.old\.example\.com\), more than the 2 void lookups receivers allow before returning permerror \(RFC 7208 §4\.6\.4\); publish the missing records or remove those terms$/,
      ]);
    });

    it("spf-void-lookups: maxVoidLookups 0 counts prod's include of _spf.esp.example.com, which the stack does not publish", async () => {
      assertOnly(await runPolicies(stack("prod"), { "spf-void-lookups": { maxVoidLookups: 0 } }), "spf-void-lookups", [
        /^example\.com: SPF record .* has 1 term whose lookup finds nothing in this stack's zones \("include:_spf\.esp\.example\.com": no SPF record at _spf\.esp\.example\.com\), more than the 0 void lookups/,
      ]);
    });

    it("spf-void-lookups: terms whose targets exist (or lie outside the stack's zones) are not void", async () => {
      const resources = [
        ...stack("dev"),
        cloudflareTxt(
          "dev",
          "bounce.example.com",
          "v=spf1 a:mail.example.com mx:example.com include:example.com a:gone.example.net a:gone2.example.net a:web.hosts.example.com -all",
        ),
        handMadeResource("dev", CLOUDFLARE, "hand-hosts-wildcard-a", { zoneId: ZONE_IDS.dev["example.com"], name: "*.hosts.example.com", type: "A", ttl: 1, content: "192.0.2.80" }),
        cloudflareTxt("dev", "relay.example.com", "v=spf1 a:one.partner.example a:two.partner.example a:three.partner.example -all"),
      ];
      // Two void lookups (gone, gone2 in the parked zone example.net); web.hosts.example.com resolves through the
      // wildcard, the rest resolve or lie outside the stack's zones.
      assertClean(await runPolicies(resources));
    });

    it("spf-no-ptr: a ptr mechanism in a hand-made Cloudflare record", async () => {
      const resources = [...stack("dev"), cloudflareTxt("dev", "legacy.example.com", "v=spf1 ptr:example.com -all")];
      assertOnly(await runPolicies(resources), "spf-no-ptr", [
        /^legacy\.example\.com: SPF record "v=spf1 ptr:example\.com -all" uses "ptr:example\.com"; RFC 7208 §5\.5 says ptr SHOULD NOT be published .*; replace it with ip4:\/ip6: networks or a:<host> for the senders it meant$/,
      ]);
    });

    it("spf-size: one character-string over 255 octets in a hand-made Route53 record", async () => {
      const ips = Array.from({ length: 20 }, (_, i) => `ip4:198.51.100.${100 + i}`).join(" ");
      const value = `v=spf1 ${ips} -all`;
      assert.ok(value.length > 255 && value.length < 400);
      const resources = [...stack("prod"), route53("prod", "bulk.example.com", "TXT", [value])];
      assertOnly(await runPolicies(resources), "spf-size", [
        new RegExp(`^bulk\\.example\\.com: SPF record "v=spf1 ip4:198\\.51\\.100\\.100 .*\\.\\.\\." is published as one character-string of ${value.length} octets; a TXT string holds at most 255 \\(RFC 1035 §3\\.3\\).*split the value into strings of at most 255 octets, breaking after a space between terms`),
      ]);
    });

    it("spf-size: the same value split into two strings (Route53 \"\" join) passes", async () => {
      const ips = Array.from({ length: 20 }, (_, i) => `ip4:198.51.100.${100 + i}`);
      const value = `v=spf1 ${ips.slice(0, 10).join(" ")} ""${ips.slice(10).join(" ")} -all`;
      assertClean(await runPolicies([...stack("prod"), route53("prod", "bulk.example.com", "TXT", [value])]));
    });

    it("spf-size: TXT records at a name over 450 octets together (Cloudflare, two strings)", async () => {
      const ips = Array.from({ length: 30 }, (_, i) => `ip4:192.0.2.${10 + i}`);
      const strings = [`v=spf1 ${ips.slice(0, 15).join(" ")} `, `${ips.slice(15).join(" ")} ~all`];
      assert.ok(strings.every((s) => s.length <= 255));
      const resources = [...stack("dev"), cloudflareTxt("dev", "bulk.example.com", ...strings)];
      assertOnly(await runPolicies(resources), "spf-size", [
        /^bulk\.example\.com: the TXT records at bulk\.example\.com \(TXT "v=spf1 ip4:192\.0\.2\.10 .*"\) take 4[5-9][0-9] octets with the name, over 450; the DNS answer may not fit 512 octets .*; shorten the SPF record \(merge networks, move senders into an include\) or remove other TXT records at bulk\.example\.com$/,
      ]);
    });

    it("spf-size: maxAnswerOctets changes the verdict", async () => {
      assertOnly(await runPolicies(stack("prod"), { "spf-size": { maxAnswerOctets: 120 } }), "spf-size", [
        /^example\.com: the TXT records at example\.com \(TXT "v=spf1 ip4:198\.51\.100\.10 .*"\) take 1[0-9][0-9] octets with the name, over 120;/,
      ]);
    });

    it("spf-covers-mail-hosts: a served domain whose SPF leaves the mail host out (Route53, selfhosted)", async () => {
      const resources = withTxt(stack("selfhosted"), "example.org-@-txt", "v=spf1 include:amazonses.com -all");
      const violations = await runPolicies(resources);
      assertOnly(violations, "spf-covers-mail-hosts", [
        /^example\.org: SPF record "v=spf1 include:amazonses\.com -all" does not authorize mail host mail\.example\.com, which sends mail for example\.org, so its mail fails SPF \(RFC 7208 §2\.4\); add "a:mail\.example\.com" \(or "ip4:[0-9.]+"\) before "-all" at example\.org$/,
      ]);
      assert.equal(violations[0].urn, urnOf(resources, "example.org-@-txt"));
    });

    it("spf-covers-mail-hosts: mx, an ip4 network holding the Elastic IP, or an include of a stack record that names the host all authorize it", async () => {
      const address = (stack("selfhosted").find((r) => r.name === "example.com-mail-a")!.inputs.records as string[])[0];
      const network = `${address.split(".").slice(0, 3).join(".")}.0/24`;
      assertClean(await runPolicies(withTxt(stack("selfhosted"), "example.org-@-txt", "v=spf1 mx -all")));
      assertClean(await runPolicies(withTxt(stack("selfhosted"), "example.org-@-txt", `v=spf1 ip4:${network} -all`)));
      const viaInclude = (inner: string) => [
        ...withTxt(stack("selfhosted"), "example.org-@-txt", "v=spf1 include:_spf.example.com -all"),
        route53("selfhosted", "_spf.example.com", "TXT", [inner]),
      ];
      assertClean(await runPolicies(viaInclude("v=spf1 a:mail.example.com -all")));
      assertOnly(await runPolicies(viaInclude("v=spf1 ip4:192.0.2.1 -all")), "spf-covers-mail-hosts", [
        /^example\.org: SPF record "v=spf1 include:_spf\.example\.com -all" does not authorize mail host mail\.example\.com/,
      ]);
    });

    it("spf-covers-mail-hosts: skipped while the host's address is unknown (preview)", async () => {
      const unknownAddress = changed(stack("selfhosted"), ROUTE53, "example.com-mail-a", { records: [SECRET_PLACEHOLDER] });
      const resources = withTxt(unknownAddress, "example.org-@-txt", "v=spf1 ip4:192.0.2.1 -all");
      assert.deepEqual((await runPolicies(resources)).filter((v) => v.policy === "spf-covers-mail-hosts"), []);
    });
  });

  describe("DMARC", () => {
    it("dmarc-one-record: a second DMARC record set made by hand in Route53", async () => {
      const resources = [...stack("prod"), route53("prod", "_dmarc.example.org", "TXT", ["v=DMARC1; p=none; rua=mailto:dmarc-rua@example.com"])];
      assertOnly(await runPolicies(resources), "dmarc-one-record", [
        /^example\.org: 2 DMARC records at _dmarc\.example\.org \(TXT "v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc-rua@example\.com", TXT "v=DMARC1; p=none; rua=mailto:dmarc-rua@example\.com"\); receivers then apply no DMARC policy at all \(RFC 7489 §6\.6\.3\); merge them into one record$/,
      ]);
    });

    it("dmarc-one-record: a sending domain without DMARC (Cloudflare)", async () => {
      const resources = without(stack("dev"), "example.org-_dmarc-txt");
      const violations = baselineOnly(await runPolicies(resources));
      assertOnly(violations, "dmarc-one-record", [
        /^example\.org: sends mail but publishes no DMARC record at _dmarc\.example\.org; receivers apply no DMARC policy .*; publish TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example\.org" at _dmarc\.example\.org, then move to p=quarantine or p=reject$/,
      ]);
      assert.equal(violations[0].urn, resources.find((r) => r.type === MAIL_DOMAIN && r.name === "example.org")!.urn);
    });

    it("dmarc-one-record: a DMARC record at the apex, made by hand in Cloudflare", async () => {
      const resources = [...stack("dev"), cloudflareTxt("dev", "example.com", "v=DMARC1; p=reject")];
      assertOnly(await runPolicies(resources), "dmarc-one-record", [
        /^example\.com: TXT "v=DMARC1; p=reject" is a DMARC record at example\.com itself, where receivers never look, so it has no effect \(RFC 7489 §6\.1\); move it to "_dmarc\.example\.com" \(one is already there: remove this one\)$/,
      ]);
    });

    it("dmarc-syntax: a rua without mailto: (Cloudflare)", async () => {
      const resources = withTxt(stack("dev"), "example.org-_dmarc-txt", "v=DMARC1; p=quarantine; sp=quarantine; rua=dmarc-reports@example.com");
      assertOnly(await runPolicies(resources), "dmarc-syntax", [
        /^example\.org: DMARC record _dmarc\.example\.org "v=DMARC1; p=quarantine; sp=quarantine; rua=dmarc-reports@example\.com" \(rfc9989\): DMARC rua\[0\] "dmarc-reports@example\.com" must be a mailto: URI, e\.g\. "mailto:dmarc-reports@example\.com"$/,
      ]);
    });

    it("dmarc-syntax: an invalid p (Route53); no other DMARC rule judges the broken record", async () => {
      const resources = withTxt(stack("prod"), "example.co.uk-_dmarc-txt", "v=DMARC1; p=rejected; rua=mailto:dmarc-rua@example.com");
      assertOnly(await runPolicies(resources), "dmarc-syntax", [
        /^example\.co\.uk: DMARC record _dmarc\.example\.co\.uk "v=DMARC1; p=rejected; rua=mailto:dmarc-rua@example\.com" \(rfc9989\): DMARC tag "p=rejected" is invalid; p must be none, quarantine or reject$/,
      ]);
    });

    it("dmarc-syntax: dmarcMode rfc7489 requires p right after v", async () => {
      const resources = withTxt(stack("dev"), "example.com-_dmarc-txt", "v=DMARC1; rua=mailto:dmarc-reports@example.com; p=none");
      assertClean(await runPolicies(resources));
      assertOnly(await runPolicies(resources, { "dmarc-syntax": { dmarcMode: "rfc7489" } }), "dmarc-syntax", [
        /^example\.com: DMARC record _dmarc\.example\.com "v=DMARC1; rua=mailto:dmarc-reports@example\.com; p=none" \(rfc7489\): DMARC tag "p" must come right after "v=DMARC1" in RFC 7489; move p to second place$/,
      ]);
    });

    it("dmarc-enforcement: p=none in the prod stack (Route53)", async () => {
      const resources = withTxt(stack("prod"), "example.org-_dmarc-txt", "v=DMARC1; p=none; sp=reject; rua=mailto:dmarc-rua@example.com");
      const violations = await runPolicies(resources);
      assertOnly(violations, "dmarc-enforcement", [
        /^example\.org: DMARC record _dmarc\.example\.org "v=DMARC1; p=none; sp=reject; rua=mailto:dmarc-rua@example\.com" does not enforce in production stack "prod": p=none only monitors, so receivers deliver mail that fails DMARC; set p=quarantine or p=reject in _dmarc\.example\.org once aggregate reports show legitimate mail aligned, or, while ramping up, set rampUntil \{ "example\.org": "YYYY-MM-DD" \} in the dmarc-enforcement config$/,
      ]);
      assert.equal(violations[0].urn, urnOf(resources, "example.org-_dmarc-txt"));
    });

    it("dmarc-enforcement: t=y is not enforcement", async () => {
      const resources = withTxt(stack("prod"), "example.co.uk-_dmarc-txt", "v=DMARC1; p=reject; t=y; rua=mailto:dmarc-rua@example.com");
      assertOnly(await runPolicies(resources), "dmarc-enforcement", [
        /^example\.co\.uk: DMARC record _dmarc\.example\.co\.uk "v=DMARC1; p=reject; t=y; .*" does not enforce in production stack "prod": t=y puts the policy in testing, so receivers apply one level less \(reject as quarantine, quarantine as none\); set p=quarantine or p=reject and remove t=y in _dmarc\.example\.co\.uk/,
      ]);
    });

    it("dmarc-enforcement: production, productionStacks and rampUntil change the verdict (dev has p=none)", async () => {
      const dev = stack("dev");
      assertClean(await runPolicies(dev));
      const pNone = /^example\.com: DMARC record _dmarc\.example\.com "v=DMARC1; p=none; .*" does not enforce in production stack "dev": p=none only monitors/;
      assertOnly(await runPolicies(dev, { "dmarc-enforcement": { production: true } }), "dmarc-enforcement", [pNone]);
      assertOnly(await runPolicies(dev, { "dmarc-enforcement": { productionStacks: ["dev"] } }), "dmarc-enforcement", [pNone]);
      assertClean(await runPolicies(dev, { "dmarc-enforcement": { productionStacks: ["dev"], production: false } }));
      assertClean(await runPolicies(dev, { "dmarc-enforcement": { production: true, rampUntil: { "example.com": "2999-12-31" } } }));
      assertOnly(await runPolicies(dev, { "dmarc-enforcement": { production: true, rampUntil: { "example.com": "2020-06-30" } } }), "dmarc-enforcement", [
        /^example\.com: the DMARC ramp-up of example\.com ended on 2020-06-30 \(dmarc-enforcement rampUntil\), but DMARC record _dmarc\.example\.com "v=DMARC1; p=none; .*" still does not enforce: p=none only monitors, .*; set p=quarantine or p=reject in _dmarc\.example\.com, or move the date if the ramp-up needs longer$/,
      ]);
    });

    it("dmarc-reporting: a sending domain's record without rua (Route53)", async () => {
      const resources = withTxt(stack("prod"), "example.org-_dmarc-txt", "v=DMARC1; p=quarantine; sp=reject");
      assertOnly(await runPolicies(resources), "dmarc-reporting", [
        /^example\.org: DMARC record _dmarc\.example\.org "v=DMARC1; p=quarantine; sp=reject" has no rua, so no aggregate reports arrive .*; add rua=mailto:dmarc-reports@example\.org \(or another address you read\)$/,
      ]);
    });

    it("dmarc-reporting: reports to a host outside the stack's zones, until externalReportDestinations lists it", async () => {
      const resources = withTxt(stack("prod"), "example.co.uk-_dmarc-txt", "v=DMARC1; p=reject; rua=mailto:dmarc-rua@example.com,mailto:reports@dmarc.vendor.example");
      assertOnly(await runPolicies(resources), "dmarc-reporting", [
        /^example\.co\.uk: DMARC record _dmarc\.example\.co\.uk ".*" sends reports to dmarc\.vendor\.example \(rua=mailto:reports@dmarc\.vendor\.example\), outside example\.co\.uk, and the stack cannot confirm that dmarc\.vendor\.example authorizes them: receivers send reports only if TXT "v=DMARC1" is published at example\.co\.uk\._report\._dmarc\.dmarc\.vendor\.example, .*; check that record exists, then add "dmarc\.vendor\.example" to externalReportDestinations in the dmarc-reporting config, or send the reports to an address under example\.co\.uk$/,
      ]);
      assertClean(await runPolicies(resources, { "dmarc-reporting": { externalReportDestinations: ["dmarc.vendor.example"] } }));
      assertClean(await runPolicies(resources, { "dmarc-reporting": { externalReportDestinations: ["reports@dmarc.vendor.example"] } }));
    });

    it("dmarc-reporting: reports into a zone of the stack without its authorization record (Cloudflare); the wildcard authorizes", async () => {
      const resources = without(stack("dev"), "example.com-example.org._report._dmarc-txt");
      const violations = await runPolicies(resources);
      assertOnly(violations, "dmarc-reporting", [
        /^example\.org: DMARC record _dmarc\.example\.org "v=DMARC1; p=quarantine; sp=quarantine; rua=mailto:dmarc-reports@example\.com" sends reports to example\.com \(rua=mailto:dmarc-reports@example\.com\), outside example\.org, but the stack publishes no TXT "v=DMARC1" at example\.org\._report\._dmarc\.example\.com \(or \*\._report\._dmarc\.example\.com\), so receivers send no reports there \(RFC 7489 §7\.1\); publish TXT "v=DMARC1" at example\.org\._report\._dmarc\.example\.com, or send the reports to an address under example\.org$/,
      ]);
      assert.equal(violations[0].urn, urnOf(resources, "example.org-_dmarc-txt"));
      assertClean(await runPolicies([...resources, cloudflareTxt("dev", "*._report._dmarc.example.com", "v=DMARC1")]));
    });
  });

  describe("BIMI", () => {
    const logo = "v=BIMI1; l=https://brand.example.com/bimi/logo.svg; a=https://brand.example.com/bimi/vmc.pem";

    it("bimi-requires-enforcement: a logo over p=none (hand-made in Cloudflare, dev)", async () => {
      const resources = [...stack("dev"), cloudflareTxt("dev", "default._bimi.example.com", logo)];
      const violations = await runPolicies(resources);
      assertOnly(violations, "bimi-requires-enforcement", [
        /^example\.com: BIMI record default\._bimi\.example\.com "v=BIMI1; l=https:\/\/brand\.example\.com\/bimi\/logo\.svg; a=https:\/\/brand\.example\.com\/bimi\/vmc\.pem" needs DMARC enforcement, but its DMARC record _dmarc\.example\.com "v=DMARC1; p=none; .*" has p=none, so receivers show no logo; set p=quarantine or p=reject in _dmarc\.example\.com, or remove the BIMI record$/,
      ]);
      assert.equal(violations[0].urn, resources.at(-1)!.urn);
    });

    it("bimi-requires-enforcement: a declination needs nothing", async () => {
      assertClean(await runPolicies([...stack("dev"), cloudflareTxt("dev", "default._bimi.example.com", "v=BIMI1; l=; a=;")]));
    });

    it("bimi-requires-enforcement: a subdomain falls back to the organizational domain's sp", async () => {
      assertClean(await runPolicies([...stack("dev"), cloudflareTxt("dev", "default._bimi.news.example.org", logo)]));
      assertOnly(await runPolicies([...stack("dev"), cloudflareTxt("dev", "default._bimi.news.example.com", logo)]), "bimi-requires-enforcement", [
        /^news\.example\.com: BIMI record default\._bimi\.news\.example\.com ".*" needs DMARC enforcement, but the organizational domain's DMARC record _dmarc\.example\.com ".*" has p=none and no sp, so subdomains get none, so receivers show no logo; set sp=quarantine or sp=reject in _dmarc\.example\.com, or remove the BIMI record$/,
      ]);
    });

    it("bimi-requires-enforcement: sp=none under prod's BIMI record (Route53); dmarc-enforcement judges p only", async () => {
      const resources = withTxt(
        stack("prod"),
        "example.com-_dmarc-txt",
        "v=DMARC1; p=reject; sp=none; np=reject; adkim=s; aspf=r; fo=1; rua=mailto:dmarc-rua@example.com; ruf=mailto:dmarc-ruf@example.com",
      );
      assertOnly(await runPolicies(resources), "bimi-requires-enforcement", [
        /^example\.com: BIMI record default\._bimi\.example\.com ".*" needs DMARC enforcement, but its DMARC record _dmarc\.example\.com ".*" has sp=none, so receivers show no logo; set sp to quarantine or reject \(or remove sp\) in _dmarc\.example\.com, or remove the BIMI record$/,
      ]);
    });

    it("bimi-requires-enforcement: a logo URL that is not https (Route53)", async () => {
      const resources = withTxt(stack("prod"), "example.com-default._bimi-txt", "v=BIMI1; l=http://brand.example.com/bimi/logo.svg; a=https://brand.example.com/bimi/vmc.pem");
      assertOnly(await runPolicies(resources), "bimi-requires-enforcement", [
        /^example\.com: BIMI record default\._bimi\.example\.com "v=BIMI1; l=http:\/\/brand\.example\.com\/bimi\/logo\.svg; .*": BIMI l= "http:\/\/brand\.example\.com\/bimi\/logo\.svg" must be one https URL of an SVG logo \(ending in \.svg\), e\.g\. "https:\/\/example\.com\/bimi\/logo\.svg"$/,
      ]);
    });
  });

  describe("MTA-STS and TLS-RPT", () => {
    it("mta-sts-consistent: the record's id is not the served policy's (Route53)", async () => {
      const resources = withTxt(stack("prod"), "example.com-_mta-sts-txt", "v=STSv1; id=20260101");
      const expected = mtaStsPolicyId(resources.find((r) => r.type === MAIL_DOMAIN && r.name === "example.com")!.inputs.mtaStsPolicy as string);
      const violations = await runPolicies(resources);
      assertOnly(violations, "mta-sts-consistent", [
        new RegExp(
          `^example\\.com: MTA-STS record _mta-sts\\.example\\.com "v=STSv1; id=20260101" has id=20260101, but the policy the stack serves at https://mta-sts\\.example\\.com/\\.well-known/mta-sts\\.txt has id ${expected}, so senders that cached an older policy do not refetch it; publish "v=STSv1; id=${expected}" at _mta-sts\\.example\\.com$`,
        ),
      ]);
      assert.equal(violations[0].urn, urnOf(resources, "example.com-_mta-sts-txt"));
    });

    it("mta-sts-consistent: an MX host the policy does not list", async () => {
      const policy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";
      const resources = withTxt(
        changed(stack("prod"), MAIL_DOMAIN, "example.com", { mtaStsPolicy: policy }),
        "example.com-_mta-sts-txt",
        `v=STSv1; id=${mtaStsPolicyId(policy)}`,
      );
      assertOnly(await runPolicies(resources), "mta-sts-consistent", [
        /^example\.com: MX "20 mx2\.example\.com" names mx2\.example\.com, which matches no mx of the MTA-STS policy at https:\/\/mta-sts\.example\.com\/\.well-known\/mta-sts\.txt \("mx: mx1\.example\.com"; record _mta-sts\.example\.com "v=STSv1; id=[0-9a-f]+"\), so senders treat delivery to it as a policy failure and refuse it; add "mx2\.example\.com" to mtaSts mx for example\.com$/,
      ]);
    });

    it("mta-sts-consistent: an invalid record id (Cloudflare)", async () => {
      const resources = withTxt(stack("dev"), "example.com-_mta-sts-txt", "v=STSv1; id=2026-01-01");
      assertOnly(await runPolicies(resources), "mta-sts-consistent", [
        /^example\.com: MTA-STS record _mta-sts\.example\.com "v=STSv1; id=2026-01-01": MTA-STS "id=2026-01-01" is invalid; the id is 1 to 32 letters and digits$/,
      ]);
    });

    it("mta-sts-consistent: a record the stack has no policy text for (hand-made in Route53)", async () => {
      const resources = [...stack("prod"), route53("prod", "_mta-sts.example.org", "TXT", ["v=STSv1; id=20260101"])];
      assertOnly(await runPolicies(resources), "mta-sts-consistent", [
        /^example\.org: MTA-STS record _mta-sts\.example\.org "v=STSv1; id=20260101" announces a policy, but the stack has no MTA-STS policy text for example\.org to check it against \(its MailDomain serves none\); give example\.org mtaSts in the stack config so Postforge serves https:\/\/mta-sts\.example\.org\/\.well-known\/mta-sts\.txt, or remove the record if nothing serves a policy there$/,
      ]);
    });

    it("mta-sts-consistent: minMaxAge changes the verdict", async () => {
      assertOnly(await runPolicies(stack("prod"), { "mta-sts-consistent": { minMaxAge: 2000000 } }), "mta-sts-consistent", [
        /^example\.com: the MTA-STS policy at https:\/\/mta-sts\.example\.com\/\.well-known\/mta-sts\.txt \(record _mta-sts\.example\.com "v=STSv1; id=[0-9a-f]+"\) has max_age 1209600, under the 2000000 seconds this stack requires: .*; raise mtaSts maxAge to at least 2000000/,
      ]);
      assertClean(await runPolicies(stack("prod"), { "mta-sts-consistent": { minMaxAge: 1209600 } }));
    });

    it("tls-rpt-uris: an ftp: report URI (Cloudflare)", async () => {
      const resources = withTxt(stack("dev"), "example.org-_smtp._tls-txt", "v=TLSRPTv1; rua=ftp://reports.example.com/tls");
      assertOnly(await runPolicies(resources), "tls-rpt-uris", [
        /^example\.org: TLS-RPT record _smtp\._tls\.example\.org "v=TLSRPTv1; rua=ftp:\/\/reports\.example\.com\/tls": TLS-RPT rua\[0\] "ftp:\/\/reports\.example\.com\/tls" must be a mailto: or https: URI; use "mailto:tls-reports@example\.com" or "https:\/\/reports\.example\.com\/tlsrpt"$/,
      ]);
    });

    it("tls-rpt-uris: a record without rua (Route53)", async () => {
      const resources = withTxt(stack("prod"), "example.com-_smtp._tls-txt", "v=TLSRPTv1");
      assertOnly(await runPolicies(resources), "tls-rpt-uris", [/^example\.com: TLS-RPT record _smtp\._tls\.example\.com "v=TLSRPTv1": TLS-RPT record "v=TLSRPTv1" needs exactly one "rua=" with report URIs; add rua=mailto:<address>$/]);
    });
  });
});
