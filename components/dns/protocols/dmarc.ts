/**
 * DMARC in two modes: "rfc9989" (DMARCbis, RFC 9989/9990) and "rfc7489"
 * (the original, which older receivers still implement). Intent fields are
 * named after the tags, so a finding's path ("rua[0]", "pct") points at the
 * intent field and at the published tag alike.
 */
import { TxtRecord, canonicalName } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { Tag, asciiMailtoFix, finding, isAscii, isMailAddress, ownerName, parseTagList, txtRecord } from "./common";
// The Public Suffix List loads on first use (about 5 ms): `postforge diff` reads DMARC records but never asks for an organizational domain.
const tldts = () => require("tldts") as typeof import("tldts");

/** The DMARC dialect records are built and judged by: DMARCbis (RFC 9989) or the original RFC 7489. */
export type DmarcMode = "rfc9989" | "rfc7489";
/** What receivers do with mail that fails DMARC: nothing, treat it as suspicious, or refuse it. */
export type DmarcPolicy = "none" | "quarantine" | "reject";

/** What a domain's DMARC record says, one field per tag; the builder turns it into a `v=DMARC1` value. */
export interface DmarcIntent {
  /** Policy for the domain itself. */
  p: DmarcPolicy;
  /** Policy for subdomains; defaults to `p`. */
  sp?: DmarcPolicy;
  /**
   * Policy for non-existent subdomains; defaults to `sp`. An RFC 9091/RFC 9989
   * tag: under rfc7489 it is published with a warning, since only RFC 9989
   * receivers act on it.
   */
  np?: DmarcPolicy;
  /** DKIM alignment: relaxed (default) or strict. */
  adkim?: "r" | "s";
  /** SPF alignment: relaxed (default) or strict. */
  aspf?: "r" | "s";
  /** Aggregate report destinations, `mailto:` URIs. */
  rua?: string[];
  /** Failure report destinations, `mailto:` URIs. */
  ruf?: string[];
  /** Failure reporting options: "0", "1", "d", "s". */
  fo?: string[];
  /** Testing mode (rfc9989 only): receivers apply one level less than `p`. `false` is the default and is not published. */
  t?: boolean;
  /** Public-suffix-domain flag (rfc9989 only). */
  psd?: "y" | "n" | "u";
  /** Percentage of failing mail the policy applies to (rfc7489 only). */
  pct?: number;
}

const POLICIES = ["none", "quarantine", "reject"];

/** True when a TXT value is meant as a DMARC record (first tag `v=DMARC1`). */
export function isDmarcValue(value: string): boolean {
  return /^\s*v\s*=\s*DMARC1\s*(;|$)/.test(value);
}

/** The organizational domain by the Public Suffix List, private section included; the name itself if none. */
export function organizationalDomain(name: string): string {
  const canonical = canonicalName(name);
  // Private suffixes (e.g. github.io) count: a receiver that uses them needs
  // report authorization where one that does not would not, and an extra
  // authorization record is harmless while a missing one loses reports.
  return tldts().getDomain(canonical, { allowPrivateDomains: true }) ?? canonical;
}

/** Split a `mailto:` report URI into address and optional `!size`; null when it is not mailto. */
function parseMailtoUri(uri: string): { address: string; size?: string } | null {
  const m = /^mailto:([^!]*)(?:!(.*))?$/i.exec(uri);
  if (!m) return null;
  let address: string;
  try {
    address = decodeURIComponent(m[1]);
  } catch {
    address = m[1];
  }
  return m[2] === undefined ? { address } : { address, size: m[2] };
}

/** The host of a `mailto:` report URI (`mailto:dmarc@reports.example.com!10m` → `reports.example.com`), canonical; undefined for another scheme. */
export function mailtoReportHost(uri: string): string | undefined {
  const address = parseMailtoUri(uri.trim())?.address;
  return address?.includes("@") ? canonicalName(address.slice(address.lastIndexOf("@") + 1)) : undefined;
}

