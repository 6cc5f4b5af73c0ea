/**
 * The DKIM, reverse-DNS, MX and receiving, host-hardening and bulk-sender
 * rules over deliberately broken variants of the example stacks: each variant
 * trips exactly the rule it targets, with the expected message; the clean
 * stacks pass every rule (test/policies.test.ts).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { before, describe, it } from "node:test";
import type { CapturedResource } from "../cli/plan/engine";
import { splitTxtValue } from "../components/dns/txt";
import { fromCaptured } from "../policies/model/from-captured";
import { ALL_RULES } from "../policies/rules";
import { policyConfigProblems, runRules } from "../policies/run";
import { assertNone, assertOnly, captureStack, handMadeResource, runPolicies } from "./support/policy-harness";



/** A deep copy of the stack with the named resources changed (each change gets its own copy of the resource). */
function changed(resources: CapturedResource[], changes: Record<string, (r: CapturedResource) => void>): CapturedResource[] {
  const seen = new Set<string>();
  const out = resources.map((r) => {
    const change = changes[r.name];
    if (!change) return r;
    seen.add(r.name);
    const copy = structuredClone(r);
    change(copy);
    // A component's facts reach stack policies as its registered outputs: change them alike.
    if (!copy.custom) copy.outputs = { ...copy.outputs, ...Object.fromEntries(Object.entries(copy.inputs).filter(([k]) => copy.outputs && k in copy.outputs)) };
    return copy;
  });
  assert.deepEqual([...seen].sort(), Object.keys(changes).sort(), "every resource to change exists");
  return out;
}

const without = (resources: CapturedResource[], ...names: string[]) => {
  for (const name of names) assert.ok(resources.some((r) => r.name === name), `${name} exists`);
  return resources.filter((r) => !names.includes(r.name));
};

const byName = (resources: CapturedResource[], name: string) => resources.find((r) => r.name === name)!;

/** base64 SPKI DER of a fresh RSA public key, the `p=` of a DKIM record. */
function rsaPublicKey(bits: number): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return publicKey.export({ type: "spki", format: "der" }).toString("base64");
}

