import { canonicalName } from "../../components/dns/model";
import { isProductionStack, PRODUCTION_CONFIG, type ProductionConfig } from "./production";
import { checkDmarc, checkDmarcLocation, isDmarcValue, organizationalDomain, type DmarcMode } from "../../components/dns/protocols";
import type { StackView } from "../model/view";
import type { AnyRule, Rule, Violation } from "./rule";
import { dmarcDomains, dmarcInForce, mailDomainUrn, ownDmarc, reportAddresses } from "./dmarc-support";
import { quote } from "./text";

export const dmarcOneRecord: Rule = {
  name: "dmarc-one-record",
  group: "DMARC",
  profile: "baseline",
  description:
    "Every sending domain publishes exactly one DMARC record, at _dmarc.<domain>; no name publishes two, and no DMARC record sits where receivers never look (such as the domain itself).",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 7489 §6.1 and §6.6.3; RFC 9989 §4.10 (more than one record: no DMARC applied)",
  check(view) {
    const violations: Violation[] = [];
    const sending = new Set(view.sendingDomains);
    for (const domain of [...new Set([...sending, ...dmarcDomains(view)])].sort()) {
      const name = `_dmarc.${domain}`;
      const records = view.answeredTogether(view.dmarcAt(domain));
      if (records.length > 1) {
        violations.push({
          message: `${domain}: ${records.length} DMARC records at ${name} (${records.map((r) => `TXT ${quote(r.value!)}`).join(", ")}); receivers then apply no DMARC policy at all (RFC 7489 §6.6.3); merge them into one record`,
          urn: records[1].resource.urn,
        });
      } else if (records.length === 0 && sending.has(domain) && view.manages(domain) && !view.hasUnknownTxt(name) && dmarcInForce(view, domain) === undefined) {
        // A subdomain is covered by its organizational domain's record (sp); a zone another stack owns cannot be judged here.
        const others = view.recordsAt(name, "TXT").filter((r) => r.value !== undefined);
        const note =
          others.length > 0
            ? ` (${others.map((r) => `TXT ${quote(r.value!)}`).join(", ")} there is not one: a DMARC record starts with exactly "v=DMARC1;")`
            : "";
        violations.push({
          message: `${domain}: sends mail but publishes no DMARC record at ${name}${note}; receivers apply no DMARC policy and the bulk-sender requirements fail; publish TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@${domain}" at ${name}, then move to p=quarantine or p=reject`,
          urn: others[0]?.resource.urn ?? mailDomainUrn(view, domain),
        });
      }
    }
    for (const r of view.records) {
      if (r.type !== "TXT" || r.value === undefined || !isDmarcValue(r.value)) continue;
      for (const f of checkDmarcLocation(r.name, r.value)) {
        const where = view.zones.includes(r.name) || sending.has(r.name) ? `${r.name} itself` : r.name;
        violations.push({
          message: `${r.name}: TXT ${quote(r.value)} is a DMARC record at ${where}, where receivers never look, so it has no effect (RFC 7489 §6.1); ${f.message.slice(f.message.indexOf("move it"))}${view.dmarcAt(r.name).length > 0 ? ` (one is already there: remove this one)` : ""}`,
          urn: r.resource.urn,
        });
      }
    }
    return violations;
  },
};

export interface DmarcSyntaxConfig {
  dmarcMode: DmarcMode | null;
}

