import { canonicalName } from "../../components/dns/model";
import { checkDkim, rsaModulusBits } from "../../components/dns/protocols";
import { parseTagList } from "../../components/dns/protocols/common";
import { DKIM_KEY_TYPE, DKIM_KEYRING_TYPE } from "../../components/type-tokens";
import { isUnknown, type StackResource } from "../model/resources";
import { INSTANCE, SECRET_VERSION, type StackView, type ViewRecord } from "../model/view";
import { ancestors, mailHostOf, subject } from "./host-support";
import type { Rule, Violation } from "./rule";
import { quote } from "./text";

/** A key record `<selector>._domainkey.<domain>` whose value is known. */
interface DkimRecord {
  record: ViewRecord;
  selector: string;
  domain: string;
  value: string;
}

function dkimRecords(view: StackView): DkimRecord[] {
  const out: DkimRecord[] = [];
  for (const record of view.records) {
    const at = record.name.indexOf("._domainkey.");
    if (record.type !== "TXT" || record.value === undefined || at <= 0) continue;
    out.push({ record, selector: record.name.slice(0, at), domain: record.name.slice(at + "._domainkey.".length), value: record.value });
  }
  return out;
}

const describe = (r: DkimRecord) => `${r.domain}: DKIM key record ${r.record.name} (TXT ${quote(r.value, 100)})`;

export const dkimSelectorsPublished: Rule = {
  name: "dkim-selectors-published",
  group: "DKIM",
  profile: "baseline",
  description: "Every selector a mail host signs with has a key record at <selector>._domainkey.<domain> in the stack that is not revoked.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 6376 §3.6.2.1 and §6.1.2 (no key record, or an empty p=, fails the signature)",
  check(view) {
    const violations: Violation[] = [];
    for (const host of view.mailHosts) {
      for (const key of host.signingKeys) {
        const [rawDomain, rawSelector] = key.split("/");
        if (!rawDomain || !rawSelector) continue;
        const domain = canonicalName(rawDomain);
        const selector = rawSelector.toLowerCase();
        const name = `${selector}._domainkey.${domain}`;
        if (view.liveDkimSelectors(domain).includes(selector)) continue;
        // A domain whose zone another stack owns may publish the key there: not judged here.
        if (!view.manages(name)) continue;
        const published = view.recordsAt(name, "TXT");
        // A record whose name is unknown at preview may be this one.
        if (published.length === 0 && view.unreadable.length > 0) continue;
        const found =
          published.length === 0
            ? `${name} has no TXT record in this stack`
            : `${name} publishes only a revoked key (${published.map((r) => `TXT ${quote(r.value!, 100)}`).join(", ")})`;
        violations.push({
          message: `${domain}: mail host ${host.hostname} signs with selector ${selector}, but ${found}; receivers fail every signature it makes (RFC 6376 §6.1.2); publish the key's record at ${name} (a key in state pending, active or retiring in the DkimKeyring of ${domain}), or stop signing with ${selector}`,
          urn: host.resource.urn,
        });
      }
    }
    return violations;
  },
};

interface KeyStrengthConfig {
  minRsaBits: number;
  legacy1024Selectors: string[];
}

/** Codes of checkDkim findings that mean the key cannot be read at all: dkim-record-syntax reports those. */
const UNREADABLE_KEY = new Set(["dkim.syntax.invalid", "dkim.p.missing", "dkim.key.revoked", "dkim.p.invalid-base64", "dkim.p.invalid-key", "dkim.k.unknown"]);
/** Codes of checkDkim findings about the key's size: dkim-key-strength judges those, with its own minimum. */
const KEY_SIZE = new Set(["dkim.rsa.too-short", "dkim.rsa.below-2048", "dkim.rsa.legacy-1024", "dkim.rsa.over-4096", "dkim.ed25519.length"]);