/** Rules for one rua/ruf URI. */
export function checkDmarcUri(uri: string, mode: DmarcMode, path: string): Finding[] {
  const parsed = parseMailtoUri(uri);
  if (!parsed) {
    return [
      finding("dmarc.uri.scheme", "error", `DMARC ${path} "${uri}" must be a mailto: URI, e.g. "mailto:dmarc-reports@example.com"`, path),
    ];
  }
  if (!isAscii(uri)) {
    return [finding("dmarc.uri.non-ascii", "error", `DMARC ${path} "${uri}" contains non-ASCII characters, which a DMARC record cannot carry; ${asciiMailtoFix(uri)}`, path)];
  }
  const findings: Finding[] = [];
  if (!isMailAddress(parsed.address)) {
    findings.push(
      finding("dmarc.uri.invalid", "error", `DMARC ${path} "${uri}" does not hold a valid mail address; write "mailto:local@host.example"`, path),
    );
  }
  if (parsed.size !== undefined) {
    if (!/^[0-9]+[kmgt]?$/i.test(parsed.size)) {
      findings.push(
        finding("dmarc.uri.size-invalid", "error", `DMARC ${path} "${uri}" has an invalid size limit "!${parsed.size}"; use digits with an optional k, m, g or t, e.g. "!10m"`, path),
      );
    } else if (mode === "rfc9989") {
      findings.push(
        finding("dmarc.uri.size-obsolete", "warning", `DMARC ${path} "${uri}": the "!${parsed.size}" size limit is obsolete in RFC 9989; remove it`, path),
      );
    }
  }
  return findings;
}

/** Options of `checkDmarc`. */
export interface CheckDmarcOptions {
  /**
   * How to treat tags RFC 9989 removed (`pct`, `rf`, `ri`) in rfc9989 mode.
   * Strict (the builders): an error, so we never publish a tag the mode does
   * not have. Lenient (the default, for `verify` and policy packs judging a
   * published value): a warning, because receivers ignore unknown and removed
   * tags and the rest of the record still works. The three tags are always
   * treated alike.
   */
  strict?: boolean;
}