export const dmarcSyntax: Rule<DmarcSyntaxConfig> = {
  name: "dmarc-syntax",
  group: "DMARC",
  profile: "baseline",
  description: "Every DMARC record is valid in the stack's DMARC mode (RFC 9989 by default, or RFC 7489): v=DMARC1 first, a valid p, valid tags and mailto: report URIs.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 9989 §4.7 (or RFC 7489 §6.3 with dmarcMode rfc7489)",
  config: {
    dmarcMode: {
      enum: ["rfc9989", "rfc7489", null],
      default: null,
      description:
        'Which DMARC to judge records by: "rfc9989" (DMARCbis; t, psd and np, no pct/rf/ri) or "rfc7489" (the original; p right after v, no t or psd). Unset (null): the stack\'s postforge:dmarcMode, else rfc9989.',
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    const mode = stackDmarcMode(view, config.dmarcMode);
    for (const r of view.records) {
      if (r.type !== "TXT" || r.value === undefined || !r.name.startsWith("_dmarc.") || !isDmarcValue(r.value)) continue;
      const domain = r.name.slice("_dmarc.".length);
      for (const f of checkDmarc(r.value, mode)) {
        if (f.severity !== "error") continue;
        violations.push({ message: `${domain}: DMARC record ${r.name} ${quote(r.value)} (${mode}): ${f.message}`, urn: r.resource.urn });
      }
    }
    return violations;
  },
};

/** The DMARC dialect: the rule's setting, else the stack's (StackSettings), else RFC 9989. */
function stackDmarcMode(view: StackView, configured: DmarcMode | null | undefined): DmarcMode {
  const fromStack = view.settings?.dmarcMode;
  return configured ?? (fromStack === "rfc7489" || fromStack === "rfc9989" ? fromStack : "rfc9989");
}

export interface DmarcEnforcementConfig extends ProductionConfig {
  rampUntil: Record<string, string>;
  evidence: Record<string, string>;
}

export const dmarcEnforcement: Rule<DmarcEnforcementConfig> = {
  name: "dmarc-enforcement",
  group: "DMARC",
  profile: "baseline",
  description:
    "In a production stack every sending domain's DMARC policy enforces: p=quarantine or p=reject, not in testing (t=y); a domain listed in rampUntil may monitor until that date.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 9989 §4.7 (p, t) and §7 (policy enforcement); M3AAWG and mailbox-provider guidance to reach enforcement",
  config: {
    ...PRODUCTION_CONFIG,
    rampUntil: {
      type: "object",
      additionalProperties: { type: "string", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
      default: {},
      description:
        'Domains still ramping up to enforcement, each with the last day (UTC, "YYYY-MM-DD") it may publish p=none or t=y in production, e.g. { "example.com": "2026-12-31" }.',
    },
    evidence: {
      type: "object",
      additionalProperties: { type: "string" },
      default: {},
      description:
        "What the domains' DMARC aggregate reports say of the next step, by domain, named in this rule's messages (`postforge plan --reports` fills it from `postforge reports --json`; for pulumi preview, copy its sentences here).",
    },
  },
  check(view, config) {
    const mode = stackDmarcMode(view, null);
    if (!isProductionStack(view, config)) return [];
    const ramps = new Map(Object.entries(config.rampUntil ?? {}).map(([d, until]) => [canonicalName(d), until]));
    const today = new Date().toISOString().slice(0, 10);
    const violations: Violation[] = [];
    for (const domain of view.sendingDomains) {
      // A subdomain without its own record is judged by its organizational domain's (sp, else p).
      const dmarc = dmarcInForce(view, domain);
      if (dmarc === undefined || dmarc === "skip") continue;
      const tag = dmarc.inherited && dmarc.tags.has("sp") ? "sp" : "p";
      const problems: string[] = [];
      if (dmarc.tags.get(tag)!.toLowerCase() === "none") {
        problems.push(`${tag}=none${dmarc.inherited ? ` (inherited by ${domain} from ${dmarc.domain})` : ""} only monitors, so receivers deliver mail that fails DMARC`);
      }
      if (dmarc.tags.get("t") === "y") problems.push("t=y puts the policy in testing, so receivers apply one level less (reject as quarantine, quarantine as none)");
      const pct = Number(dmarc.tags.get("pct") ?? "100");
      if (mode === "rfc7489" && pct < 100) problems.push(`pct=${dmarc.tags.get("pct")} applies the policy to only part of the failing mail`);
      if (problems.length === 0) continue;
      const record = `${dmarc.record.name} ${quote(dmarc.record.value!)}`;
      const fix = `set ${tag}=quarantine or ${tag}=reject${dmarc.tags.get("t") === "y" ? " and remove t=y" : ""}${pct < 100 ? " and remove pct" : ""} in ${dmarc.record.name}`;
      const reported = (config.evidence ?? {})[domain] ?? (config.evidence ?? {})[canonicalName(domain)];
      const evidence = reported ? `; the reports say: ${reported}` : "";
      const until = ramps.get(domain);
      if (until !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(until) || Number.isNaN(Date.parse(`${until}T00:00:00Z`))) {
          violations.push({
            message: `${domain}: dmarc-enforcement rampUntil["${domain}"] = "${until}" is not a date, so the ramp-up cannot be honoured and DMARC record ${record} does not enforce: ${problems.join("; ")}; write the last day of the ramp-up as "YYYY-MM-DD"`,
            urn: dmarc.record.resource.urn,
          });
        } else if (today > until) {
          violations.push({
            message: `${domain}: the DMARC ramp-up of ${domain} ended on ${until} (dmarc-enforcement rampUntil), but DMARC record ${record} still does not enforce: ${problems.join("; ")}; ${fix}, or move the date if the ramp-up needs longer${evidence}`,
            urn: dmarc.record.resource.urn,
          });
        }
        continue;
      }
      violations.push({
        message: `${domain}: DMARC record ${record} does not enforce in production stack "${view.stack}": ${problems.join("; ")}; ${fix} once aggregate reports show legitimate mail aligned, or, while ramping up, set rampUntil { "${domain}": "YYYY-MM-DD" } in the dmarc-enforcement config${evidence}`,
        urn: dmarc.record.resource.urn,
      });
    }
    return violations;
  },
};

export interface DmarcReportingConfig {
  externalReportDestinations: string[];
}

export const dmarcReporting: Rule<DmarcReportingConfig> = {
  name: "dmarc-reporting",
  group: "DMARC",
  profile: "baseline",
  description:
    "Every sending domain's DMARC record asks for aggregate reports (rua), and every report address outside the domain's organizational domain is authorized by its host (<domain>._report._dmarc.<host>), or is declared as an external destination.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 7489 §6.3 and §7.1; RFC 9990 (verifying external destinations)",
  config: {
    externalReportDestinations: {
      type: "array",
      items: { type: "string" },
      default: [],
      description:
        'Report hosts (or full addresses) outside this stack\'s zones that you have confirmed publish the authorization records, e.g. ["dmarc.vendor.example"]. Without this the stack cannot confirm them.',
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    const sending = new Set(view.sendingDomains);
    const external = new Set((config.externalReportDestinations ?? []).map((d) => canonicalName(d.replace(/^mailto:/i, ""))));
    for (const domain of [...new Set([...sending, ...dmarcDomains(view)])].sort()) {
      const dmarc = ownDmarc(view, domain);
      if (dmarc === undefined || dmarc === "skip") continue;
      const record = `${dmarc.record.name} ${quote(dmarc.record.value!)}`;
      if (sending.has(domain) && !dmarc.tags.has("rua")) {
        violations.push({
          message: `${domain}: DMARC record ${record} has no rua, so no aggregate reports arrive and you cannot see who sends as ${domain} before enforcing (RFC 9990); add rua=mailto:dmarc-reports@${domain} (or another address you read)`,
          urn: dmarc.record.resource.urn,
        });
      }
      const org = organizationalDomain(domain);
      const byHost = new Map<string, string[]>();
      for (const a of reportAddresses(dmarc.tags)) {
        if (organizationalDomain(a.host) === org || external.has(canonicalName(a.address))) continue;
        byHost.set(a.host, [...(byHost.get(a.host) ?? []), `${a.tag}=${a.uri}`]);
      }
      for (const [host, uris] of byHost) {
        const authName = `${domain}._report._dmarc.${host}`;
        const wildcard = `*._report._dmarc.${host}`;
        const list = uris.join(", ");
        if (view.manages(host)) {
          if (view.hasUnknownTxt(authName) || view.hasUnknownTxt(wildcard)) continue;
          if ([authName, wildcard].some((n) => view.txtAt(n, isDmarcValue).length > 0)) continue;
          violations.push({
            message: `${domain}: DMARC record ${record} sends reports to ${host} (${list}), outside ${org}, but the stack publishes no TXT "v=DMARC1" at ${authName} (or ${wildcard}), so receivers send no reports there (RFC 7489 §7.1); publish TXT "v=DMARC1" at ${authName}, or send the reports to an address under ${org}`,
            urn: dmarc.record.resource.urn,
          });
        } else if (!external.has(host)) {
          violations.push({
            message: `${domain}: DMARC record ${record} sends reports to ${host} (${list}), outside ${org}, and the stack cannot confirm that ${host} authorizes them: receivers send reports only if TXT "v=DMARC1" is published at ${authName}, and ${host} is in no zone this stack manages (RFC 7489 §7.1); check that record exists, then add "${host}" to externalReportDestinations in the dmarc-reporting config, or send the reports to an address under ${org}`,
            urn: dmarc.record.resource.urn,
          });
        }
      }
    }
    return violations;
  },
};

export const DMARC_RULES: AnyRule[] = [dmarcOneRecord, dmarcSyntax, dmarcEnforcement, dmarcReporting];