/** A PEM private key, generated here so no source file carries one. */
function pemPrivateKey(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

/** A TXT value as Route53 `records` hold it (character-strings joined by `""`) and as Cloudflare `content` does. */
const route53Txt = (value: string) => splitTxtValue(value).join('""');
const cloudflareTxt = (value: string) => splitTxtValue(value).map((s) => `"${s}"`).join(" ");

function cloudflareRecord(name: string, type: string, content: string, extra: Record<string, unknown> = {}): CapturedResource {
  return handMadeResource("dev", "cloudflare:index/dnsRecord:DnsRecord", `hand-${name}-${type}`, {
    zoneId: "89abcdef0123456789abcdef01234567",
    name,
    type,
    ttl: 1,
    content,
    ...extra,
  });
}

describe("policy pack: DKIM, reverse DNS, receiving, host hardening, bulk senders", () => {
  let dev: CapturedResource[];
  let prod: CapturedResource[];
  let selfhosted: CapturedResource[];
  const rsa1024 = rsaPublicKey(1024);
  const rsa2048 = rsaPublicKey(2048);
  before(async () => {
    dev = await captureStack("dev");
    prod = await captureStack("prod");
    selfhosted = await captureStack("selfhosted");
  });

  it("registers every rule of these groups with its profile, level and settings", () => {
    const groups = new Map(ALL_RULES.map((r) => [r.name, r]));
    const expected: [string, string, string][] = [
      ["dkim-selectors-published", "DKIM", "baseline"],
      ["dkim-key-strength", "DKIM", "baseline"],
      ["dkim-record-syntax", "DKIM", "baseline"],
      ["dkim-private-key-secret", "DKIM", "baseline"],
      ["ptr-fcrdns", "Reverse DNS", "baseline"],
      ["eip-protected", "Reverse DNS", "baseline"],
      ["mx-present", "MX and receiving", "baseline"],
      ["role-mailboxes", "MX and receiving", "baseline"],
      ["host-imdsv2", "Host hardening", "baseline"],
      ["host-root-encrypted", "Host hardening", "baseline"],
      ["host-no-world-ssh", "Host hardening", "baseline"],
      ["host-port25-receivers", "Host hardening", "baseline"],
      ["bulk-spf-and-dkim", "Bulk senders", "bulk-sender"],
      ["bulk-dmarc-alignment", "Bulk senders", "bulk-sender"],
    ];
    for (const [name, group, profile] of expected) {
      const rule = groups.get(name);
      assert.ok(rule, name);
      assert.equal(rule.group, group, name);
      assert.equal(rule.profile, profile, name);
      assert.equal(rule.enforcementLevel, profile === "bulk-sender" ? "advisory" : "mandatory", name);
    }
    assert.deepEqual(policyConfigProblems({ "dkim-key-strength": { minRsaBits: 3072, legacy1024Selectors: ["s1._domainkey.example.com"] } }), []);
    assert.deepEqual(policyConfigProblems({ "dkim-key-strength": { minRsaBits: 512 } }), ["dkim-key-strength.minRsaBits = 512: must be between 1024 and 4096"]);
  });

  describe("DKIM", () => {
    it("dkim-selectors-published: the mail host signs with a selector that has no record", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com": (r) => (r.inputs.signingKeys = [...(r.inputs.signingKeys as string[]), "example.org/pf2026q2"]),
      });
      assertOnly(await runPolicies(resources), "dkim-selectors-published", [
        /^example\.org: mail host mail\.example\.com signs with selector pf2026q2, but pf2026q2\._domainkey\.example\.org has no TXT record in this stack; receivers fail every signature it makes .*; publish the key's record at pf2026q2\._domainkey\.example\.org .*, or stop signing with pf2026q2$/,
      ]);
    });

    it("dkim-selectors-published: the record of a selector the host signs with is revoked (empty p=)", async () => {
      const resources = changed(selfhosted, {
        "example.com-pf2026q4._domainkey-txt": (r) => (r.inputs.records = ["v=DKIM1; k=rsa; p="]),
      });
      assertOnly(await runPolicies(resources), "dkim-selectors-published", [
        /^example\.com: mail host mail\.example\.com signs with selector pf2026q4, but pf2026q4\._domainkey\.example\.com publishes only a revoked key \(TXT "v=DKIM1; k=rsa; p="\); .*publish the key's record at pf2026q4\._domainkey\.example\.com/,
      ]);
    });

    it("dkim-key-strength: a 1024-bit key in a published record, unless listed in legacy1024Selectors", async () => {
      const resources = changed(prod, {
        "example.co.uk-partner2026._domainkey-txt": (r) => (r.inputs.records = [route53Txt(`v=DKIM1; k=rsa; p=${rsa1024}`)]),
      });
      assertOnly(await runPolicies(resources), "dkim-key-strength", [
        /^example\.co\.uk: DKIM key record partner2026\._domainkey\.example\.co\.uk \(TXT "v=DKIM1; k=rsa; p=MIGf[^"]*"\) is a 1024-bit RSA key; keys must have at least 2048 bits \(minRsaBits; RFC 8301 §3\.2.*\); rotate to a 2048-bit key under a new selector, or, for legacy receivers only, set allowLegacy1024RsaForOldReceivers: true on its key in the stack config \(domains\[\]\.dkim\.keys\[\] or publicKeys\[\]\) or list partner2026\._domainkey\.example\.co\.uk in this rule's legacy1024Selectors$/,
      ]);
      assertNone(await runPolicies(resources, { "dkim-key-strength": { legacy1024Selectors: ["partner2026._domainkey.example.co.uk."] } }));
      // The list names records: another selector stays refused.
      assert.equal((await runPolicies(resources, { "dkim-key-strength": { legacy1024Selectors: ["other._domainkey.example.co.uk"] } })).length, 1);
    });

    it("dkim-key-strength: minRsaBits raises the bar for records and for keys generated at deploy", async () => {
      assertNone(await runPolicies(dev, { "dkim-key-strength": { minRsaBits: 2048 } }));
      assertOnly(await runPolicies(dev, { "dkim-key-strength": { minRsaBits: 3072 } }), "dkim-key-strength", [
        /^example\.org: DKIM key record esp2026\._domainkey\.example\.org \(TXT "v=DKIM1; k=rsa; p=MIIBIjAN.*"\) is a 2048-bit RSA key; keys must have at least 3072 bits \(minRsaBits.*\); rotate to a 3072-bit key under a new selector$/,
        /^example\.com: DkimKey example\.com-pf2026q4 \(selector pf2026q4\) generates a 2048-bit RSA key; keys must have at least 3072 bits .*; rotate to a 3072-bit key under a new selector$/,
      ]);
    });

    it("dkim-key-strength: a DkimKey asked for 1024 bits is caught at preview, while its record is still unknown", async () => {
      const weak = changed(selfhosted, { "example.org-pf2026q4": (r) => (r.inputs.bits = 1024) });
      assertOnly(await runPolicies(weak), "dkim-key-strength", [
        /^example\.org: DkimKey example\.org-pf2026q4 \(selector pf2026q4\) generates a 1024-bit RSA key; keys must have at least 2048 bits .*, or, for legacy receivers only, set allowLegacy1024RsaForOldReceivers: true on its key in the stack config \(domains\[\]\.dkim\.keys\[\] or publicKeys\[\]\) or list pf2026q4\._domainkey\.example\.org in this rule's legacy1024Selectors$/,
      ]);
      const allowed = changed(weak, { "example.org-pf2026q4": (r) => (r.inputs.allowLegacy1024 = true) });
      assertNone(await runPolicies(allowed));
      assertNone(await runPolicies(weak, { "dkim-key-strength": { legacy1024Selectors: ["pf2026q4._domainkey.example.org"] } }));
      // allowLegacy1024 excuses exactly 1024 bits, not a 1536-bit key.
      const odd = changed(allowed, { "example.org-pf2026q4": (r) => (r.inputs.bits = 1536) });
      assertOnly(await runPolicies(odd), "dkim-key-strength", [/^example\.org: DkimKey example\.org-pf2026q4 \(selector pf2026q4\) generates a 1536-bit RSA key; keys must have at least 2048 bits .*under a new selector$/]);
    });

    it("dkim-key-strength: a 1024-bit record whose DkimKey allows legacy 1024 passes", async () => {
      const resources = changed(selfhosted, {
        "example.org-pf2026q4": (r) => Object.assign(r.inputs, { bits: 1024, allowLegacy1024: true }),
        "example.org-pf2026q4._domainkey-txt": (r) => (r.inputs.records = [route53Txt(`v=DKIM1; k=rsa; p=${rsa1024}`)]),
      });
      assertNone(await runPolicies(resources));
    });

    it("dkim-key-strength: an Ed25519 record whose p= is not 32 bytes", async () => {
      const spki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }).toString("base64");
      const resources = [...dev, cloudflareRecord("ed2026._domainkey.example.com", "TXT", cloudflareTxt(`v=DKIM1; k=ed25519; p=${spki}`))];
      assertOnly(await runPolicies(resources), "dkim-key-strength", [
        /^example\.com: DKIM key record ed2026\._domainkey\.example\.com \(TXT "v=DKIM1; k=ed25519; p=MCowBQYDK2VwAyEA.*"\): DKIM ed25519 key is 44 bytes; p= must be the raw 32-byte key in base64 \(RFC 8463 §4\.2\).*; republish the key exactly as generated$/,
      ]);
      const raw = Buffer.from(spki, "base64").subarray(-32).toString("base64");
      assertNone(await runPolicies([...dev, cloudflareRecord("ed2026._domainkey.example.com", "TXT", cloudflareTxt(`v=DKIM1; k=ed25519; p=${raw}`))]));
    });

    it("dkim-record-syntax: v= not first, sha1-only h=, an unknown k= and a p= that is not base64", async () => {
      const resources = [
        ...dev,
        cloudflareRecord("legacy._domainkey.example.com", "TXT", cloudflareTxt(`k=rsa; v=DKIM1; h=sha1; p=${rsa2048}`)),
        cloudflareRecord("dsa._domainkey.example.com", "TXT", cloudflareTxt(`v=DKIM1; k=dsa; p=${rsa2048}`)),
        cloudflareRecord("typo._domainkey.example.com", "TXT", cloudflareTxt("v=DKIM1; k=rsa; p=MIIB*not-base64")),
      ];
      assertOnly(await runPolicies(resources), "dkim-record-syntax", [
        /^example\.com: DKIM key record legacy\._domainkey\.example\.com \(TXT "k=rsa; v=DKIM1; h=sha1; p=MIIB.*"\): DKIM tag "v" must be the first tag when present \(RFC 6376 §3\.6\.1\); move v=DKIM1 to the front$/,
        /^example\.com: DKIM key record legacy\._domainkey\.example\.com .*: DKIM tag "h=sha1" does not allow sha256; rsa-sha1 MUST NOT be used \(RFC 8301 §3\.1\)\. Remove h or set h=sha256$/,
        /^example\.com: DKIM key record dsa\._domainkey\.example\.com .*: DKIM tag "k=dsa" is not a key type receivers know; use k=rsa or k=ed25519$/,
        /^example\.com: DKIM key record typo\._domainkey\.example\.com \(TXT "v=DKIM1; k=rsa; p=MIIB\*not-base64"\): DKIM tag "p" is not valid base64; publish the key exactly as generated$/,
      ]);
    });

    it("dkim-private-key-secret: a DkimKey whose privateKeyPem is not a secret output", async () => {
      const resources = changed(selfhosted, { "example.com-pf2026q4e": (r) => (r.additionalSecretOutputs = []) });
      assertOnly(await runPolicies(resources), "dkim-private-key-secret", [
        /^example\.com: DkimKey example\.com-pf2026q4e \(selector pf2026q4e\) does not list privateKeyPem in additionalSecretOutputs, so its private key is stored in plain text in the stack state .*; add additionalSecretOutputs: \["privateKeyPem"\] to its options/,
      ]);
    });

    it("dkim-private-key-secret: a keyring's secret version given a plain secretString, judged where the source tells secrets apart", async () => {
      const resources = changed(selfhosted, { "example.org-pf2026q4-secret-version": (r) => (r.secretInputs = []) });
      const offline = runRules(fromCaptured(resources), { all: "mandatory" }).flatMap((r) => r.violations.map((v) => ({ policy: r.rule.name, ...v })));
      assertOnly(offline, "dkim-private-key-secret", [
        /^DKIM keyring example\.org: Secrets Manager version example\.org-pf2026q4-secret-version takes secretString as a plain value, so what it stores \(a DKIM private key, password hashes\) is written unencrypted to the stack state; pass it as a secret/,
      ]);
      assert.equal(offline[0].urn, byName(resources, "example.org-pf2026q4-secret-version").urn);
      // The mail host's own secret version counts too.
      const host = changed(selfhosted, { "mail.example.com-mailbox-passwords-version": (r) => (r.secretInputs = []) });
      const hostOffline = runRules(fromCaptured(host)).flatMap((r) => r.violations.map((v) => ({ policy: r.rule.name, ...v })));
      assertOnly(hostOffline, "dkim-private-key-secret", [/^mail host mail\.example\.com: Secrets Manager version mail\.example\.com-mailbox-passwords-version takes secretString as a plain value/]);
      // The policy engine hands stack policies plain values: it cannot tell, so the rule does not guess.
      assertNone(await runPolicies(resources));
    });

    it("dkim-private-key-secret: a PEM private key in the instance's user-data and in a hand-made resource's plain prop", async () => {
      const pem = pemPrivateKey();
      const resources = [
        ...changed(selfhosted, { "mail.example.com-instance": (r) => (r.inputs.userData = `${r.inputs.userData}\nwrite_files:\n  - path: /etc/opendkim/keys/extra.private\n    content: |\n${pem}`) }),
        handMadeResource("selfhosted", "aws:ssm/parameter:Parameter", "dkim-key-param", { name: "/mail/dkim", type: "String", value: pem }),
        // Where keys belong: not reported.
        handMadeResource("selfhosted", "aws:secretsmanager/secretVersion:SecretVersion", "hand-secret", { secretId: "x", secretString: pem }),
        handMadeResource("selfhosted", "tls:index/privateKey:PrivateKey", "tls-key", { algorithm: "ED25519", privateKeyPem: pem }),
      ];
      // Offline, where secrecy is known: the user-data and the plain SSM parameter.
      const violations = runRules(fromCaptured(resources)).flatMap((r) => r.violations.map((v) => ({ policy: r.rule.name, ...v })));
      assertOnly(violations, "dkim-private-key-secret", [
        /^mail\.example\.com: Instance mail\.example\.com-instance: userData holds a PEM private key; user-data is readable by every process on the instance \(metadata service\) .*; keep the key in a Secrets Manager secret \(SecretVersion\.secretString, a Pulumi secret\) and fetch it at boot with the instance role/,
        /^Parameter dkim-key-param: value holds a PEM private key; it is stored in the stack state in plain text .*; keep the key in a Secrets Manager secret/,
      ]);
      assert.deepEqual(
        violations.map((v) => v.urn),
        [byName(resources, "mail.example.com-instance").urn, byName(resources, "dkim-key-param").urn],
      );
      // The policy engine unwraps secrets, so a parameter may hold a secret value: only the user-data, never secret, is judged.
      const engine = await runPolicies(resources);
      assertOnly(engine, "dkim-private-key-secret", [/^mail\.example\.com: Instance mail\.example\.com-instance: userData holds a PEM private key/]);
    });
  });

  describe("Reverse DNS", () => {
    it("ptr-fcrdns: the mail host's Elastic IP has no reverse DNS", async () => {
      const resources = without(selfhosted, "mail.example.com-ptr");
      const violations = await runPolicies(resources);
      assertOnly(violations, "ptr-fcrdns", [
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip sends mail but has no reverse DNS \(no aws\.ec2\.EipDomainName for it\).*; add an EipDomainName with allocationId of mail\.example\.com-eip and domainName mail\.example\.com, created after the A record mail\.example\.com → the address$/,
      ]);
      assert.equal(violations[0].urn, byName(selfhosted, "mail.example.com-eip").urn);
    });

    it("ptr-fcrdns: the PTR names another host than the HELO name, and that name has no A record", async () => {
      const resources = changed(selfhosted, { "mail.example.com-ptr": (r) => (r.inputs.domainName = "smtp.example.com") });
      assertOnly(await runPolicies(resources), "ptr-fcrdns", [
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr names smtp\.example\.com, but the host says HELO mail\.example\.com; .*set the EipDomainName's domainName to mail\.example\.com$/,
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr names smtp\.example\.com, but smtp\.example\.com has no A record in this stack; forward-confirmed reverse DNS fails .*; publish A smtp\.example\.com → its address \(the Elastic IP's publicIp\) in this stack$/,
      ]);
    });

    it("ptr-fcrdns: the A record holds another address than the Elastic IP's (both known)", async () => {
      const known = (address: string) => changed(selfhosted, { "mail.example.com-eip": (r) => (r.inputs.publicIp = address) });
      assertOnly(await runPolicies(known("198.51.100.7")), "ptr-fcrdns", [
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr names mail\.example\.com, but the A record at mail\.example\.com holds 203\.0\.113\.145; forward-confirmed reverse DNS fails .*; publish A mail\.example\.com → 198\.51\.100\.7 \(the Elastic IP's publicIp\) in this stack$/,
      ]);
      // The same address matches without the dependency.
      const same = changed(known("203.0.113.145"), {
        "example.com-mail-a": (r) => (r.dependencies = r.dependencies.filter((d) => !d.endsWith("::mail.example.com-eip"))),
      });
      assertNone(await runPolicies(same));
    });

    it("ptr-fcrdns: with the address unknown, an A record not built from the Elastic IP does not confirm it", async () => {
      const resources = changed(selfhosted, {
        "example.com-mail-a": (r) => (r.dependencies = r.dependencies.filter((d) => !d.endsWith("::mail.example.com-eip"))),
      });
      assertOnly(await runPolicies(resources), "ptr-fcrdns", [/^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr names mail\.example\.com, but the A record at mail\.example\.com holds 203\.0\.113\.145; /]);
    });

    it("ptr-fcrdns: the reverse DNS does not wait for its A record", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com-ptr": (r) => (r.dependencies = r.dependencies.filter((d) => !d.includes("postforge:dns:MailDomain"))),
      });
      assertOnly(await runPolicies(resources), "ptr-fcrdns", [
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip: reverse DNS mail\.example\.com-ptr \(mail\.example\.com\) does not depend on the A record example\.com-mail-a \(mail\.example\.com → 203\.0\.113\.145\), so Pulumi may create it first .*; add dependsOn: \[the MailDomain that publishes it\] to the EipDomainName \(MailHost\.publishReverseDns\(<that MailDomain>\)\)$/,
      ]);
      // Depending on the MailDomain component itself is enough.
      const onComponent = changed(resources, {
        "mail.example.com-ptr": (r) => r.dependencies.push(selfhosted.find((d) => d.type === "postforge:dns:MailDomain" && d.name === "example.com")!.urn),
      });
      assertNone(await runPolicies(onComponent));
    });

    it("ptr-fcrdns and eip-protected: a hand-made Elastic IP with reverse DNS, outside any mail host", async () => {
      const aRecord = byName(prod, "example.com-mx1-a");
      const eip = handMadeResource("prod", "aws:ec2/eip:Eip", "relay-eip", { domain: "vpc", publicIp: "198.51.100.10" }, { protect: true });
      const ptr = (dependencies: string[]) =>
        handMadeResource("prod", "aws:ec2/eipDomainName:EipDomainName", "relay-ptr", { allocationId: "eipalloc-0relay", domainName: "mx1.example.com" }, { dependencies });
      assertNone(await runPolicies([...prod, eip, ptr([eip.urn, aRecord.urn])]));
      assertOnly(await runPolicies([...prod, eip, ptr([eip.urn])]), "ptr-fcrdns", [
        /^Elastic IP relay-eip: reverse DNS relay-ptr \(mx1\.example\.com\) does not depend on the A record example\.com-mx1-a \(mx1\.example\.com → 198\.51\.100\.10\), .*add dependsOn: \[the MailDomain that publishes it\]/,
      ]);
      const unprotected = { ...eip, protect: false };
      assertOnly(await runPolicies([...prod, unprotected, ptr([eip.urn, aRecord.urn])]), "eip-protected", [
        /^Elastic IP relay-eip sends mail but is not protected; .*set protect: true on it/,
      ]);
    });

    it("eip-protected: the mail host's Elastic IP without protect", async () => {
      const resources = changed(selfhosted, { "mail.example.com-eip": (r) => (r.protect = false) });
      const violations = await runPolicies(resources);
      assertOnly(violations, "eip-protected", [
        /^mail\.example\.com: Elastic IP mail\.example\.com-eip sends mail but is not protected; a replace or a stray `pulumi destroy` releases the address, its reverse DNS and the reputation .*; set protect: true on it \(MailHost: protectAddress: true\), and retainOnDelete: true$/,
      ]);
      assert.equal(violations[0].urn, byName(selfhosted, "mail.example.com-eip").urn);
    });
  });

  describe("MX and receiving", () => {
    it("mx-present: a sending domain without MX records", async () => {
      const resources = without(selfhosted, "example.org-@-mx");
      const violations = await runPolicies(resources);
      assertOnly(violations, "mx-present", [
        /^example\.org: sends mail but publishes no MX record, so bounces, replies and reports addressed to example\.org fall back to its address record .*; publish MX records for example\.org pointing at the hosts that receive its mail .*, or park it with a null MX "0 \." if it must never send$/,
      ]);
      assert.equal(violations[0].urn, byName(selfhosted, "example.org").urn);
    });

    it("mx-present: a null MX mixed with mail hosts", async () => {
      const resources = [
        ...prod,
        handMadeResource("prod", "aws:route53/record:Record", "null-mx", { zoneId: "Z9876543210ZYXWVUTSRQ", name: "example.org", type: "MX", ttl: 300, records: ["0 ."] }),
      ];
      assertOnly(await runPolicies(resources), "mx-present", [
        /^example\.org: MX "10 mx1\.example\.com", "0 \.": MX at "example\.org" mixes a null MX \("\."\) with mail hosts; RFC 7505 §3 forbids it\./,
      ]);
    });

    it("role-mailboxes: the MX host lacks abuse@ and a feedback-loop address for a domain it receives", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com": (r) => {
          r.inputs.mailboxes = (r.inputs.mailboxes as string[]).filter((m) => m !== "abuse@example.org");
          r.inputs.feedbackLoopAddresses = (r.inputs.feedbackLoopAddresses as string[]).filter((m) => !m.endsWith("@example.org"));
        },
      });
      const violations = await runPolicies(resources);
      assertOnly(violations, "role-mailboxes", [
        /^example\.org: MX "10 mail\.example\.com" is mail host mail\.example\.com, which lacks the mailbox abuse@example\.org and a feedback-loop address at example\.org; mail to postmaster@ must be accepted \(RFC 5321 §4\.5\.1\).*; add example\.org to the mail host's domains \(postforge:mailHost domains\), which creates these mailboxes$/,
      ]);
      assert.equal(violations[0].urn, byName(selfhosted, "mail.example.com").urn);
    });

    it("role-mailboxes: a domain whose MX is outside the stack is not judged", async () => {
      const resources = changed(selfhosted, {
        "example.org-@-mx": (r) => (r.inputs.records = ["10 mx.partner.example."]),
        "mail.example.com": (r) => (r.inputs.mailboxes = (r.inputs.mailboxes as string[]).filter((m) => !m.endsWith("@example.org"))),
      });
      assertNone((await runPolicies(resources)).filter((v) => v.policy === "role-mailboxes"));
    });
  });

  describe("Host hardening", () => {
    const sshRule = { description: "SSH", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] };

    it("host-imdsv2: the mail host's instance allows IMDSv1", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com-instance": (r) => ((r.inputs.metadataOptions as Record<string, unknown>).httpTokens = "optional"),
      });
      assertOnly(await runPolicies(resources), "host-imdsv2", [
        /^mail\.example\.com: instance mail\.example\.com-instance allows IMDSv1 \(metadataOptions\.httpTokens is "optional"\); a server-side request forgery .*; set metadataOptions: \{ httpTokens: "required", httpPutResponseHopLimit: 1 \}$/,
      ]);
    });

    it("host-imdsv2: a hand-made instance behind a group that accepts SMTP, and not one that does not", async () => {
      const group = handMadeResource("prod", "aws:ec2/securityGroup:SecurityGroup", "relay-sg", {
        ingress: [{ protocol: "tcp", fromPort: 25, toPort: 25, cidrBlocks: ["10.0.0.0/8"] }],
      });
      const instance = (name: string, dependencies: string[]) =>
        handMadeResource("prod", "aws:ec2/instance:Instance", name, { ami: "ami-0123", instanceType: "t3.small", rootBlockDevice: { encrypted: true } }, { dependencies });
      const violations = await runPolicies([...prod, group, instance("relay", [group.urn]), instance("web", [])]);
      assertOnly(violations, "host-imdsv2", [/^instance relay allows IMDSv1 \(metadataOptions\.httpTokens is unset, so optional\); /]);
    });

    it("host-root-encrypted: the mail host's root volume is not encrypted", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com-instance": (r) => ((r.inputs.rootBlockDevice as Record<string, unknown>).encrypted = false),
      });
      assertOnly(await runPolicies(resources), "host-root-encrypted", [
        /^mail\.example\.com: instance mail\.example\.com-instance has an unencrypted root volume \(rootBlockDevice\.encrypted is false\); it holds the mail queue, the mailboxes and the DKIM private keys .*; set rootBlockDevice: \{ encrypted: true \}/,
      ]);
    });

    it("host-no-world-ssh: SSH from anywhere through the MailHost's own config (allowSshFromAnywhere)", async () => {
      const resources = await captureStack("selfhosted", (config) => {
        config["postforge:mailHost"].sshCidrs = ["0.0.0.0/0"];
        config["postforge:mailHost"].allowSshFromAnywhere = true;
      });
      const violations = await runPolicies(resources);
      assertOnly(violations, "host-no-world-ssh", [
        /^mail\.example\.com: security group mail\.example\.com-sg ingress\[6\] opens SSH \(port 22, tcp 22\) to 0\.0\.0\.0\/0; SSH open to the internet is brute-forced .*; list your admin networks instead \(MailHost sshCidrs\) or use SSM Session Manager, which the mail host's role allows$/,
      ]);
      assert.equal(violations[0].urn, byName(resources, "mail.example.com-sg").urn);
    });

    it("host-no-world-ssh: standalone rules, all traffic over IPv6 and a port range, and not an admin network", async () => {
      const sg = byName(selfhosted, "mail.example.com-sg");
      const resources = [
        ...changed(selfhosted, {
          "mail.example.com-sg": (r) => (r.inputs.ingress as unknown[]).push({ ...sshRule, cidrBlocks: ["10.0.1.0/24"] }),
        }),
        handMadeResource(
          "selfhosted",
          "aws:ec2/securityGroupRule:SecurityGroupRule",
          "debug-all",
          { type: "ingress", securityGroupId: "sg-1", protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] },
          { dependencies: [sg.urn] },
        ),
        handMadeResource(
          "selfhosted",
          "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          "low-ports",
          { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 0, toPort: 1023, cidrIpv4: "0.0.0.0/0" },
          { dependencies: [sg.urn] },
        ),
        handMadeResource("selfhosted", "aws:ec2/securityGroupRule:SecurityGroupRule", "egress-ssh", { type: "egress", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }),
      ];
      // Both rules also open 25, but to the mail host's group, and the host is an MX: only SSH is wrong.
      assertOnly(await runPolicies(resources), "host-no-world-ssh", [
        /^mail\.example\.com: security group rule debug-all \(group mail\.example\.com-sg\) opens SSH \(port 22, all traffic\) to ::\/0; /,
        /^mail\.example\.com: security group rule low-ports \(group mail\.example\.com-sg\) opens SSH \(port 22, tcp 0-1023\) to 0\.0\.0\.0\/0; /,
      ]);
    });

    it("host-port25-receivers: a hand-made group opens SMTP to the internet for no mail host", async () => {
      const group = handMadeResource("prod", "aws:ec2/securityGroup:SecurityGroup", "app-sg", {
        ingress: [
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          { protocol: "tcp", fromPort: 25, toPort: 25, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
        ],
      });
      const violations = await runPolicies([...prod, group]);
      assertOnly(violations, "host-port25-receivers", [
        /^security group app-sg ingress\[1\] opens SMTP \(port 25, tcp 25\) to 0\.0\.0\.0\/0 and ::\/0, but it belongs to no mail host of the stack that receives mail; .*; remove the inbound port 25 rule, or receive mail with a Postforge MailHost that is a domain's MX$/,
      ]);
      assert.equal(violations[0].urn, group.urn);
      // From an internal network only (a relay for the VPC): allowed.
      const internal = { ...group, inputs: { ingress: [{ protocol: "tcp", fromPort: 25, toPort: 25, cidrBlocks: ["10.0.0.0/16"] }] } };
      assertNone(await runPolicies([...prod, internal]));
    });

    it("host-port25-receivers: the mail host is the MX of no domain", async () => {
      const resources = changed(selfhosted, {
        "example.com-@-mx": (r) => (r.inputs.records = ["10 mx.partner.example."]),
        "example.org-@-mx": (r) => (r.inputs.records = ["10 mx.partner.example."]),
      });
      const violations = (await runPolicies(resources)).filter((v) => v.policy.startsWith("host-"));
      assertOnly(violations, "host-port25-receivers", [
        /^mail\.example\.com: security group mail\.example\.com-sg ingress\[0\] opens SMTP \(port 25, tcp 25\) to 0\.0\.0\.0\/0, but mail host mail\.example\.com is the MX of no domain in this stack, so nothing should deliver to it; .*; publish MX <domain> → mail\.example\.com for the domains it receives for, or remove the inbound port 25 rule$/,
      ]);
    });
  });

  describe("Sending reputation: the suppression list is kept", () => {
    it("host-suppression-list-kept: a table left unprotected, without deletion protection or point-in-time recovery, is named with what it lacks", async () => {
      const resources = changed(selfhosted, {
        "mail.example.com-suppression": (r) => {
          r.protect = false;
          r.inputs.deletionProtectionEnabled = false;
          r.inputs.pointInTimeRecovery = { enabled: false };
        },
      });
      const violations = await runPolicies(resources);
      assertOnly(violations, "host-suppression-list-kept", [
        /^mail host mail\.example\.com: suppression-list table mail\.example\.com-suppression lacks protect: true \(Pulumi; MailHost sets it\), deletionProtectionEnabled: true \(AWS refuses a delete\), pointInTimeRecovery: \{ enabled: true \} \(restore to any second of 35 days\); the list cannot be recreated .*; set protect: true and deletionProtectionEnabled: true and pointInTimeRecovery: \{ enabled: true \} on it$/,
      ]);
      assert.equal(violations[0].urn, byName(resources, "mail.example.com-suppression").urn);
      // One setting missing is named alone.
      const one = changed(selfhosted, { "mail.example.com-suppression": (r) => (r.protect = false) });
      assertOnly(await runPolicies(one), "host-suppression-list-kept", [/ lacks protect: true \(Pulumi; MailHost sets it\); /]);
    });

    it("host-suppression-list-kept: a mail host without the table (a hand-made one, or one removed) keeps its list on a disk that goes with the instance", async () => {
      const resources = selfhosted.filter((r) => r.name !== "mail.example.com-suppression");
      assertOnly(await runPolicies(resources), "host-suppression-list-kept", [/^mail host mail\.example\.com has no suppression-list table: its list lives only on the instance's disk/]);
    });
  });

  describe("Sending reputation: the host is watched", () => {
    it("host-alarms: the production example's host has every alarm, each notifying its topic, and a subscriber", async () => {
      assertNone((await runPolicies(selfhosted)).filter((v) => v.policy === "host-alarms"));
    });

    it("host-alarms: a production host without its alarms, with one that notifies nobody, or with no subscriber, is named with the fix", async () => {
      const noAlarms = selfhosted.filter((r) => !(r.name.endsWith("-bounce-rate-critical") || r.name.endsWith("-dnsbl-listed")));
      assert.equal(noAlarms.length, selfhosted.length - 2);
      assertOnly(await runPolicies(noAlarms), "host-alarms", [/^mail host mail\.example\.com lacks the alarms bounce-rate-critical, dnsbl-listed: a bounce or complaint rate that climbs/]);
      const silent = changed(selfhosted, { "mail.example.com-monitoring-oldest-queued": (r) => (r.inputs.alarmActions = []) });
      assertOnly(await runPolicies(silent), "host-alarms", [/^mail host mail\.example\.com: alarm mail\.example\.com-monitoring-oldest-queued notifies nobody \(no alarmActions\); give it the host's alarm topic$/]);
      const unsubscribed = selfhosted.filter((r) => r.type !== "aws:sns/topicSubscription:TopicSubscription");
      assertOnly(await runPolicies(unsubscribed), "host-alarms", [/^mail host mail\.example\.com: nobody is subscribed to its alarms, so they fire unseen; set mailHost\.alarmEmails: \[ops@example\.com\]/]);
      // Not production: the same stack passes.
      assertNone((await runPolicies(unsubscribed, { "host-alarms": { production: false } })).filter((v) => v.policy === "host-alarms"));
    });
  });

  describe("Bulk senders", () => {
    it("bulk-spf-and-dkim: a sending domain without a live DKIM key (advisory)", async () => {
      const resources = without(dev, "example.org-esp2026._domainkey-txt");
      assertOnly(await runPolicies(resources), "bulk-spf-and-dkim", [
        /^example\.org: publishes SPF but no live DKIM key \(no non-revoked TXT record at <selector>\._domainkey\.example\.org\); bulk senders must pass both SPF and DKIM .*; publish a DKIM key for example\.org .* and sign its mail with it$/,
      ]);
      assertNone(await runPolicies(resources, { "bulk-spf-and-dkim": "disabled" }));
    });

    it("bulk-dmarc-alignment: a sending domain without DMARC", async () => {
      const resources = without(dev, "example.org-_dmarc-txt");
      const violations = (await runPolicies(resources)).filter((v) => v.policy.startsWith("bulk-"));
      assertOnly(violations, "bulk-dmarc-alignment", [
        /^example\.org: sends mail but has no DMARC record \(none at _dmarc\.example\.org\); Gmail, Yahoo and Outlook\.com require bulk senders to publish one; publish TXT "v=DMARC1; p=none; rua=mailto:<reports>" at _dmarc\.example\.org \(p=none is enough to start\)$/,
      ]);
    });

    it("bulk-dmarc-alignment: a subdomain under adkim=s with only the organizational domain's key, and no SPF", async () => {
      const subdomain = (adkim: string) => [
        ...dev,
        cloudflareRecord("_dmarc.news.example.org", "TXT", cloudflareTxt(`v=DMARC1; p=none; adkim=${adkim}; rua=mailto:dmarc-reports@example.com`)),
        cloudflareRecord("news.example.org", "MX", "mx.partner.example", { priority: 10 }),
      ];
      // Without SPF or a key of its own the baseline SPF rule and bulk-spf-and-dkim fire too; here only alignment is in question.
      const config = { "spf-one-record": "disabled" as const, "bulk-spf-and-dkim": "disabled" as const };
      const strict = (await runPolicies(subdomain("s"), config)).filter((v) => v.policy.startsWith("bulk-") || v.policy.startsWith("dkim-") || v.policy.startsWith("mx-"));
      assertOnly(strict, "bulk-dmarc-alignment", [
        /^news\.example\.org: DMARC _dmarc\.news\.example\.org \(TXT "v=DMARC1; p=none; adkim=s; rua=mailto:dmarc-reports@example\.com"\) is in force, but its mail cannot align: there is neither a DKIM key at news\.example\.org itself \(adkim=s: strict\) nor SPF at news\.example\.org; .*; publish a DKIM key at <selector>\._domainkey\.news\.example\.org and sign with d=news\.example\.org, or SPF at news\.example\.org$/,
      ]);
      // Relaxed: the organizational domain's key (esp2026._domainkey.example.org) aligns.
      const relaxed = (await runPolicies(subdomain("r"), config)).filter((v) => v.policy.startsWith("bulk-"));
      assertNone(relaxed);
    });
  });
});
