/**
 * BIMI (draft-brand-indicators-for-message-identification): the logo record.
 * Receivers show the logo only for mail under DMARC enforcement, so the
 * builder refuses to publish BIMI for a DMARC policy that would disqualify it.
 */
import { TxtRecord } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { finding, httpsUrlHref, isAscii, isSelector, ownerName, parseHttpsUrl, parseTagList, txtRecord } from "./common";
import { DmarcIntent, DmarcMode } from "./dmarc";

/** What a domain's BIMI record says: the selector, the logo and its evidence document. */
export interface BimiIntent {
  /** Selector; defaults to "default". */
  selector?: string;
  /** HTTPS URL of the SVG Tiny PS logo; published as its URL href (non-ASCII percent-encoded). */
  logo: string;
  /** HTTPS URL of the VMC/CMC evidence document (PEM); published as its URL href. */
  evidence?: string;
}

/** A published l=/a= must be ASCII; the fix is the URL's percent-encoded href. */
function nonAsciiFindings(uri: string, tag: "l" | "a"): Finding[] {
  if (isAscii(uri)) return [];
  const url = parseHttpsUrl(uri);
  const fix = url ? `publish the percent-encoded URL "${url.href}"` : `percent-encode it and write the host in its xn-- form`;
  return [finding(`bimi.${tag}.non-ascii`, "error", `BIMI ${tag}= "${uri}" contains non-ASCII characters, which a BIMI record cannot carry; ${fix}`, tag)];
}

function logoFindings(uri: string, path: string, tag: string): Finding[] {
  const url = parseHttpsUrl(uri);
  if (url && /\.svg$/i.test(url.pathname)) return [];
  return [finding("bimi.l.invalid", "error", `BIMI ${tag} "${uri}" must be one https URL of an SVG logo (ending in .svg), e.g. "https://example.com/bimi/logo.svg"`, path)];
}

function evidenceFindings(uri: string, path: string, tag: string): Finding[] {
  return parseHttpsUrl(uri)
    ? []
    : [finding("bimi.a.invalid", "error", `BIMI ${tag} "${uri}" must be one https URL of the VMC/CMC certificate, e.g. "https://example.com/bimi/vmc.pem"`, path)];
}

/**
 * BIMI needs DMARC enforcement: not p=none, not sp=none, and no policy
 * weakened to none for part of the mail (rfc7489 pct≠100 on quarantine;
 * rfc9989 t=y, which drops quarantine to none).
 */
export function checkBimiDmarcEligibility(intent: DmarcIntent, mode: DmarcMode): Finding[] {
  const findings: Finding[] = [];
  if (intent.p === "none") {
    findings.push(finding("bimi.dmarc.not-enforced", "error", `BIMI needs DMARC enforcement, but DMARC p is "none"; set dmarc p to "quarantine" or "reject" before publishing BIMI`));
  }
  if (intent.sp === "none") {
    findings.push(finding("bimi.dmarc.sp-none", "error", `BIMI needs DMARC enforcement, but DMARC sp is "none"; set dmarc sp to "quarantine" or "reject", or remove sp`));
  }
  const quarantined = intent.p === "quarantine" || intent.sp === "quarantine";
  if (mode === "rfc7489" && quarantined && intent.pct !== undefined && intent.pct !== 100) {
    findings.push(finding("bimi.dmarc.pct", "error", `BIMI needs DMARC quarantine to apply to all mail, but DMARC pct is ${intent.pct}; set pct to 100 (or remove it) or use p=reject`));
  }
  if (mode === "rfc9989" && quarantined && intent.t === true) {
    findings.push(finding("bimi.dmarc.testing", "error", `BIMI needs DMARC enforcement, but DMARC t=y turns quarantine into none; remove t (or set t: false) or use p=reject`));
  }
  return findings;
}

