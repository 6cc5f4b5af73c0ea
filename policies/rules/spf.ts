import { canonicalName } from "../../components/dns/model";
import { KNOWN_SPF_INCLUDES, SPF_LOOKUP_LIMIT, SPF_SIZE_WARNING_OCTETS, checkSpf, spfTermsLookupCount, type SpfTerm } from "../../components/dns/protocols";
import { MAX_CHARACTER_STRING_OCTETS, octets } from "../../components/dns/txt";
import type { Rule, Violation } from "./rule";
import { authorizesHost, effectiveRedirect, evaluatedTerms, hostAddresses, includeCostsFor, quote, spfRecords, spfTerms, voidTerms } from "./spf-support";


export const spfOneRecord: Rule = {
  name: "spf-one-record",
  group: "SPF",
  profile: "baseline",
  description: "Every sending domain publishes exactly one SPF record, and no name publishes two.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7208 §3.2 and §4.5 (more than one record is a permerror)",
  check(view) {
    const violations: Violation[] = [];
    const sending = new Set(view.sendingDomains);
    const names = new Set([...sending, ...spfRecords(view).map((r) => r.name)]);
    for (const name of [...names].sort()) {
      const all = view.spfAt(name);
      const spf = view.answeredTogether(all);
      if (spf.length > 1) {
        violations.push({
          message: `${name}: ${spf.length} SPF records (${spf.map((r) => `TXT ${quote(r.value!)}`).join(", ")}); receivers return permerror and SPF fails for all its mail (RFC 7208 §4.5); merge them into one record`,
          urn: spf[1].resource.urn,
        });
      } else if (all.length === 0 && sending.has(name) && view.manages(name) && !view.hasUnknownTxt(name)) {
        // Only where the stack owns the zone: a domain whose DNS another stack holds cannot be judged here.
        violations.push({
          message: `${name}: sends mail but publishes no SPF record; receivers get "none" and bulk-sender rules fail; publish TXT "v=spf1 <your senders> -all" at ${name}`,
          urn: view.mailDomains.find((d) => d.domain === name)?.resource.urn,
        });
      }
    }
    return violations;
  },
};

export const spfAllQualifier: Rule = {
  name: "spf-all-qualifier",
  group: "SPF",
  profile: "baseline",
  description: "Every SPF record ends in -all or ~all: +all and ?all authorize anyone, and a record without all (or redirect) ends neutral.",
  enforcementLevel: "mandatory",
  severity: "critical",
  source: "RFC 7208 §5.1 and §4.7",
  check(view) {
    const violations: Violation[] = [];
    for (const record of spfRecords(view)) {
      const findings = checkSpf(record.value!).filter((f) => ["spf.all.pass", "spf.all.neutral", "spf.all.missing"].includes(f.code));
      for (const f of findings) {
        violations.push({ message: `${record.name}: SPF record ${quote(record.value!)}: ${f.message}`, urn: record.resource.urn });
      }
    }
    return violations;
  },
};

/** checkSpf codes judged by another SPF rule, so one broken record trips one rule. */
const JUDGED_ELSEWHERE = new Set([
  "spf.all.pass", // spf-all-qualifier
  "spf.all.neutral", // spf-all-qualifier
  "spf.all.missing", // spf-all-qualifier
  "spf.lookups.over-limit", // spf-lookup-limit (with the stack's include costs)
  "spf.ptr", // spf-no-ptr
  "spf.size.large", // spf-size
]);

export const spfSyntax: Rule = {
  name: "spf-syntax",
  group: "SPF",
  profile: "baseline",
  description: "Every SPF record parses (RFC 7208 terms, at most one redirect= and exp=) and authorizes no /0 network: any error is a permerror for all the domain's mail.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7208 §4.6, §5 and §6 (syntax errors and repeated modifiers are permerrors)",
  check(view) {
    const violations: Violation[] = [];
    for (const record of spfRecords(view)) {
      for (const f of checkSpf(record.value!)) {
        if (f.severity !== "error" || JUDGED_ELSEWHERE.has(f.code)) continue;
        const message = f.message.startsWith("SPF record \"") ? f.message : `SPF record ${quote(record.value!)}: ${f.message}`;
        violations.push({ message: `${record.name}: ${message}`, urn: record.resource.urn });
      }
    }
    return violations;
  },
};

export interface SpfLookupLimitConfig {
  maxLookups: number;
  includeCosts: Record<string, number>;
}

