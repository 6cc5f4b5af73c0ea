/**
 * SPF (RFC 7208): the builder that turns a list of senders into one canonical
 * `v=spf1` value, the parser, and the rules that judge a published value.
 * The builder validates its intent with the same rules `verify` uses, so a
 * value we build is one we would accept.
 */
import { familiesCoveredWhole } from "../../address-ranges";
import { isIPv4, isIPv6 } from "node:net";
import { TxtRecord, canonicalName } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { octets } from "../txt";
import { finding, isDomainName, ownerName, txtRecord } from "./common";

/** A third-party sender's SPF include. */
export interface SpfInclude {
  /** The include target, e.g. "amazonses.com". */
  domain: string;
  /**
   * DNS-lookup terms the include costs in the worst case, counting the
   * include term itself (a flat include costs 1). Defaults to the
   * KNOWN_SPF_INCLUDES figure; required for includes not in that catalogue.
   */
  lookups?: number;
}

/**
 * Worst-case lookup cost of common senders' SPF includes, the include term
 * itself counted. A dated snapshot: providers change their records without
 * notice, so declare `lookups` on the include to override a figure.
 */
export const KNOWN_SPF_INCLUDES: Readonly<Record<string, { lookups: number; note: string }>> = Object.freeze({
  "amazonses.com": { lookups: 1, note: "Amazon SES; flat ip4 list. Snapshot Nov 2026; override with lookups." },
  "_spf.google.com": {
    lookups: 4,
    note: "Google Workspace; includes _netblocks, _netblocks2, _netblocks3.google.com. Snapshot Nov 2026; override with lookups.",
  },
  "spf.protection.outlook.com": {
    lookups: 2,
    note: "Microsoft 365; includes spfd.protection.outlook.com. Snapshot Nov 2026; override with lookups.",
  },
  "sendgrid.net": { lookups: 1, note: "SendGrid; flat ip4 list. Snapshot Nov 2026; override with lookups." },
  "mailgun.org": {
    lookups: 5,
    note: "Mailgun; includes _spf.mailgun.org (which includes _spf1 and _spf2) and _spf.eu.mailgun.org. Snapshot Nov 2026; override with lookups.",
  },
  "spf.mandrillapp.com": { lookups: 1, note: "Mandrill (Mailchimp Transactional); flat ip4 list. Snapshot Nov 2026; override with lookups." },
  "servers.mcsv.net": { lookups: 1, note: "Mailchimp; flat ip4 list. Snapshot Nov 2026; override with lookups." },
  "_spf.salesforce.com": {
    lookups: 2,
    note: "Salesforce; one exists:%{i}._spf.mta.salesforce.com term. Snapshot Nov 2026; override with lookups.",
  },
  "spf.sparkpostmail.com": {
    lookups: 2,
    note: "SparkPost; not confirmed, conservative figure (believed flat, i.e. 1). Snapshot Nov 2026; override with lookups.",
  },
  "mail.zendesk.com": {
    lookups: 3,
    note: "Zendesk; not confirmed, conservative figure (nested includes). Snapshot Nov 2026; override with lookups.",
  },
});

/** What a domain authorizes to send mail for it. */
export interface SpfIntent {
  /** IPv4 addresses or CIDR networks, e.g. "192.0.2.0/24". */
  ip4?: string[];
  /** IPv6 addresses or CIDR networks, e.g. "2001:db8::/32". */
  ip6?: string[];
  /** Hosts whose A/AAAA addresses may send (one lookup each). */
  a?: string[];
  /** Whether the domain's own MX hosts may send (one lookup). */
  mx?: boolean;
  /** Third-party senders' includes. */
  includes?: SpfInclude[];
  /** Result for everything else: fail (`-all`) or softfail (`~all`). */
  all: "-all" | "~all";
}

/** The most DNS-querying terms an SPF evaluation may use (RFC 7208 §4.6.4). */
export const SPF_LOOKUP_LIMIT = 10;
/** Above this an SPF answer risks not fitting a 512-octet UDP response (RFC 7208 §3.4). */
export const SPF_SIZE_WARNING_OCTETS = 450;
/**
 * Tool policy, not RFC text: an authorized IPv4 network wider than /16 or an
 * IPv6 network wider than /32 gets a warning (every host in it passes SPF);
 * a /0 network authorizes the whole internet, like "+all", and is an error.
 */