/** Judge a published BIMI value. */
export function checkBimi(value: string): Finding[] {
  const parsed = parseTagList(value);
  if ("error" in parsed) {
    return [finding("bimi.syntax.invalid", "error", `BIMI record is not a valid tag list: ${parsed.error}; write "v=BIMI1; l=<https logo>; a=<https evidence>"`)];
  }
  const tags = parsed.tags;
  if (tags[0]?.key !== "v" || tags[0].value !== "BIMI1") {
    return [finding("bimi.version", "error", `BIMI record "${value}" must start with "v=BIMI1"; put it first`, "v")];
  }
  const get = (key: string) => tags.find((t) => t.key === key)?.value;
  const l = get("l");
  const a = get("a");
  if ((l === undefined || l === "") && (a === undefined || a === "")) {
    return [finding("bimi.declined", "info", `BIMI record declines to show a logo (no l= or a=)`)];
  }
  const findings: Finding[] = [];
  if (l === undefined || l === "") {
    findings.push(finding("bimi.l.missing", "error", `BIMI record has evidence (a=) but no logo (l=); add l=<https URL of the SVG logo>`, "l"));
  } else {
    const nonAscii = nonAsciiFindings(l, "l");
    findings.push(...(nonAscii.length > 0 ? nonAscii : logoFindings(l, "l", `l=`)));
  }
  if (a === undefined || a === "") {
    findings.push(finding("bimi.a.missing", "info", `BIMI record has no evidence (a=); Gmail and Apple Mail show logos only with a VMC or CMC`, "a"));
  } else {
    const nonAscii = nonAsciiFindings(a, "a");
    findings.push(...(nonAscii.length > 0 ? nonAscii : evidenceFindings(a, "a", `a=`)));
  }
  const avp = get("avp");
  if (avp !== undefined && avp !== "brand" && avp !== "personal") {
    findings.push(finding("bimi.avp.invalid", "warning", `BIMI tag "avp=${avp}" is unknown; use avp=brand or avp=personal`, "avp"));
  }
  return findings;
}

/** URLs go out as their WHATWG href, so a non-ASCII path is percent-encoded and an IDN host is in xn-- form. */
function renderBimi(intent: BimiIntent): string {
  const l = httpsUrlHref(intent.logo.trim());
  return `v=BIMI1; l=${l}${intent.evidence ? `; a=${httpsUrlHref(intent.evidence.trim())}` : ""}`;
}

/** Every finding for a BIMI intent under the domain's DMARC intent. */
export function bimiIntentFindings(intent: BimiIntent, dmarc: { intent: DmarcIntent; mode: DmarcMode }): Finding[] {
  const own: Finding[] = [];
  const selector = intent.selector ?? "default";
  if (!isSelector(selector)) {
    own.push(finding("bimi.selector.invalid", "error", `BIMI selector "${selector}" is invalid; use letters, digits and hyphens in dot-separated labels, e.g. "default"`, "selector"));
  }
  own.push(...logoFindings(intent.logo.trim(), "logo", "logo"));
  if (intent.evidence !== undefined) own.push(...evidenceFindings(intent.evidence.trim(), "evidence", "evidence"));
  own.push(...checkBimiDmarcEligibility(dmarc.intent, dmarc.mode));
  if (own.some((f) => f.severity === "error")) return own;
  // Tag paths map onto intent fields.
  const intentPath: Record<string, string> = { l: "logo", a: "evidence" };
  return [...own, ...checkBimi(renderBimi(intent)).map((f) => (f.path && intentPath[f.path] ? { ...f, path: intentPath[f.path] } : f))];
}

/** The `<selector>._bimi.<domain>` record. */
export function bimiRecord(domain: string, intent: BimiIntent, dmarc: { intent: DmarcIntent; mode: DmarcMode }, ttl: number): TxtRecord {
  const name = ownerName(domain, "BIMI record");
  throwOnErrors(bimiIntentFindings(intent, dmarc));
  return txtRecord(`${(intent.selector ?? "default").toLowerCase()}._bimi.${name}`, renderBimi(intent), ttl, "bimi");
}
