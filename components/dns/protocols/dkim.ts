/**
 * DKIM key records (RFC 6376 §3.6, RFC 8301 key sizes, RFC 8463 Ed25519).
 * We only publish public keys; where the private keys live is not our
 * concern here. Key material is parsed with node:crypto so a malformed key is
 * refused before it reaches DNS.
 */
import { KeyObject, createPublicKey } from "node:crypto";
import { TxtRecord } from "../model";
import { Finding, RecordBuildError, throwOnErrors } from "../findings";
import { finding, isSelector, ownerName, parseTagList, txtRecord } from "./common";

/** A DKIM key type, the record's `k=` tag: RSA (RFC 8301) or Ed25519 (RFC 8463). */
export type DkimAlgorithm = "rsa" | "ed25519";

/** One DKIM public key to publish: its selector, algorithm and key material. */
export interface DkimPublicKey {
  /** Selector, e.g. "s2026a": the record lives at `<selector>._domainkey.<domain>`. */
  selector: string;
  /** The key type, published as `k=`. */
  algorithm: DkimAlgorithm;
  /** PEM SPKI, base64 SPKI DER (rsa), or base64 of the raw 32-byte key (ed25519). */
  publicKey: string;
  /** Publish `t=y`: receivers must not treat failures differently from unsigned mail. */
  testing?: boolean;
  /** Publish an exactly-1024-bit RSA key for legacy receivers, which Postforge's rule refuses otherwise. Default false. */
  allowLegacy1024RsaForOldReceivers?: boolean;
}