export const SPF_WIDE_IP4_PREFIX = 16;
/** The IPv6 counterpart of SPF_WIDE_IP4_PREFIX: a network wider than /32 gets a warning. */
export const SPF_WIDE_IP6_PREFIX = 32;

/**
 * Breadth of one authorized network. `subject` names it as the caller shows it
 * (an intent field or a published term); `prefix` undefined means a single
 * address (/32 or /128).
 */
function networkBreadthFindings(subject: string, family: "ip4" | "ip6", prefix: number | undefined, path?: string): Finding[] {
  if (prefix === undefined) return [];
  const v4 = family === "ip4";
  const limit = v4 ? SPF_WIDE_IP4_PREFIX : SPF_WIDE_IP6_PREFIX;
  const example = v4 ? "192.0.2.0/24" : "2001:db8::/48";
  if (prefix === 0) {
    return [
      finding(
        "spf.network.everything",
        "error",
        `${subject} has prefix /0, so it authorizes every ${v4 ? "IPv4" : "IPv6"} address on the internet, as "+all" does; list only your senders' addresses or networks, e.g. "${example}"`,
        path,
      ),
    ];
  }
  if (prefix < limit) {
    const size = v4 ? ` (${(2 ** (32 - prefix)).toLocaleString("en-US")} addresses)` : "";
    return [
      finding(
        "spf.network.wide",
        "warning",
        `${subject} authorizes a /${prefix} network${size}, wider than /${limit}: every host in it passes SPF for this domain; narrow it to the networks your senders use, e.g. "${example}"`,
        path,
      ),
    ];
  }
  return [];
}

/** An SPF mechanism's qualifier (RFC 7208 §4.6.2): pass, fail, softfail, neutral; "+" when none is written. */
export type SpfQualifier = "+" | "-" | "~" | "?";
/** The mechanisms RFC 7208 §5 defines. */
export type SpfMechanismName = "all" | "include" | "a" | "mx" | "ptr" | "ip4" | "ip6" | "exists";

/** One parsed SPF mechanism, e.g. `-all` or `ip4:192.0.2.0/24`. */
export interface SpfMechanism {
  kind: "mechanism";
  /** The result when the mechanism matches; "+" when none is written. */
  qualifier: SpfQualifier;
  /** The mechanism, lower-cased. */
  name: SpfMechanismName;
  /** Target domain-spec (include, exists, and a/mx/ptr when given). */
  domain?: string;
  /** Network address for ip4/ip6. */
  ip?: string;
  /** IPv4 prefix length (ip4, a, mx), when given. */
  cidr4?: number;
  /** IPv6 prefix length (ip6, a, mx), when given. */
  cidr6?: number;
  /** The term as written. */
  text: string;
}

/** One parsed SPF modifier (`name=value`), e.g. `redirect=_spf.example.com`. */
export interface SpfModifier {
  kind: "modifier";
  /** Lower-cased modifier name, e.g. "redirect". */
  name: string;
  /** The value after "=", as written. */
  value: string;
  /** The term as written. */
  text: string;
}

/** One term of an SPF record: a mechanism or a modifier. */
export type SpfTerm = SpfMechanism | SpfModifier;

/** Terms that each cost one DNS lookup toward the limit. */
const LOOKUP_MECHANISMS = new Set<SpfMechanismName>(["include", "a", "mx", "ptr", "exists"]);

/** True when the value is an SPF record: exactly "v=spf1" then a space or the end (RFC 7208 §4.5). */
export function isSpfValue(value: string): boolean {
  return /^v=spf1( |$)/i.test(value);
}

const MACRO_EXPAND = /%\{[slodiphcrtv]\d*r?[.\-+,/_=]*\}|%%|%_|%-/gi;