export const dkimKeyStrength: Rule<KeyStrengthConfig> = {
  name: "dkim-key-strength",
  group: "DKIM",
  profile: "baseline",
  description:
    "Every DKIM RSA key has at least minRsaBits bits (1024 only for a key that allows it for legacy receivers), every Ed25519 key is 32 bytes, and no DkimKey is generated weaker.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 8301 §3.2 (signers SHOULD use 2048 bits, verifiers MUST NOT accept under 1024); RFC 8463 §4.2",
  config: {
    minRsaBits: {
      type: "integer",
      minimum: 1024,
      maximum: 4096,
      default: 2048,
      description: "Smallest RSA key, in bits, a DKIM record or DkimKey may have (RFC 8301: signers SHOULD use at least 2048).",
    },
    legacy1024Selectors: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: 'Key records allowed to hold a 1024-bit RSA key for legacy receivers, by name: ["s1._domainkey.example.com"].',
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    const listed = new Set((config.legacy1024Selectors ?? []).map(canonicalName));
    const legacyAllowed = (domain: string, selector: string) =>
      listed.has(`${selector}._domainkey.${domain}`) || view.dkimKeys.some((k) => k.domain === domain && k.selector.toLowerCase() === selector && k.allowLegacy1024);
    const judged = new Set<string>();
    for (const r of dkimRecords(view)) {
      const findings = checkDkim(r.value, { allowLegacy1024: true });
      if (findings.some((f) => UNREADABLE_KEY.has(f.code))) continue;
      judged.add(r.record.name);
      const edLength = findings.find((f) => f.code === "dkim.ed25519.length");
      if (edLength) {
        violations.push({ message: `${describe(r)}: ${edLength.message}; republish the key exactly as generated`, urn: r.record.resource.urn });
        continue;
      }
      const tags = parseTagList(r.value);
      if ("error" in tags) continue;
      const k = (tags.tags.find((t) => t.key === "k")?.value ?? "rsa").toLowerCase();
      const p = tags.tags.find((t) => t.key === "p")?.value.replace(/\s+/g, "") ?? "";
      if (k !== "rsa") continue;
      const bits = rsaModulusBits(p);
      const weak = weakRsa(bits, config.minRsaBits, legacyAllowed(r.domain, r.selector), r.record.name);
      if (weak) violations.push({ message: `${describe(r)} is a ${bits}-bit RSA key; ${weak}`, urn: r.record.resource.urn });
    }
    // Keys generated at deploy: at preview their record is unknown, so judge the DkimKey's requested size.
    for (const key of view.dkimKeys) {
      const name = `${key.selector.toLowerCase()}._domainkey.${key.domain}`;
      if (key.algorithm !== "rsa" || !Number.isFinite(key.bits) || key.state === "revoked" || judged.has(name)) continue;
      const weak = weakRsa(key.bits, config.minRsaBits, key.allowLegacy1024 || listed.has(name), name);
      if (weak) {
        violations.push({
          message: `${key.domain}: DkimKey ${key.resource.name} (selector ${key.selector}) generates a ${key.bits}-bit RSA key; ${weak}`,
          urn: key.resource.urn,
        });
      }
    }
    return violations;
  },
};

/** Why an RSA key of this size is too weak, with the fix, for the record at `name`; undefined when it is strong enough. */
function weakRsa(bits: number, minRsaBits: number, legacy1024: boolean, name: string): string | undefined {
  if (bits < 1024) {
    return `receivers MUST NOT accept keys under 1024 bits (RFC 8301 §3.2), so every signature fails; rotate to a ${Math.max(minRsaBits, 2048)}-bit key under a new selector and revoke ${name}`;
  }
  if (bits >= minRsaBits || (bits === 1024 && legacy1024)) return undefined;
  const legacy = bits === 1024 ? `, or, for legacy receivers only, set allowLegacy1024RsaForOldReceivers: true on its key in the stack config (domains[].dkim.keys[] or publicKeys[]) or list ${name} in this rule's legacy1024Selectors` : "";
  return `keys must have at least ${minRsaBits} bits (minRsaBits; RFC 8301 §3.2: signers SHOULD use 2048 or more); rotate to a ${minRsaBits}-bit key under a new selector${legacy}`;
}

export const dkimRecordSyntax: Rule = {
  name: "dkim-record-syntax",
  group: "DKIM",
  profile: "baseline",
  description: "Every DKIM key record parses: v=DKIM1 first when present, a known k=, h= allowing sha256, and p= holding a valid base64 key.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 6376 §3.6.1; RFC 8301 §3.1 (rsa-sha1 MUST NOT be used)",
  check(view) {
    const violations: Violation[] = [];
    for (const r of dkimRecords(view)) {
      for (const f of checkDkim(r.value, { allowLegacy1024: true })) {
        if (f.severity !== "error" || KEY_SIZE.has(f.code)) continue;
        violations.push({ message: `${describe(r)}: ${f.message}`, urn: r.record.resource.urn });
      }
    }
    return violations;
  },
};

/**
 * The PEM header of a private key (PKCS#1, PKCS#8, encrypted, EC, OpenSSH),
 * built from parts so no source file carries the literal marker.
 */
const PEM_PRIVATE_KEY = new RegExp(`-{5}BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-{5}`);

/** Props that are secrets by their provider's schema, where a private key belongs. */
const SCHEMA_SECRETS: Record<string, string[]> = {
  "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
  "tls:index/selfSignedCert:SelfSignedCert": ["privateKeyPem"],
  "tls:index/certRequest:CertRequest": ["privateKeyPem"],
  "tls:index/locallySignedCert:LocallySignedCert": ["caPrivateKeyPem"],
  "aws:acm/certificate:Certificate": ["privateKey"],
  "aws:iam/serverCertificate:ServerCertificate": ["privateKey"],
};

/** Where a private key is expected and kept secret: the key's own output and the secret that stores it. */
const KEY_HOMES: Record<string, string> = { [SECRET_VERSION]: "secretString", [DKIM_KEY_TYPE]: "privateKeyPem" };