export const spfLookupLimit: Rule<SpfLookupLimitConfig> = {
  name: "spf-lookup-limit",
  group: "SPF",
  profile: "baseline",
  description:
    "Every SPF record needs at most 10 DNS lookups in the worst case (include, a, mx, ptr, exists, redirect, counted through includes); beyond that receivers return permerror.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7208 §4.6.4",
  config: {
    maxLookups: {
      type: "integer",
      minimum: 1,
      maximum: SPF_LOOKUP_LIMIT,
      default: SPF_LOOKUP_LIMIT,
      description: `Most DNS-lookup terms a record may need in the worst case; at most ${SPF_LOOKUP_LIMIT}, the RFC limit (lower it to keep headroom).`,
    },
    includeCosts: {
      type: "object",
      additionalProperties: { type: "integer", minimum: 1 },
      default: {},
      description:
        "Worst-case lookup cost of include/redirect targets, the include term itself counted (a flat include costs 1), e.g. { \"_spf.esp.example.com\": 3 }. Adds to (and overrides) the costs the stack config declares (spf.includes[].lookups) and the built-in catalogue of common senders; an include known nowhere, nor as an SPF record of this stack, counts 1.",
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    for (const record of spfRecords(view)) {
      const terms = spfTerms(record.value!);
      if (!terms) continue;
      // Costs the stack config declares (StackSettings), then the rule's own setting.
      const knownIncludes = includeCostsFor(view, terms, { ...view.settings?.spfIncludeCosts, ...config.includeCosts });
      const count = spfTermsLookupCount(terms, { knownIncludes });
      if (count <= config.maxLookups) continue;
      const { parts, unknown } = lookupBreakdown(terms, knownIncludes);
      const limit = config.maxLookups === SPF_LOOKUP_LIMIT ? `the limit of ${SPF_LOOKUP_LIMIT}` : `the ${config.maxLookups} this stack allows (RFC limit ${SPF_LOOKUP_LIMIT})`;
      const unknownNote =
        unknown.length > 0 ? `; ${unknown.map((d) => `"${d}"`).join(", ")} ${unknown.length === 1 ? "has" : "have"} no known cost and counted 1: declare the worst case in includeCosts` : "";
      violations.push({
        message: `${record.name}: SPF record ${quote(record.value!)} needs ${count} DNS lookups in the worst case (${parts.join(", ")}), over ${limit}; beyond ${SPF_LOOKUP_LIMIT} receivers return permerror and SPF fails for all its mail (RFC 7208 §4.6.4). Remove senders, replace includes with ip4/ip6 networks, or move a sender to a subdomain with its own SPF record${unknownNote}`,
        urn: record.resource.urn,
      });
    }
    return violations;
  },
};

/** Each lookup term with its cost, as spfTermsLookupCount counts it. */
function lookupBreakdown(terms: SpfTerm[], knownIncludes: Record<string, number>): { parts: string[]; unknown: string[] } {
  const parts: string[] = [];
  const unknown: string[] = [];
  // The cost spfTermsLookupCount gives a target: the known figure, else 1.
  const costOf = (text: string, domain: string) => {
    const key = canonicalName(domain);
    const cost = domain.includes("%") ? undefined : (knownIncludes[key] ?? KNOWN_SPF_INCLUDES[key]?.lookups);
    if (cost === undefined) unknown.push(domain);
    parts.push(`${text}: ${cost ?? 1}`);
  };
  for (const t of evaluatedTerms(terms)) {
    if (t.kind !== "mechanism" || !["include", "a", "mx", "ptr", "exists"].includes(t.name)) continue;
    if (t.name === "include") costOf(t.text, t.domain!);
    else parts.push(`${t.text}: 1`);
  }
  const redirect = effectiveRedirect(terms);
  if (redirect !== undefined) costOf(`redirect=${redirect}`, redirect);
  return { parts, unknown };
}

export interface SpfVoidLookupsConfig {
  maxVoidLookups: number;
}

export const spfVoidLookups: Rule<SpfVoidLookupsConfig> = {
  name: "spf-void-lookups",
  group: "SPF",
  profile: "baseline",
  description:
    "No SPF record has more than 2 a:/mx:/include: terms whose target, in a zone this stack manages, has nothing to resolve (no A/AAAA, no MX, no SPF record); receivers return permerror beyond 2 void lookups.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7208 §4.6.4 (void lookup limit)",
  config: {
    maxVoidLookups: {
      type: "integer",
      minimum: 0,
      maximum: 2,
      default: 2,
      description: "Most terms whose lookup finds nothing (NXDOMAIN or no data) a record may have; RFC 7208 suggests receivers stop at 2.",
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    for (const record of spfRecords(view)) {
      const terms = spfTerms(record.value!);
      if (!terms) continue;
      const found = voidTerms(view, record.name, terms);
      if (!found || found.length <= config.maxVoidLookups) continue;
      const list = found.map((v) => `"${v.term}"${v.at === record.name ? "" : ` in the SPF record at ${v.at}`}: ${v.reason}`).join("; ");
      violations.push({
        message: `${record.name}: SPF record ${quote(record.value!)} has ${found.length} ${found.length === 1 ? "term" : "terms"} whose lookup finds nothing in this stack's zones (${list}), more than the ${config.maxVoidLookups} void lookups receivers allow before returning permerror (RFC 7208 §4.6.4); publish the missing records or remove those terms`,
        urn: record.resource.urn,
      });
    }
    return violations;
  },
};

export const spfNoPtr: Rule = {
  name: "spf-no-ptr",
  group: "SPF",
  profile: "baseline",
  description: "No SPF record uses the ptr mechanism, which RFC 7208 says SHOULD NOT be published: it is slow, unreliable, and some receivers skip it.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 7208 §5.5",
  check(view) {
    const violations: Violation[] = [];
    for (const record of spfRecords(view)) {
      const terms = spfTerms(record.value!);
      const ptr = (terms ?? []).filter((t) => t.kind === "mechanism" && t.name === "ptr");
      if (ptr.length === 0) continue;
      violations.push({
        message: `${record.name}: SPF record ${quote(record.value!)} uses ${ptr.map((t) => `"${t.text}"`).join(", ")}; RFC 7208 §5.5 says ptr SHOULD NOT be published (it costs a reverse lookup per connection, fails when PTR lookups time out, and large receivers skip it); replace it with ip4:/ip6: networks or a:<host> for the senders it meant`,
        urn: record.resource.urn,
      });
    }
    return violations;
  },
};

export interface SpfSizeConfig {
  maxAnswerOctets: number;
}

export const spfSize: Rule<SpfSizeConfig> = {
  name: "spf-size",
  group: "SPF",
  profile: "baseline",
  description:
    "Every SPF record's character-strings are at most 255 octets, and the name plus all TXT records at it stay within 450 octets, so the answer fits a 512-octet UDP response.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 7208 §3.3 and §3.4; RFC 1035 §3.3",
  config: {
    maxAnswerOctets: {
      type: "integer",
      minimum: 1,
      default: SPF_SIZE_WARNING_OCTETS,
      description: `Most octets the name plus every TXT record at it (each string with its length octet) may take; RFC 7208 §3.4 advises keeping under ${SPF_SIZE_WARNING_OCTETS}.`,
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    const records = spfRecords(view);
    for (const record of records) {
      for (const s of record.strings ?? []) {
        if (octets(s) <= MAX_CHARACTER_STRING_OCTETS) continue;
        violations.push({
          message: `${record.name}: SPF record ${quote(record.value!)} is published as one character-string of ${octets(s)} octets; a TXT string holds at most ${MAX_CHARACTER_STRING_OCTETS} (RFC 1035 §3.3), so the provider refuses it or receivers cannot read it; split the value into strings of at most ${MAX_CHARACTER_STRING_OCTETS} octets, breaking after a space between terms (receivers join them without adding spaces, RFC 7208 §3.3)`,
          urn: record.resource.urn,
        });
      }
    }
    for (const name of [...new Set(records.map((r) => r.name))].sort()) {
      const txt = view.recordsAt(name, "TXT");
      const known = txt.filter((r) => r.strings !== undefined);
      const total = octets(canonicalName(name)) + known.reduce((sum, r) => sum + r.strings!.reduce((n, s) => n + 1 + octets(s), 0), 0);
      if (total <= config.maxAnswerOctets) continue;
      const spf = view.spfAt(name)[0] ?? records.find((r) => r.name === name)!;
      violations.push({
        message: `${name}: the TXT records at ${name} (${known.map((r) => `TXT ${quote(r.value!)}`).join(", ")}) take ${total} octets with the name, over ${config.maxAnswerOctets}; the DNS answer may not fit 512 octets and receivers could ignore the SPF record (RFC 7208 §3.4); shorten the SPF record (merge networks, move senders into an include) or remove other TXT records at ${name}`,
        urn: spf.resource.urn,
      });
    }
    return violations;
  },
};

export const spfCoversMailHosts: Rule = {
  name: "spf-covers-mail-hosts",
  group: "SPF",
  profile: "baseline",
  description:
    "Every domain a Postforge mail host sends for authorizes the host in its SPF record (a:<host>, mx, an ip4 network holding its Elastic IP, or an include of an SPF record in the stack that does).",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7208 §2.4 and §5 (a host not authorized by the MAIL FROM domain's record gets fail or softfail)",
  check(view) {
    const violations: Violation[] = [];
    for (const host of view.mailHosts) {
      for (const domain of [...new Set(host.domains)]) {
        // No record or several: spf-one-record reports it; unknown: nothing to judge yet.
        if (view.hasUnknownTxt(domain)) continue;
        const spf = view.spfAt(domain);
        if (spf.length !== 1) continue;
        const terms = spfTerms(spf[0].value!);
        if (!terms) continue;
        if (authorizesHost(view, domain, host) !== "no") continue;
        const addresses = hostAddresses(view, host);
        const all = terms.find((t) => t.kind === "mechanism" && t.name === "all")?.text;
        const term = domain === host.hostname ? "a" : `a:${host.hostname}`;
        const alternative = Array.isArray(addresses) && addresses.length > 0 ? ` (or "ip4:${addresses[0]}")` : "";
        violations.push({
          message: `${domain}: SPF record ${quote(spf[0].value!)} does not authorize mail host ${host.hostname}, which sends mail for ${domain}, so its mail fails SPF (RFC 7208 §2.4); add "${term}"${alternative} ${all ? `before "${all}"` : "to the record"} at ${domain}`,
          urn: spf[0].resource.urn,
        });
      }
    }
    return violations;
  },
};

export const SPF_RULES = [spfOneRecord, spfAllQualifier, spfSyntax, spfLookupLimit, spfVoidLookups, spfNoPtr, spfSize, spfCoversMailHosts];