/** RFC 7208 §7.1 domain-spec: a macro-string ending in "." toplabel or a macro-expand. */
function isDomainSpec(spec: string): boolean {
  if (!/^[\x21-\x7e]+$/.test(spec)) return false;
  if (!spec.includes("%")) return isDomainName(spec, { allowUnderscore: true });
  if (spec.replace(MACRO_EXPAND, "").includes("%")) return false;
  if (/%\{[^}]*\}$/.test(spec)) return true;
  return /\.(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?$/i.test(spec);
}

function hasMacro(spec: string): boolean {
  return spec.includes("%");
}

/** CIDR lengths are written without leading zeros (RFC 7208 §5.6). */
function parseCidr(text: string | undefined, max: number): number | null | undefined {
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

function parseTerm(text: string): SpfTerm | string {
  const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(text);
  if (modifier) {
    const name = modifier[1].toLowerCase();
    const value = modifier[2];
    if ((name === "redirect" || name === "exp") && !isDomainSpec(value)) {
      return `"${text}": ${name}= needs a domain name`;
    }
    if (name !== "redirect" && name !== "exp" && value.replace(MACRO_EXPAND, "").includes("%")) {
      return `"${text}": invalid macro in modifier value`;
    }
    return { kind: "modifier", name, value, text };
  }
  let qualifier: SpfQualifier = "+";
  let rest = text;
  if ("+-~?".includes(text[0])) {
    qualifier = text[0] as SpfQualifier;
    rest = text.slice(1);
  }
  const head = /^([A-Za-z][A-Za-z0-9_.-]*)(.*)$/.exec(rest);
  if (!head) return `"${text}" is not an SPF mechanism or modifier`;
  const name = head[1].toLowerCase();
  const args = head[2];
  const base = { kind: "mechanism" as const, qualifier, text };
  switch (name) {
    case "all":
      return args === "" ? { ...base, name } : `"${text}": all takes no argument`;
    case "include":
    case "exists": {
      const domain = args.startsWith(":") ? args.slice(1) : "";
      return isDomainSpec(domain) ? { ...base, name, domain } : `"${text}": ${name} needs ":" and a domain name`;
    }
    case "ptr": {
      if (args === "") return { ...base, name };
      const domain = args.startsWith(":") ? args.slice(1) : "";
      return isDomainSpec(domain) ? { ...base, name, domain } : `"${text}": ptr takes an optional ":" and domain name`;
    }
    case "a":
    case "mx": {
      const m = /^(?::(.+?))?(?:\/([0-9]+))?(?:\/\/([0-9]+))?$/.exec(args);
      if (!m) return `"${text}": expected ${name}[:domain][/cidr4][//cidr6]`;
      if (m[1] !== undefined && !isDomainSpec(m[1])) return `"${text}": "${m[1]}" is not a domain name`;
      const cidr4 = parseCidr(m[2], 32);
      const cidr6 = parseCidr(m[3], 128);
      if (cidr4 === null || cidr6 === null) return `"${text}": CIDR length out of range (ip4 0-32, ip6 0-128)`;
      return { ...base, name, domain: m[1], cidr4, cidr6 };
    }
    case "ip4":
    case "ip6": {
      const m = /^:([^/]+)(?:\/([0-9]+))?$/.exec(args);
      const v4 = name === "ip4";
      const cidr = m ? parseCidr(m[2], v4 ? 32 : 128) : null;
      if (!m || cidr === null || !(v4 ? isIPv4(m[1]) : isIPv6(m[1]))) {
        return `"${text}": expected ${name}:<${v4 ? "IPv4" : "IPv6"} address>[/0-${v4 ? 32 : 128}]`;
      }
      return v4 ? { ...base, name, ip: m[1], cidr4: cidr } : { ...base, name, ip: m[1], cidr6: cidr };
    }
    default:
      return `"${text}": unknown mechanism "${name}"`;
  }
}

/** Parse an SPF value into its terms, or say what makes it invalid (any syntax error is a permerror). */
export function parseSpf(value: string): { terms: SpfTerm[] } | { error: string } {
  if (!isSpfValue(value)) return { error: `record must start with exactly "v=spf1" followed by a space or the end` };
  const terms: SpfTerm[] = [];
  for (const text of value.slice(6).split(" ").filter((t) => t !== "")) {
    const term = parseTerm(text);
    if (typeof term === "string") return { error: term };
    terms.push(term);
  }
  return { terms };
}

/** Options of `checkSpf` and the lookup count: what is known of include targets. */
export interface CheckSpfOptions {
  /** Worst-case lookup cost (include term counted) of include/redirect targets, beyond KNOWN_SPF_INCLUDES. */
  knownIncludes?: Record<string, number>;
}

function includeCost(domain: string, options: CheckSpfOptions): number | undefined {
  const key = canonicalName(domain);
  for (const [name, cost] of Object.entries(options.knownIncludes ?? {})) {
    if (canonicalName(name) === key) return cost;
  }
  return KNOWN_SPF_INCLUDES[key]?.lookups;
}

/** Judge a published SPF value. Errors mean receivers will return permerror or the policy is unsafe. */
export function checkSpf(value: string, options: CheckSpfOptions = {}): Finding[] {
  const quoted = value.length > 80 ? `"${value.slice(0, 77)}..."` : `"${value}"`;
  if (!isSpfValue(value)) {
    return [
      finding(
        "spf.version.missing",
        "error",
        `SPF record ${quoted} must start with exactly "v=spf1" followed by a space or the end (RFC 7208 §4.5); remove leading text or whitespace`,
      ),
    ];
  }
  const parsed = parseSpf(value);
  if ("error" in parsed) {
    return [
      finding("spf.syntax.invalid", "error", `SPF record ${quoted} has a syntax error: ${parsed.error}; receivers return permerror (RFC 7208 §4.6). Fix or remove the term`),
    ];
  }
  const findings: Finding[] = [];
  const { terms } = parsed;
  const allIndex = terms.findIndex((t) => t.kind === "mechanism" && t.name === "all");
  const all = allIndex >= 0 ? (terms[allIndex] as SpfMechanism) : undefined;
  const redirects = terms.filter((t) => t.kind === "modifier" && t.name === "redirect") as SpfModifier[];
  const exps = terms.filter((t) => t.kind === "modifier" && t.name === "exp");

  if (all && all.qualifier === "+") {
    findings.push(
      finding("spf.all.pass", "error", `SPF term "${all.text}" lets any host on the internet pass SPF for this domain; end the record with "-all" or "~all"`),
    );
  } else if (all && all.qualifier === "?") {
    findings.push(
      finding("spf.all.neutral", "warning", `SPF term "?all" gives unlisted senders a neutral result, which protects nothing; use "-all" or "~all"`),
    );
  }
  // Networks that pass, taken together: two halves authorize the internet as surely as one /0 does.
  const evaluatedTerms = allIndex >= 0 ? terms.slice(0, allIndex) : terms;
  const passingNetworks = evaluatedTerms.filter((t): t is SpfMechanism => t.kind === "mechanism" && t.qualifier === "+" && (t.name === "ip4" || t.name === "ip6") && t.ip !== undefined);
  const whole = familiesCoveredWhole(
    passingNetworks.filter((t) => (t.name === "ip4" ? t.cidr4 : t.cidr6) !== 0).map((t) => `${t.ip}/${(t.name === "ip4" ? t.cidr4 : t.cidr6) ?? (t.name === "ip4" ? 32 : 128)}`),
  );
  for (const family of whole) {
    findings.push(
      finding(
        "spf.network.everything",
        "error",
        `SPF terms ${passingNetworks.filter((t) => (family === "IPv4") === (t.name === "ip4")).map((t) => `"${t.text}"`).join(", ")} together authorize every ${family} address on the internet, as "+all" does; list only your senders' addresses or networks`,
      ),
    );
  }
  if (all && terms.slice(allIndex + 1).some((t) => t.kind === "mechanism")) {
    findings.push(
      finding("spf.terms.after-all", "warning", `SPF mechanisms after "${all.text}" are never evaluated (RFC 7208 §5.1); move them before "${all.text}" or remove them`),
    );
  }
  for (const [name, list] of [["redirect", redirects], ["exp", exps]] as const) {
    if (list.length > 1) {
      findings.push(
        finding("spf.modifier.duplicate", "error", `SPF modifier "${name}=" appears ${list.length} times; RFC 7208 §6 allows it once (permerror). Keep one`),
      );
    }
  }
  if (all && redirects.length > 0) {
    findings.push(
      finding("spf.redirect.ignored", "warning", `SPF "${redirects[0].text}" is ignored because the record has "${all.text}" (RFC 7208 §6.1); remove one of them`),
    );
  }
  if (!all && redirects.length === 0) {
    findings.push(
      finding("spf.all.missing", "warning", `SPF record ${quoted} has no "all" or "redirect=", so unlisted senders get neutral (RFC 7208 §4.7); end it with "-all" or "~all"`),
    );
  }
  for (const t of terms) {
    if (t.kind === "mechanism" && t.name === "ptr") {
      findings.push(
        finding("spf.ptr", "warning", `SPF term "${t.text}" SHOULD NOT be published (RFC 7208 §5.5): it is slow and unreliable; list the senders with ip4/ip6 or a instead`),
      );
    }
  }
  // Only passing terms authorize, and only terms up to "all" are evaluated.
  for (const t of all ? terms.slice(0, allIndex) : terms) {
    if (t.kind !== "mechanism" || t.qualifier !== "+") continue;
    const subject = `SPF term "${t.text}"`;
    if (t.name === "ip4" || t.name === "a" || t.name === "mx") findings.push(...networkBreadthFindings(subject, "ip4", t.cidr4));
    if (t.name === "ip6" || t.name === "a" || t.name === "mx") findings.push(...networkBreadthFindings(subject, "ip6", t.cidr6));
  }
  const seen = new Set<string>();
  for (const t of terms) {
    const key = t.text.toLowerCase().replace(/^\+/, "");
    if (seen.has(key)) {
      findings.push(finding("spf.term.duplicate", "warning", `SPF term "${t.text}" appears more than once; remove the repeat`));
    }
    seen.add(key);
  }

  const lookups = spfTermsLookupCount(terms, options, findings);
  if (lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding(
        "spf.lookups.over-limit",
        "error",
        `SPF record needs ${lookups} DNS lookups in the worst case (include, a, mx, ptr, exists and redirect, counted through includes); RFC 7208 §4.6.4 allows ${SPF_LOOKUP_LIMIT}, beyond which receivers return permerror. Remove senders, replace includes with ip4/ip6 networks, or send from a subdomain with its own SPF`,
      ),
    );
  }
  const size = octets(value);
  if (size > SPF_SIZE_WARNING_OCTETS) {
    findings.push(
      finding(
        "spf.size.large",
        "warning",
        `SPF record is ${size} octets; above about ${SPF_SIZE_WARNING_OCTETS} the DNS answer may not fit 512 octets and could be ignored (RFC 7208 §3.4). Merge networks or move senders into an include`,
      ),
    );
  }
  return findings;
}