/** Options of the DKIM builders and `checkDkim`: which key sizes to accept. */
export interface DkimKeyOptions {
  /** Accept exactly-1024-bit RSA keys (with a warning) for receivers or signers stuck on them. */
  allowLegacy1024?: boolean;
  /**
   * Judge by Postforge's rule for keys it publishes (RSA of 2048 bits or more;
   * 1024 only with allowLegacy1024), not by RFC 8301 alone (2048 a SHOULD: a
   * warning). The builders set it; `verify` judges other people's keys without.
   */
  postforgeRule?: boolean;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function keyError(message: string): RecordBuildError {
  return new RecordBuildError([finding("dkim.key.invalid", "error", message, "publicKey")]);
}

function readKey(key: DkimPublicKey): KeyObject | Buffer {
  const text = key.publicKey.trim();
  if (text.startsWith("-----BEGIN")) {
    try {
      return createPublicKey({ key: text, format: "pem" });
    } catch (e) {
      throw keyError(`DKIM key "${key.selector}": publicKey is not a readable PEM public key (${(e as Error).message}); paste the "-----BEGIN PUBLIC KEY-----" block`);
    }
  }
  const compact = text.replace(/\s+/g, "");
  if (!STRICT_BASE64.test(compact) || compact === "") {
    throw keyError(`DKIM key "${key.selector}": publicKey is neither PEM nor base64; give a PEM SPKI block or its base64 body`);
  }
  const der = Buffer.from(compact, "base64");
  if (key.algorithm === "ed25519" && der.length === 32) return der;
  try {
    return createPublicKey({ key: der, format: "der", type: "spki" });
  } catch (e) {
    throw keyError(`DKIM key "${key.selector}": publicKey base64 is not an SPKI public key (${(e as Error).message}); give a PEM SPKI block${key.algorithm === "ed25519" ? " or the raw 32-byte key in base64" : ""}`);
  }
}

/** The `p=` value: base64 SPKI DER for rsa, base64 of the raw 32-byte key for ed25519 (RFC 8463 §4.2). */
export function dkimPublicKeyBase64(key: DkimPublicKey): string {
  const read = readKey(key);
  if (Buffer.isBuffer(read)) return read.toString("base64");
  const type = read.asymmetricKeyType;
  if (type !== key.algorithm) {
    throw keyError(`DKIM key "${key.selector}": algorithm is "${key.algorithm}" but publicKey is a ${type} key; set algorithm: "${type}" or use the matching key`);
  }
  if (type === "rsa") {
    // Already base64 SPKI DER (parsed above, so valid): keep it rather than re-export.
    const compact = key.publicKey.trim().startsWith("-----BEGIN")
      ? (read.export({ format: "der", type: "spki" }) as Buffer).toString("base64")
      : key.publicKey.trim().replace(/\s+/g, "");
    rememberModulusBits(compact, read);
    return compact;
  }
  const jwk = read.export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url").toString("base64");
}

/** Modulus length of an RSA key given as base64 SPKI DER. Throws when it is not one. */
export function rsaModulusBits(base64SpkiDer: string): number {
  const compact = base64SpkiDer.replace(/\s+/g, "");
  const known = modulusBitsByKey.get(compact);
  if (known !== undefined) return known;
  const key = createPublicKey({ key: Buffer.from(compact, "base64"), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "rsa") throw new Error(`expected an RSA key, got ${key.asymmetricKeyType}`);
  return rememberModulusBits(compact, key);
}

/**
 * Building a key record reads the key, then checkDkim reads it again to judge
 * its size: remember the size of keys already read (bounded) so a large stack
 * parses each key once.
 */
const modulusBitsByKey = new Map<string, number>();
function rememberModulusBits(compactBase64: string, key: KeyObject): number {
  const bits = key.asymmetricKeyDetails!.modulusLength!;
  if (modulusBitsByKey.size >= 10_000) modulusBitsByKey.clear();
  modulusBitsByKey.set(compactBase64, bits);
  return bits;
}

function selectorFindings(selector: string): Finding[] {
  if (isSelector(selector)) return [];
  return [
    finding(
      "dkim.selector.invalid",
      "error",
      `DKIM selector "${selector}" is invalid: use letters, digits and hyphens in dot-separated labels, no underscore (RFC 6376 §3.1), e.g. "s2026a"`,
      "selector",
    ),
  ];
}

function renderDkim(algorithm: DkimAlgorithm, p: string, testing: boolean | undefined): string {
  return `v=DKIM1; k=${algorithm}; ${testing ? "t=y; " : ""}p=${p}`;
}

/**
 * Build a key's TXT value and judge it in one pass: the key is read once and
 * the rendered value goes through the same checkDkim rules `verify` applies.
 */
function buildDkimValue(key: DkimPublicKey, options: DkimKeyOptions): { value?: string; findings: Finding[] } {
  const selector = selectorFindings(key.selector);
  if (key.algorithm !== "rsa" && key.algorithm !== "ed25519") {
    selector.push(finding("dkim.k.unknown", "error", `DKIM algorithm "${String(key.algorithm)}" is not supported; use "rsa" or "ed25519"`, "algorithm"));
  }
  if (selector.length > 0) return { findings: selector };
  let p: string;
  try {
    p = dkimPublicKeyBase64(key);
  } catch (e) {
    if (e instanceof RecordBuildError) return { findings: e.findings };
    throw e;
  }
  const value = renderDkim(key.algorithm, p, key.testing);
  // Tag names in the value map onto intent fields.
  const intentPath: Record<string, string> = { p: "publicKey", k: "algorithm", t: "testing" };
  const judged = { ...options, postforgeRule: options.postforgeRule ?? true, allowLegacy1024: options.allowLegacy1024 ?? key.allowLegacy1024RsaForOldReceivers ?? false };
  const findings = checkDkim(value, judged).map((f) => (f.path && intentPath[f.path] ? { ...f, path: intentPath[f.path] } : f));
  return { value, findings };
}

/** Every finding for a DKIM key: selector, then the rules on the value it builds. */
export function dkimIntentFindings(key: DkimPublicKey, options: DkimKeyOptions = {}): Finding[] {
  return buildDkimValue(key, options).findings;
}

/** `v=DKIM1; k=<alg>; [t=y; ]p=<key>`. Throws RecordBuildError on a bad selector, key or size. */
export function dkimTxtValue(key: DkimPublicKey, options: DkimKeyOptions = {}): string {
  const { value, findings } = buildDkimValue(key, options);
  throwOnErrors(findings);
  return value!;
}

/** The key record at `<selector>._domainkey.<domain>`. */
export function dkimRecord(domain: string, key: DkimPublicKey, ttl: number, options: DkimKeyOptions = {}): TxtRecord {
  const value = dkimTxtValue(key, options);
  return txtRecord(`${key.selector.toLowerCase()}._domainkey.${ownerName(domain, "DKIM record")}`, value, ttl, "dkim");
}

/** A revoked key: an empty `p=` tells receivers signatures with this selector are invalid (RFC 6376 §3.6.1). */
export function revokedDkimRecord(domain: string, selector: string, algorithm: DkimAlgorithm, ttl: number): TxtRecord {
  throwOnErrors(selectorFindings(selector));
  return txtRecord(`${selector.toLowerCase()}._domainkey.${ownerName(domain, "DKIM record")}`, `v=DKIM1; k=${algorithm}; p=`, ttl, "dkim");
}

/** Judge a published DKIM key record. */
export function checkDkim(value: string, options: DkimKeyOptions = {}): Finding[] {
  const parsed = parseTagList(value);
  if ("error" in parsed) {
    return [finding("dkim.syntax.invalid", "error", `DKIM record is not a valid tag list: ${parsed.error}; write "v=DKIM1; k=rsa; p=<base64 key>"`)];
  }
  const tags = new Map(parsed.tags.map((t) => [t.key, t.value]));
  const findings: Finding[] = [];
  const vIndex = parsed.tags.findIndex((t) => t.key === "v");
  if (vIndex > 0) findings.push(finding("dkim.version.position", "error", `DKIM tag "v" must be the first tag when present (RFC 6376 §3.6.1); move v=DKIM1 to the front`, "v"));
  if (vIndex >= 0 && tags.get("v") !== "DKIM1") {
    findings.push(finding("dkim.version.invalid", "error", `DKIM tag "v=${tags.get("v")}" is invalid; it must be exactly "DKIM1"`, "v"));
  }
  const k = (tags.get("k") ?? "rsa").toLowerCase();
  if (k !== "rsa" && k !== "ed25519") {
    findings.push(finding("dkim.k.unknown", "error", `DKIM tag "k=${tags.get("k")}" is not a key type receivers know; use k=rsa or k=ed25519`, "k"));
  }
  const h = tags.get("h");
  if (h !== undefined) {
    const hashes = h.split(":").map((x) => x.trim().toLowerCase());
    if (!hashes.includes("sha256")) {
      findings.push(
        finding("dkim.h.sha1-only", "error", `DKIM tag "h=${h}" does not allow sha256; rsa-sha1 MUST NOT be used (RFC 8301 §3.1). Remove h or set h=sha256`, "h"),
      );
    }
  }
  const s = tags.get("s");
  if (s !== undefined && !s.split(":").every((x) => ["*", "email"].includes(x.trim()))) {
    findings.push(finding("dkim.s.unknown", "warning", `DKIM tag "s=${s}" names an unknown service type; use s=email or remove s`, "s"));
  }
  if ((tags.get("t") ?? "").split(":").some((x) => x.trim() === "y")) {
    findings.push(finding("dkim.testing", "info", `DKIM key is in testing mode ("t=y"); remove t=y once signing is verified`, "t"));
  }
  const rawP = tags.get("p");
  if (rawP === undefined) {
    findings.push(finding("dkim.p.missing", "error", `DKIM record has no "p" tag (it is required); add p=<base64 public key>, or "p=" to revoke`, "p"));
    return findings;
  }
  const p = rawP.replace(/\s+/g, "");
  if (p === "") {
    findings.push(finding("dkim.key.revoked", "info", `DKIM key is revoked ("p=" is empty): signatures with this selector fail`, "p"));
    return findings;
  }
  if (!STRICT_BASE64.test(p)) {
    findings.push(finding("dkim.p.invalid-base64", "error", `DKIM tag "p" is not valid base64; publish the key exactly as generated`, "p"));
    return findings;
  }
  const der = Buffer.from(p, "base64");
  if (k === "ed25519") {
    if (der.length !== 32) {
      findings.push(
        finding(
          "dkim.ed25519.length",
          "error",
          `DKIM ed25519 key is ${der.length} bytes; p= must be the raw 32-byte key in base64 (RFC 8463 §4.2), not SPKI or another encoding`,
          "p",
        ),
      );
    }
    return findings;
  }
  if (k !== "rsa") return findings;
  let bits: number;
  try {
    bits = rsaModulusBits(p);
  } catch {
    findings.push(finding("dkim.p.invalid-key", "error", `DKIM tag "p" does not hold an RSA public key (SPKI DER); publish the key exactly as generated`, "p"));
    return findings;
  }
  if (bits < 1024) {
    findings.push(finding("dkim.rsa.too-short", "error", `DKIM RSA key is ${bits} bits; receivers MUST NOT accept keys under 1024 bits (RFC 8301 §3.2). Generate a 2048-bit key`, "p"));
  } else if (bits < 2048) {
    if (bits === 1024 && options.allowLegacy1024) {
      findings.push(finding("dkim.rsa.legacy-1024", "warning", `DKIM RSA key is 1024 bits; RFC 8301 says signers SHOULD use at least 2048. Rotate to a 2048-bit key`, "p"));
    } else if (options.postforgeRule) {
      findings.push(
        finding(
          "dkim.rsa.below-2048",
          "error",
          `DKIM RSA key is ${bits} bits; Postforge publishes RSA keys of at least 2048 bits (its rule: RFC 8301 §3.2 makes 2048 a SHOULD)${bits === 1024 ? "; replace it, or set allowLegacy1024RsaForOldReceivers: true on this key to publish a 1024-bit key for legacy receivers" : "; replace it with a 2048-bit key"}`,
          "p",
        ),
      );
    } else {
      findings.push(
        finding("dkim.rsa.below-2048", "warning", `DKIM RSA key is ${bits} bits; RFC 8301 §3.2 says signers SHOULD use at least 2048 (verifiers still accept 1024 and up). Rotate to a 2048-bit key`, "p"),
      );
    }
  } else if (bits > 4096) {
    findings.push(finding("dkim.rsa.over-4096", "warning", `DKIM RSA key is ${bits} bits; receivers need only handle up to 4096 (RFC 8301 §3.2). Use 2048 or 4096 bits`, "p"));
  }
  return findings;
}