function checkTag(tag: Tag, mode: DmarcMode, options: CheckDmarcOptions): Finding[] {
  const { key, value } = tag;
  const bad = (code: string, fix: string): Finding[] => [
    finding(code, "error", `DMARC tag "${tag.name}=${value}" is invalid; ${fix}`, key),
  ];
  // Only rfc9989 tags (t, psd) reach this: they are not part of RFC 7489.
  const wrongMode = (): Finding[] => [
    finding(
      `dmarc.${key}.unsupported`,
      "error",
      `DMARC tag "${tag.name}=${value}" is not part of RFC 7489 and its receivers ignore it; remove ${key}, or judge by RFC 9989 (postforge:dmarcMode: rfc9989 in the stack config, --dmarc-mode rfc9989 with verify --domain)`,
      key,
    ),
  ];
  const removed = (): Finding[] => [
    finding(
      "dmarc.tag.removed",
      options.strict ? "error" : "warning",
      `DMARC tag "${tag.name}=${value}" was removed in RFC 9989 and its receivers ignore it; remove it, or judge by RFC 7489 (postforge:dmarcMode: rfc7489 in the stack config, --dmarc-mode rfc7489 with verify --domain)`,
      key,
    ),
  ];
  switch (key) {
    case "p":
    case "sp":
      return POLICIES.includes(value.toLowerCase()) ? [] : bad("dmarc.policy.invalid", `${key} must be none, quarantine or reject`);
    case "np":
      if (!POLICIES.includes(value.toLowerCase())) return bad("dmarc.policy.invalid", `np must be none, quarantine or reject`);
      // Not an error: an RFC 7489 receiver ignores np and applies sp, which is what this mode promises anyway.
      return mode === "rfc7489"
        ? [
            finding(
              "dmarc.np.unsupported",
              "warning",
              `DMARC tag "${tag.name}=${value}" is not part of RFC 7489 (it comes from RFC 9091 and RFC 9989): RFC 7489 receivers ignore it, so it only takes effect with RFC 9989 receivers; keep it for those, or remove np, or judge by RFC 9989 (postforge:dmarcMode: rfc9989 in the stack config, --dmarc-mode rfc9989 with verify --domain)`,
              key,
            ),
          ]
        : [];
    case "adkim":
    case "aspf":
      return /^[rs]$/i.test(value) ? [] : bad("dmarc.alignment.invalid", `${key} must be "r" (relaxed) or "s" (strict)`);
    case "fo": {
      const options = value.split(":").map((o) => o.trim());
      if (!options.every((o) => /^[01ds]$/i.test(o))) return bad("dmarc.fo.invalid", `fo takes "0", "1", "d" or "s", separated by ":"`);
      if (mode === "rfc9989" && options.includes("0") && options.includes("1")) {
        return bad("dmarc.fo.conflict", `"0" and "1" are mutually exclusive in RFC 9989; keep one of them`);
      }
      return [];
    }
    case "pct":
      if (mode === "rfc9989") return removed();
      return /^[0-9]{1,3}$/.test(value) && Number(value) <= 100 ? [] : bad("dmarc.pct.invalid", "pct must be a whole number from 0 to 100");
    case "t":
      if (mode === "rfc7489") return wrongMode();
      if (!/^[yn]$/.test(value)) return bad("dmarc.t.invalid", `t must be "y" or "n"`);
      return value === "y"
        ? [finding("dmarc.t.testing", "info", `DMARC "t=y": receivers apply one level less than p while testing; remove t when done`, key)]
        : [];
    case "psd":
      if (mode === "rfc7489") return wrongMode();
      return /^[ynu]$/.test(value) ? [] : bad("dmarc.psd.invalid", `psd must be "y", "n" or "u"`);
    case "rf":
    case "ri":
      if (mode === "rfc9989") return removed();
      if (key === "ri") return /^[0-9]{1,10}$/.test(value) && Number(value) <= 4294967295 ? [] : bad("dmarc.ri.invalid", "ri is a number of seconds, e.g. 86400");
      return value.split(":").every((f) => f.trim().toLowerCase() === "afrf")
        ? []
        : [finding("dmarc.rf.unknown", "warning", `DMARC tag "rf=${value}": only "afrf" is defined; use rf=afrf or remove it`, key)];
    case "rua":
    case "ruf": {
      if (value === "") return bad("dmarc.uri.empty", `${key} needs at least one mailto: URI; write one or remove the tag`);
      return value.split(",").flatMap((uri, i) => checkDmarcUri(uri.trim(), mode, `${key}[${i}]`));
    }
    default:
      return [finding("dmarc.tag.unknown", "warning", `DMARC tag "${tag.name}" is not known in ${mode} and is ignored; remove it`, key)];
  }
}

/** One `name=value` pair of a DMARC record; `key` is the lower-cased name. */
export type DmarcTag = Tag;

/** Parse a DMARC value into its tags (syntax only; see checkDmarc for the rules). */
export function parseDmarc(value: string): { tags: DmarcTag[] } | { error: string } {
  return parseTagList(value);
}