/**
 * Worst-case DNS-lookup count of a parsed record, the count checkSpf judges:
 * every lookup term up to "all" (terms after it are never evaluated), includes
 * and a lone redirect at their known cost. A target of unknown cost counts as 1
 * and adds a "spf.lookups.include-unknown" finding to `findings`, so callers
 * can tell a lower bound from an exact figure.
 */
export function spfTermsLookupCount(terms: SpfTerm[], options: CheckSpfOptions = {}, findings: Finding[] = []): number {
  const allIndex = terms.findIndex((t) => t.kind === "mechanism" && t.name === "all");
  const evaluated = allIndex >= 0 ? terms.slice(0, allIndex + 1) : terms;
  const redirects = terms.filter((t): t is SpfModifier => t.kind === "modifier" && t.name === "redirect");
  let lookups = 0;
  for (const t of evaluated) {
    if (t.kind === "mechanism" && LOOKUP_MECHANISMS.has(t.name)) {
      lookups += t.name === "include" ? targetCost(t.text, t.domain!, options, findings) : 1;
    }
  }
  if (allIndex < 0 && redirects.length === 1) lookups += targetCost(redirects[0].text, redirects[0].value, options, findings);
  return lookups;
}

function targetCost(text: string, domain: string, options: CheckSpfOptions, findings: Finding[]): number {
  const known = hasMacro(domain) ? undefined : includeCost(domain, options);
  if (known !== undefined) return known;
  findings.push(
    finding(
      "spf.lookups.include-unknown",
      "info",
      `SPF term "${text}" costs an unknown number of DNS lookups; counted as 1. Declare its worst-case cost to count it exactly`,
    ),
  );
  return 1;
}

