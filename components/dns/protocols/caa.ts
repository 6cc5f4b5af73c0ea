/**
 * CAA (RFC 8659): which certificate authorities may issue for the domain,
 * which matters here because the MTA-STS policy host needs a certificate.
 */
import { CaaRecord } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { asciiMailtoFix, finding, httpsUrlHref, isAscii, isDomainName, isMailAddress, ownerName, parseHttpsUrl, recordTtl } from "./common";

/** Which certificate authorities a domain's CAA records allow, and where they report refused requests. */
export interface CaaIntent {
  /** CAs allowed to issue, e.g. ["amazon.com", "letsencrypt.org"]; [";"] forbids issuance. */
  issue: string[];
  /** CAs allowed to issue wildcard certificates; defaults to `issue`. */
  issuewild?: string[];
  /** Where CAs report refused requests: mailto: (ASCII addresses) or https: URIs (published as their URL href). */
  iodef?: string[];
}

/** RFC 8659 §4.2 issuer value: `[domain] *(";" tag=value)`; ";" alone forbids issuance. */
export function isCaaIssuerValue(value: string): boolean {
  const [domain, ...params] = value.split(";");
  const d = domain.trim();
  if (d === "" && params.length === 0) return false;
  if (d !== "" && !isDomainName(d)) return false;
  const nonEmpty = params.map((p) => p.trim()).filter((p) => p !== "");
  if (nonEmpty.length !== params.length && !(params.length === 1 && nonEmpty.length === 0)) return false;
  return nonEmpty.every((p) => /^[A-Za-z0-9]+[ \t]*=[ \t]*[\x21-\x3a\x3c-\x7e]*$/.test(p));
}

function isIodef(uri: string): boolean {
  if (/^mailto:/i.test(uri)) return isMailAddress(uri.slice(7));
  return parseHttpsUrl(uri) !== null;
}

/** The iodef value as published: https URLs as their href (non-ASCII percent-encoded), mailto: as given. */
function iodefValue(uri: string): string {
  const u = uri.trim();
  return /^https:/i.test(u) ? httpsUrlHref(u) : u;
}

/** Every finding for a CAA intent. */
export function caaIntentFindings(intent: CaaIntent): Finding[] {
  const findings: Finding[] = [];
  if (intent.issue.length === 0) {
    findings.push(finding("caa.issue.empty", "error", `CAA issue is empty; name at least one CA (e.g. "amazon.com", "letsencrypt.org"), or [";"] to forbid all issuance`, "issue"));
  }
  for (const tag of ["issue", "issuewild"] as const) {
    const seen = new Set<string>();
    (intent[tag] ?? []).forEach((value, i) => {
      if (!isCaaIssuerValue(value)) {
        findings.push(finding("caa.issuer.invalid", "error", `CAA ${tag}[${i}] "${value}" is not a CA domain (with optional "; key=value" parameters); write e.g. "letsencrypt.org"`, `${tag}[${i}]`));
      }
      const key = value.trim().toLowerCase();
      if (seen.has(key)) findings.push(finding("caa.value.duplicate", "error", `CAA ${tag}[${i}] "${value}" is listed twice; remove the repeat`, `${tag}[${i}]`));
      seen.add(key);
    });
  }
  const seen = new Set<string>();
  (intent.iodef ?? []).forEach((uri, i) => {
    if (/^mailto:/i.test(uri.trim()) && !isAscii(uri)) {
      findings.push(finding("caa.iodef.non-ascii", "error", `CAA iodef[${i}] "${uri}" contains non-ASCII characters, which a CAA record cannot carry; ${asciiMailtoFix(uri.trim())}`, `iodef[${i}]`));
    } else if (!isIodef(uri.trim())) {
      findings.push(finding("caa.iodef.invalid", "error", `CAA iodef[${i}] "${uri}" must be a mailto: or https: URI, e.g. "mailto:security@example.com"`, `iodef[${i}]`));
    }
    const value = iodefValue(uri);
    if (seen.has(value)) findings.push(finding("caa.value.duplicate", "error", `CAA iodef[${i}] "${uri}" is listed twice; remove the repeat`, `iodef[${i}]`));
    seen.add(value);
  });
  return findings;
}

/** One CAA record per value: issue, then issuewild, then iodef, in the order given. */
export function caaRecords(domain: string, intent: CaaIntent, ttl: number): CaaRecord[] {
  const name = ownerName(domain, "CAA records");
  throwOnErrors(caaIntentFindings(intent));
  const entries: [CaaRecord["tag"], string][] = [
    ...intent.issue.map((v): [CaaRecord["tag"], string] => ["issue", v.trim()]),
    ...(intent.issuewild ?? []).map((v): [CaaRecord["tag"], string] => ["issuewild", v.trim()]),
    ...(intent.iodef ?? []).map((v): [CaaRecord["tag"], string] => ["iodef", iodefValue(v)]),
  ];
  return entries.map(([tag, value]) => ({ name, type: "CAA", ttl: recordTtl(ttl), purpose: "caa", flags: 0, tag, value }));
}