/** Paths (`userData`, `tags.Name`, `ingress[0].description`) of string props that hold a PEM private key. */
function privateKeyPaths(value: unknown, path: string): string[] {
  if (typeof value === "string") return PEM_PRIVATE_KEY.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => privateKeyPaths(v, `${path}[${i}]`));
  if (!value || typeof value !== "object" || isUnknown(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => privateKeyPaths(v, path ? `${path}.${k}` : k));
}

/** Whether a top-level prop is a secret: marked so in the program, by additionalSecretOutputs, or by the provider's schema. */
function isSecretProp(resource: StackResource, prop: string): boolean {
  if (resource.type === INSTANCE && prop.startsWith("userData")) return false; // readable from the instance metadata by any process, secret or not
  const top = prop.split(/[.[]/)[0];
  return (
    KEY_HOMES[resource.type] === top ||
    resource.additionalSecretOutputs.includes(top) ||
    (SCHEMA_SECRETS[resource.type] ?? []).includes(top) ||
    (resource.secretPaths ?? []).some((p) => p === top || prop === p || prop.startsWith(`${p}.`) || prop.startsWith(`${p}[`))
  );
}

/** Props no provider keeps secret: a key found there is in the clear whatever the program did. */
function neverSecret(resource: StackResource, path: string): boolean {
  if (resource.type === INSTANCE && path.startsWith("userData")) return true;
  if (["cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record", "aws:route53/record:Record"].includes(resource.type)) return true;
  if (resource.type.startsWith("postforge:")) return true;
  return path === "tags" || path.startsWith("tags.") || path.startsWith("tagsAll");
}

export const dkimPrivateKeySecret: Rule = {
  name: "dkim-private-key-secret",
  group: "DKIM",
  profile: "baseline",
  description:
    "DKIM private keys are Pulumi secrets: every DkimKey marks privateKeyPem secret, the Secrets Manager versions of keyrings and mail hosts store secret strings, and no resource holds a PEM private key in a plain property.",
  enforcementLevel: "mandatory",
  severity: "critical",
  source: "RFC 6376 §3.3 and §8.3 (whoever reads the private key signs as the domain); Pulumi secrets",
  check(view) {
    const violations: Violation[] = [];
    for (const key of view.dkimKeys) {
      if (key.resource.additionalSecretOutputs.includes("privateKeyPem")) continue;
      violations.push({
        message: `${key.domain}: DkimKey ${key.resource.name} (selector ${key.selector}) does not list privateKeyPem in additionalSecretOutputs, so its private key is stored in plain text in the stack state and shown by \`pulumi stack export\`; add additionalSecretOutputs: ["privateKeyPem"] to its options (the DkimKey class does this itself)`,
        urn: key.resource.urn,
      });
    }
    for (const version of view.ofType(SECRET_VERSION)) {
      if (version.secretPaths === undefined) continue; // the policy engine cannot tell secrets from plain values
      const owner = [version, ...ancestors(view, version)].find((r) => r.type === DKIM_KEYRING_TYPE) ?? mailHostOf(view, version)?.resource;
      if (!owner) continue;
      const plain = ["secretString", "secretBinary"].filter((p) => version.props[p] !== undefined && !version.secretPaths!.includes(p));
      for (const prop of plain) {
        const what = owner.type === DKIM_KEYRING_TYPE ? `DKIM keyring ${owner.name}` : `mail host ${mailHostOf(view, version)!.hostname}`;
        violations.push({
          message: `${what}: Secrets Manager version ${version.name} takes ${prop} as a plain value, so what it stores (a DKIM private key, password hashes) is written unencrypted to the stack state; pass it as a secret (pulumi.secret(...), or the DkimKey's privateKeyPem output, which is one)`,
          urn: version.urn,
        });
      }
    }
    for (const resource of view.resources) {
      for (const path of privateKeyPaths(resource.props, "")) {
        if (isSecretProp(resource, path)) continue;
        // The policy engine hands stack policies secrets unwrapped: where secrecy cannot be told, only
        // places that are never secret (user-data, DNS records, tags, Postforge's public facts) are judged.
        if (resource.secretPaths === undefined && !neverSecret(resource, path)) continue;
        const where =
          resource.type === INSTANCE && path.startsWith("userData")
            ? "user-data is readable by every process on the instance (metadata service) and by anyone allowed ec2:DescribeInstanceAttribute, and is stored in the stack state in plain text"
            : "it is stored in the stack state in plain text and shown in every preview";
        violations.push({
          message: `${subject(view, resource, resource.type.split(":").pop()!)}: ${path} holds a PEM private key; ${where}; keep the key in a Secrets Manager secret (SecretVersion.secretString, a Pulumi secret) and fetch it at boot with the instance role, as MailHost does for its DKIM keys`,
          urn: resource.urn,
        });
      }
    }
    return violations;
  },
};

export const DKIM_RULES = [dkimSelectorsPublished, dkimKeyStrength, dkimRecordSyntax, dkimPrivateKeySecret];