/** More than one SPF record at a name is a permerror (RFC 7208 §4.5). */
export function checkSpfRecordSet(values: string[]): Finding[] {
  const spf = values.filter(isSpfValue);
  if (spf.length <= 1) return [];
  return [
    finding(
      "spf.record.multiple",
      "error",
      `${spf.length} SPF records ("v=spf1 ...") are published at one name; receivers return permerror (RFC 7208 §4.5). Merge them into one record`,
    ),
  ];
}

function declaredIncludeCost(include: SpfInclude): number | undefined {
  return include.lookups ?? KNOWN_SPF_INCLUDES[canonicalName(include.domain)]?.lookups;
}

/**
 * Worst-case DNS-lookup terms the intent costs: 1 per `a` host, 1 for `mx`,
 * each include's declared or catalogued cost. An include with neither counts
 * as 1 here (a lower bound); the builder refuses it.
 */
export function spfLookupCost(intent: SpfIntent): number {
  return (
    (intent.a?.length ?? 0) +
    (intent.mx ? 1 : 0) +
    (intent.includes ?? []).reduce((sum, inc) => sum + (declaredIncludeCost(inc) ?? 1), 0)
  );
}

function networkFindings(list: string[] | undefined, field: "ip4" | "ip6"): Finding[] {
  const v4 = field === "ip4";
  const max = v4 ? 32 : 128;
  return (list ?? []).flatMap((entry, i) => {
    const m = /^([^/]+)(?:\/([0-9]+))?$/.exec(entry.trim());
    const cidr = m ? parseCidr(m[2], max) : null;
    if (m && cidr !== null && (v4 ? isIPv4(m[1]) : isIPv6(m[1]))) {
      return networkBreadthFindings(`SPF ${field}[${i}] "${entry}"`, field, cidr, `${field}[${i}]`);
    }
    return [
      finding(
        `spf.${field}.invalid`,
        "error",
        `SPF ${field}[${i}] "${entry}" is not an ${v4 ? "IPv4" : "IPv6"} address with an optional /0-${max} prefix length; write e.g. "${v4 ? "192.0.2.0/24" : "2001:db8::/32"}"`,
        `${field}[${i}]`,
      ),
    ];
  });
}

