/**
 * Small shared pieces for the protocol modules: host-name and URI syntax, the
 * `tag=value; ...` lists that DKIM, DMARC, MTA-STS, TLS-RPT and BIMI share,
 * and a terse way to build findings. Nothing here knows about one protocol.
 */
import { domainToASCII } from "node:url";
import { TxtRecord, canonicalName } from "../model";
import { splitTxtValue } from "../txt";
import { Finding, RecordBuildError, Severity } from "../findings";

export function finding(code: string, severity: Severity, message: string, path?: string): Finding {
  return path === undefined ? { code, severity, message } : { code, severity, message, path };
}

/** Prefix every finding's path (or set it) so it is relative to the caller's intent. */
export function withPath(findings: Finding[], prefix: string): Finding[] {
  return findings.map((f) => ({ ...f, path: f.path ? `${prefix}.${f.path}` : prefix }));
}

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Service labels such as `_spf` or `_dmarc` are legal in DNS, just not in host names. */
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
/** The last label: LDH with at least one letter (RFC 1123 §2.1, RFC 3696 §2). */
const TOP_LABEL = /^(?=.*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** A last label that URL parsers and inet_aton read as a number (WHATWG URL "ends in a number"). */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/i;

/** Options of `isDomainName`: which names a caller accepts beyond plain host names. */
export interface DomainNameOptions {
  /** Allow `_` in labels other than the last (for SPF include targets like `_spf.google.com`). */
  allowUnderscore?: boolean;
  /** Minimum number of labels; 2 unless said otherwise (a bare TLD is never a mail host). */
  minLabels?: number;
}

/**
 * The one domain-name check for the protocol modules (export it; do not copy
 * the regexes). A name is accepted when:
 * - it is at most 253 octets without the (tolerated) trailing dot, with at
 *   least `minLabels` labels (2 by default: a bare TLD is never a mail host);
 * - every label is 1-63 LDH characters (letters, digits, hyphens; no leading
 *   or trailing hyphen), RFC 1123 §2.1; with `allowUnderscore`, labels other
 *   than the last may also hold `_` (service labels such as `_spf`);
 * - the last label (the TLD) holds at least one letter and is not a `0x` hex
 *   number. No TLD is numeric (RFC 3696 §2), and a name ending in a number is
 *   what resolvers, inet_aton and WHATWG URL parsers take for an IPv4
 *   address: "203.0.113.5", "mail.example.123" and "1.2.3.0x4" are refused.
 * ASCII only: internationalized names must be given in their `xn--` form.
 */
export function isDomainName(name: string, options: DomainNameOptions = {}): boolean {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  const labels = n.split(".");
  if (labels.length < (options.minLabels ?? 2)) return false;
  const inner = options.allowUnderscore ? DNS_LABEL : LDH_LABEL;
  const last = labels.length - 1;
  return labels.every((label, i) => (i === last ? TOP_LABEL.test(label) && !NUMERIC_LABEL.test(label) : inner.test(label)));
}

/** RFC 6376 §3.1 selector: `sub-domain *("." sub-domain)`, LDH labels, no underscore. */
export function isSelector(selector: string): boolean {
  if (selector.length === 0 || selector.length > 253) return false;
  return selector.split(".").every((label) => LDH_LABEL.test(label));
}

/** Throw a RecordBuildError when `name` is not a host name we can publish records under. */
export function ownerName(name: string, what: string): string {
  const canonical = canonicalName(name);
  if (!isDomainName(canonical, { allowUnderscore: true })) {
    throw new RecordBuildError([
      finding(
        "dns.name.invalid",
        "error",
        `${what}: "${name}" is not a valid domain name; use a fully qualified name of letter-digit-hyphen labels such as "example.com"`,
      ),
    ]);
  }
  return canonical;
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** A plain addr-spec `local@host` (dot-atom local part, LDH host). */
export function isMailAddress(address: string): boolean {
  const at = address.lastIndexOf("@");
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const host = address.slice(at + 1);
  return local.length <= 64 && LOCAL_PART.test(local) && isDomainName(host);
}

/** An https: URL with a host name (no userinfo), or null when it is not one. */
export function parseHttpsUrl(uri: string): URL | null {
  if (!/^https:\/\//i.test(uri) || /[\s,;]/.test(uri)) return null;
  try {
    const url = new URL(uri);
    if (url.protocol !== "https:" || url.username || url.password) return null;
    if (!isDomainName(url.hostname)) return null;
    return url;
  } catch {
    return null;
  }
}

/** True when every character is ASCII. Receivers read TXT values as ASCII octets. */
export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * How builders publish an https URL: its WHATWG `href`, which percent-encodes
 * non-ASCII paths and queries and writes an internationalized host in its
 * `xn--` form, so the value is ASCII. The input is returned unchanged when it
 * is not a valid https URL (the caller's rules report that).
 */
export function httpsUrlHref(uri: string): string {
  return parseHttpsUrl(uri)?.href ?? uri;
}

/**
 * The fix for a `mailto:` URI with non-ASCII characters: its ASCII form when
 * only the host is internationalized, else a plain request for an ASCII
 * mailbox (SMTPUTF8 local parts cannot be written in these records).
 */
export function asciiMailtoFix(uri: string): string {
  const m = /^mailto:(.*)@([^@!]*)(!.*)?$/i.exec(uri);
  if (m && isAscii(m[1])) {
    const host = domainToASCII(m[2]);
    if (isDomainName(host)) {
      return `write the host in its xn-- form: "mailto:${m[1]}@${host}${m[3] ?? ""}"`;
    }
  }
  return `use an ASCII mailbox, e.g. "mailto:reports@example.com" (internationalized hosts in their xn-- form)`;
}

export interface Tag {
  /** Tag name as written. */
  name: string;
  /** Lower-cased tag name, for lookups. */
  key: string;
  /** Value with surrounding whitespace removed. */
  value: string;
}

/**
 * Parse a `tag=value; tag=value` list (RFC 6376 §3.2 shape, which DMARC,
 * MTA-STS, TLS-RPT and BIMI share). A trailing `;` is allowed; an empty
 * element in the middle, a missing `=` or a duplicate tag is an error.
 */
export function parseTagList(value: string): { tags: Tag[] } | { error: string } {
  const parts = value.split(";");
  if (parts.length > 1 && parts[parts.length - 1].trim() === "") parts.pop();
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      return { error: part.trim() === "" ? `empty element at position ${i + 1}` : `"${part.trim()}" has no "="` };
    }
    const name = part.slice(0, eq).trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) return { error: `"${name}" is not a valid tag name` };
    const key = name.toLowerCase();
    if (seen.has(key)) return { error: `tag "${name}" appears more than once` };
    seen.add(key);
    tags.push({ name, key, value: part.slice(eq + 1).trim() });
  }
  return { tags };
}

/** TTLs are whole seconds within the 31-bit range RFC 2181 §8 allows. */
export function recordTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647) {
    throw new RecordBuildError([
      finding("dns.ttl.invalid", "error", `TTL ${ttl} is not valid; use a whole number of seconds from 0 to 2147483647, e.g. 3600`, "ttl"),
    ]);
  }
  return ttl;
}

/**
 * A TXT record with its value split into ≤255-octet character-strings. Every
 * value a builder produces must be ASCII (receivers parse these records as
 * ASCII, and non-ASCII octets are encoded differently by each DNS provider);
 * the protocol rules refuse non-ASCII input with a specific fix first, so this
 * is the backstop.
 */
export function txtRecord(name: string, value: string, ttl: number, purpose: TxtRecord["purpose"]): TxtRecord {
  if (!isAscii(value)) {
    throw new RecordBuildError([
      finding(
        "dns.txt.non-ascii",
        "error",
        `TXT value for "${name}" contains non-ASCII characters ("${value}"); percent-encode URLs, write internationalized hosts in their xn-- form and use ASCII mail addresses`,
      ),
    ]);
  }
  return { name, type: "TXT", ttl: recordTtl(ttl), purpose, strings: splitTxtValue(value) };
}