/** Judge a DMARC value in the given mode; lenient about removed tags unless `strict` (see CheckDmarcOptions). */
export function checkDmarc(value: string, mode: DmarcMode, options: CheckDmarcOptions = {}): Finding[] {
  const parsed = parseDmarc(value);
  if ("error" in parsed) {
    return [finding("dmarc.syntax.invalid", "error", `DMARC record "${value}" is not a valid tag list: ${parsed.error}; write "v=DMARC1; p=..." with tags separated by ";"`)];
  }
  const { tags } = parsed;
  const findings: Finding[] = [];
  const first = tags[0];
  if (!first || first.key !== "v") {
    findings.push(finding("dmarc.version.missing", "error", `DMARC record "${value}" must start with "v=DMARC1"; put it first`, "v"));
  } else if (first.value !== "DMARC1") {
    findings.push(finding("dmarc.version.invalid", "error", `DMARC tag "v=${first.value}" is invalid; the version is exactly "DMARC1" (case-sensitive)`, "v"));
  }
  for (const tag of tags.slice(1)) {
    if (tag.key === "v") findings.push(finding("dmarc.version.position", "error", `DMARC tag "v" must come first, not later in the record; move it to the front`, "v"));
  }
  const pIndex = tags.findIndex((t) => t.key === "p");
  if (pIndex < 0) {
    findings.push(
      finding(
        "dmarc.p.missing",
        "error",
        mode === "rfc9989"
          ? `DMARC record "${value}" has no "p" tag; receivers treat it as p=none at best (only when rua is valid). Add p=none, p=quarantine or p=reject`
          : `DMARC record "${value}" has no "p" tag, so receivers ignore it; add p=none, p=quarantine or p=reject after v=DMARC1`,
        "p",
      ),
    );
  } else if (mode === "rfc7489" && pIndex !== 1) {
    findings.push(finding("dmarc.p.order", "error", `DMARC tag "p" must come right after "v=DMARC1" in RFC 7489; move p to second place`, "p"));
  }
  for (const tag of tags) {
    if (tag.key !== "v") findings.push(...checkTag(tag, mode, options));
  }
  const p = tags[pIndex]?.value.toLowerCase();
  if (p === "none") {
    findings.push(finding("dmarc.p.none", "info", `DMARC "p=none" only monitors; move to p=quarantine or p=reject once reports show legitimate mail aligned`, "p"));
  }
  if (!tags.some((t) => t.key === "rua")) {
    findings.push(finding("dmarc.rua.missing", "info", `DMARC record has no "rua", so no aggregate reports arrive; add rua=mailto:<address>`, "rua"));
  }
  // RFC 7489 §6.2: receivers MAY limit the URIs they honour, to as few as two; the rest are silently dropped.
  for (const tag of tags.filter((t) => t.key === "rua" || t.key === "ruf")) {
    const uris = tag.value.split(",").filter((u) => u.trim() !== "");
    if (uris.length > DMARC_URIS_HONOURED) {
      findings.push(
        finding(
          `dmarc.${tag.key}.too-many`,
          "warning",
          `DMARC "${tag.key}" lists ${uris.length} report URIs; receivers may honour only the first ${DMARC_URIS_HONOURED} (RFC 7489 §6.2), so later destinations may get nothing; keep at most ${DMARC_URIS_HONOURED}`,
          tag.key,
        ),
      );
    }
  }
  const length = Buffer.byteLength(value, "utf8");
  if (length > DMARC_SIZE_LIMIT_OCTETS) {
    findings.push(
      finding(
        "dmarc.size",
        "error",
        `DMARC record is ${length} octets; Postforge keeps a DMARC answer within ${DMARC_SIZE_LIMIT_OCTETS} octets so it fits one 512-octet UDP response (a receiver that cannot retry over TCP sees no policy; Postforge's rule, stricter than RFC 7489); list fewer report URIs`,
      ),
    );
  }
  return findings;
}

/** RFC 7489 §6.2: a receiver may honour as few as two report URIs per tag. */
export const DMARC_URIS_HONOURED = 2;
/** Postforge's limit on a DMARC record, like SPF's (SPF_SIZE_WARNING_OCTETS): room for the rest of a 512-octet UDP answer. */
export const DMARC_SIZE_LIMIT_OCTETS = 450;

/** A DMARC record anywhere but `_dmarc.<domain>` (or a report authorization name) has no effect. */
export function checkDmarcLocation(name: string, value: string): Finding[] {
  if (!isDmarcValue(value)) return [];
  const labels = canonicalName(name).split(".");
  if (labels[0] === "_dmarc") return [];
  const report = labels.indexOf("_report");
  if (report > 0 && labels[report + 1] === "_dmarc") return [];
  return [
    finding(
      "dmarc.location.invalid",
      "error",
      `DMARC record at "${name}" has no effect: receivers look it up only at "_dmarc.<domain>"; move it to "_dmarc.${canonicalName(name)}"`,
    ),
  ];
}

/** More than one DMARC record at a name means no DMARC is applied. */
export function checkDmarcRecordSet(values: string[]): Finding[] {
  const dmarc = values.filter(isDmarcValue);
  if (dmarc.length <= 1) return [];
  return [
    finding("dmarc.record.multiple", "error", `${dmarc.length} DMARC records are published at one name, so receivers apply none; keep exactly one`),
  ];
}