function renderTerms(intent: SpfIntent): { term: string; path: string }[] {
  return [
    ...(intent.ip4 ?? []).map((ip, i) => ({ term: `ip4:${ip.trim()}`, path: `ip4[${i}]` })),
    ...(intent.ip6 ?? []).map((ip, i) => ({ term: `ip6:${ip.trim().toLowerCase()}`, path: `ip6[${i}]` })),
    ...(intent.a ?? []).map((host, i) => ({ term: `a:${canonicalName(host)}`, path: `a[${i}]` })),
    ...(intent.mx ? [{ term: "mx", path: "mx" }] : []),
    ...(intent.includes ?? []).map((inc, i) => ({ term: `include:${canonicalName(inc.domain)}`, path: `includes[${i}]` })),
  ];
}

/** Every finding for an SPF intent: its own fields first, then the rules on the value it builds. */
export function spfIntentFindings(intent: SpfIntent): Finding[] {
  const findings: Finding[] = [...networkFindings(intent.ip4, "ip4"), ...networkFindings(intent.ip6, "ip6")];
  // Networks taken together: two halves authorize the internet as surely as one /0 does.
  for (const [field, list] of [["ip4", intent.ip4], ["ip6", intent.ip6]] as const) {
    const ranges = (list ?? []).filter((r) => !/\/0$/.test(r.trim()));
    for (const family of familiesCoveredWhole(ranges)) {
      findings.push(
        finding(
          "spf.network.everything",
          "error",
          `SPF terms ${ranges.map((r) => `"${field}:${r}"`).join(", ")} together authorize every ${family} address on the internet, as "+all" does; list only your senders' addresses or networks`,
          field,
        ),
      );
    }
  }
  (intent.a ?? []).forEach((host, i) => {
    if (!isDomainName(canonicalName(host))) {
      findings.push(
        finding("spf.a.invalid", "error", `SPF a[${i}] "${host}" is not a host name; use a fully qualified name such as "mail.example.com"`, `a[${i}]`),
      );
    }
  });
  (intent.includes ?? []).forEach((inc, i) => {
    if (!isDomainName(canonicalName(inc.domain), { allowUnderscore: true })) {
      findings.push(
        finding(
          "spf.include.invalid",
          "error",
          `SPF includes[${i}].domain "${inc.domain}" is not a domain name; use the include target your provider documents, e.g. "amazonses.com"`,
          `includes[${i}].domain`,
        ),
      );
    }
    if (inc.lookups !== undefined && !(Number.isInteger(inc.lookups) && inc.lookups >= 1)) {
      findings.push(
        finding(
          "spf.include.lookups-invalid",
          "error",
          `SPF includes[${i}].lookups is ${inc.lookups}; it must be a whole number of at least 1 (the include term itself counts)`,
          `includes[${i}].lookups`,
        ),
      );
    } else if (declaredIncludeCost(inc) === undefined) {
      findings.push(
        finding(
          "spf.include.cost-unknown",
          "error",
          `SPF include "${inc.domain}" has no known lookup cost; declare includes[${i}].lookups (its worst-case DNS-lookup terms, counting the include itself) so the 10-lookup limit can be checked`,
          `includes[${i}].lookups`,
        ),
      );
    }
  });
  if (intent.all !== "-all" && intent.all !== "~all") {
    findings.push(finding("spf.all.invalid", "error", `SPF all is "${String(intent.all)}"; use "-all" (fail) or "~all" (softfail)`, "all"));
  }
  const seen = new Map<string, string>();
  for (const { term, path } of renderTerms(intent)) {
    const key = term.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      findings.push(finding("spf.term.duplicate", "error", `SPF term "${term}" at ${path} repeats ${first}; remove the duplicate`, path));
    } else {
      seen.set(key, path);
    }
  }
  if (findings.some((f) => f.severity === "error")) return findings;
  const knownIncludes: Record<string, number> = {};
  for (const inc of intent.includes ?? []) knownIncludes[canonicalName(inc.domain)] = declaredIncludeCost(inc)!;
  // Network breadth is already reported above, with the intent path.
  const valueFindings = checkSpf(renderSpf(intent), { knownIncludes }).filter((f) => !f.code.startsWith("spf.network."));
  return [...findings, ...valueFindings];
}

function renderSpf(intent: SpfIntent): string {
  return ["v=spf1", ...renderTerms(intent).map((t) => t.term), intent.all].join(" ");
}

/** The canonical SPF value for an intent: `v=spf1`, ip4, ip6, a, mx, include, all. Throws RecordBuildError. */
export function buildSpfValue(intent: SpfIntent): string {
  throwOnErrors(spfIntentFindings(intent));
  return renderSpf(intent);
}

/** The domain's SPF record. */
export function spfRecord(domain: string, intent: SpfIntent, ttl: number): TxtRecord {
  return txtRecord(ownerName(domain, "SPF record"), buildSpfValue(intent), ttl, "spf");
}

/** SPF for a HELO host name: only the host's own address may use it (RFC 7208 §2.3). */
export function heloSpfRecord(host: string, ttl: number): TxtRecord {
  return txtRecord(ownerName(host, "HELO SPF record"), "v=spf1 a -all", ttl, "helo-spf");
}

/** SPF for a name that never sends mail. */
export function nullSpfRecord(name: string, ttl: number): TxtRecord {
  return txtRecord(ownerName(name, "null SPF record"), "v=spf1 -all", ttl, "spf");
}