function renderDmarc(intent: DmarcIntent): string {
  const tags: [string, string | undefined][] = [
    ["v", "DMARC1"],
    ["p", intent.p],
    ["sp", intent.sp],
    ["np", intent.np],
    ["psd", intent.psd],
    // t=n is the default: publish t only when testing.
    ["t", intent.t ? "y" : undefined],
    ["adkim", intent.adkim],
    ["aspf", intent.aspf],
    ["pct", intent.pct === undefined ? undefined : String(intent.pct)],
    ["fo", intent.fo?.length ? intent.fo.join(":") : undefined],
    ["rua", intent.rua?.length ? intent.rua.map((u) => u.trim()).join(",") : undefined],
    ["ruf", intent.ruf?.length ? intent.ruf.map((u) => u.trim()).join(",") : undefined],
  ];
  return tags
    .filter((t): t is [string, string] => t[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join("; ");
}

/** Intent-level problems the rendered value cannot show (separators inside URIs). */
function uriListFindings(intent: DmarcIntent): Finding[] {
  const findings: Finding[] = [];
  for (const key of ["rua", "ruf"] as const) {
    (intent[key] ?? []).forEach((uri, i) => {
      if (/[,;\s]/.test(uri.trim())) {
        findings.push(
          finding("dmarc.uri.invalid", "error", `DMARC ${key}[${i}] "${uri}" contains a comma, semicolon or space; percent-encode it or give one address per entry`, `${key}[${i}]`),
        );
      }
    });
  }
  if (intent.fo !== undefined && intent.fo.length === 0) {
    findings.push(finding("dmarc.fo.empty", "error", `DMARC fo is an empty list; give at least one of "0", "1", "d", "s" or leave fo unset`, "fo"));
  }
  return findings;
}

/** Every finding for a DMARC intent in a mode; strict, so tags the mode removed are errors. */
export function dmarcIntentFindings(intent: DmarcIntent, mode: DmarcMode): Finding[] {
  const own = uriListFindings(intent);
  if (own.length > 0) return own;
  return checkDmarc(renderDmarc(intent), mode, { strict: true });
}

/** The canonical DMARC value: tags in the order v, p, sp, np, psd, t, adkim, aspf, pct, fo, rua, ruf. */
export function buildDmarcValue(intent: DmarcIntent, mode: DmarcMode): string {
  throwOnErrors(dmarcIntentFindings(intent, mode));
  return renderDmarc(intent);
}

/** The DMARC policy record at `_dmarc.<domain>`. */
export function dmarcRecord(domain: string, intent: DmarcIntent, mode: DmarcMode, ttl: number): TxtRecord {
  const name = ownerName(domain, "DMARC record");
  return txtRecord(`_dmarc.${name}`, buildDmarcValue(intent, mode), ttl, "dmarc");
}

/**
 * For each report address outside the domain's organizational domain, the
 * record its host must publish so receivers send reports there (RFC 7489
 * §7.1, RFC 9990). Only a domain we control can publish these; the caller
 * decides where they go.
 *
 * Invalid URIs are skipped silently: `dmarcRecord` reports them for the same
 * intent, and reporting them here too would show each one twice.
 */
export function reportAuthorizationRecords(domain: string, intent: DmarcIntent, ttl: number): TxtRecord[] {
  const name = ownerName(domain, "DMARC report authorization");
  const org = organizationalDomain(name);
  const names = new Set<string>();
  for (const raw of [...(intent.rua ?? []), ...(intent.ruf ?? [])]) {
    const uri = raw.trim();
    // rfc7489 rules here accept "!size"; the policy record's own mode is judged by dmarcRecord.
    if (/[,;\s]/.test(uri) || checkDmarcUri(uri, "rfc7489", "rua").some((f) => f.severity === "error")) continue;
    const host = mailtoReportHost(uri)!;
    if (organizationalDomain(host) !== org) names.add(`${name}._report._dmarc.${host}`);
  }
  return [...names].sort().map((n) => txtRecord(n, "v=DMARC1", ttl, "dmarc-report-auth"));
}
