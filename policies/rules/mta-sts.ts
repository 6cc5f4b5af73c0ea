import { quote } from "./text";
import {
  MTA_STS_MAX_AGE_LIMIT,
  checkMtaStsPolicy,
  checkMtaStsRecord,
  checkMtaStsRecordSet,
  checkTlsRpt,
  mtaStsPolicyId,
  mxPatternMatches,
} from "../../components/dns/protocols";
import { canonicalName } from "../../components/dns/model";
import { isUnknown } from "../model/resources";
import type { ViewRecord } from "../model/view";
import type { AnyRule, Rule, Violation } from "./rule";



/** TXT records under `<prefix>.<domain>` with known values, by domain. */
function txtUnder(records: ViewRecord[], prefix: string): Map<string, ViewRecord[]> {
  const out = new Map<string, ViewRecord[]>();
  for (const r of records) {
    if (r.type !== "TXT" || r.value === undefined || !r.name.startsWith(`${prefix}.`)) continue;
    const domain = r.name.slice(prefix.length + 1);
    out.set(domain, [...(out.get(domain) ?? []), r]);
  }
  return out;
}

/** The fields of a policy file that the consistency checks read (checkMtaStsPolicy judges the file itself). */
function policyFields(text: string): { mode?: string; mx: string[]; maxAge?: number } {
  const mx: string[] = [];
  let mode: string | undefined;
  let maxAge: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_.-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) continue;
    if (m[1] === "mx") mx.push(m[2]);
    else if (m[1] === "mode" && mode === undefined) mode = m[2];
    else if (m[1] === "max_age" && maxAge === undefined && /^[0-9]{1,10}$/.test(m[2])) maxAge = Number(m[2]);
  }
  return { mode, mx, maxAge };
}

export interface MtaStsConsistentConfig {
  minMaxAge: number;
}

export const mtaStsConsistent: Rule<MtaStsConsistentConfig> = {
  name: "mta-sts-consistent",
  group: "MTA-STS and TLS-RPT",
  profile: "baseline",
  description:
    "Every _mta-sts record is valid and matches the policy the stack serves: the policy is valid, the record's id is the policy's id, every MX host matches an mx pattern, and max_age is at least a day and at most a year.",
  enforcementLevel: "advisory",
  severity: "medium",
  source: "RFC 8461 §3.1, §3.2 and §4.1",
  config: {
    minMaxAge: {
      type: "integer",
      minimum: 0,
      maximum: MTA_STS_MAX_AGE_LIMIT,
      default: 86400,
      description: `Shortest max_age (seconds) a policy may have; a short one lets an attacker who blocks the policy fetch strip TLS sooner. At most ${MTA_STS_MAX_AGE_LIMIT} (one year, the RFC limit).`,
    },
  },
  check(view, config) {
    const violations: Violation[] = [];
    const mailDomains = new Map(view.mailDomains.map((d) => [d.domain, d]));
    for (const [domain, records] of [...txtUnder(view.records, "_mta-sts")].sort(([a], [b]) => a.localeCompare(b))) {
      const name = `_mta-sts.${domain}`;
      for (const f of checkMtaStsRecordSet(records.map((r) => r.value!))) {
        violations.push({ message: `${domain}: ${name} (${records.map((r) => `TXT ${quote(r.value!)}`).join(", ")}): ${f.message}`, urn: records[1].resource.urn });
      }
      const valid: { record: ViewRecord; id: string }[] = [];
      for (const r of records) {
        const errors = checkMtaStsRecord(r.value!).filter((f) => f.severity === "error");
        for (const f of errors) violations.push({ message: `${domain}: MTA-STS record ${name} ${quote(r.value!)}: ${f.message}`, urn: r.resource.urn });
        if (errors.length === 0) valid.push({ record: r, id: /(?:^|;)[ \t]*id=([A-Za-z0-9]+)/.exec(r.value!)![1] });
      }

      const mailDomain = mailDomains.get(canonicalName(domain));
      if (mailDomain && isUnknown(mailDomain.resource.props.mtaStsPolicy)) continue;
      const policy = mailDomain?.mtaStsPolicy;
      const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
      if (policy === undefined) {
        violations.push({
          message: `${domain}: MTA-STS record ${name} ${quote(records[0].value!)} announces a policy, but the stack has no MTA-STS policy text for ${domain} to check it against (${mailDomain ? "its MailDomain serves none" : "no MailDomain of this stack serves it"}); give ${domain} mtaSts in the stack config so Postforge serves ${url}, or remove the record if nothing serves a policy there`,
          urn: records[0].resource.urn,
        });
        continue;
      }
      const policyUrn = mailDomain!.resource.urn;
      for (const f of checkMtaStsPolicy(policy)) {
        if (f.severity === "error") violations.push({ message: `${domain}: MTA-STS policy ${url} served by the stack: ${f.message}`, urn: policyUrn });
      }
      const expected = mtaStsPolicyId(policy);
      if (valid.length === 1 && valid[0].id !== expected) {
        violations.push({
          message: `${domain}: MTA-STS record ${name} ${quote(valid[0].record.value!)} has id=${valid[0].id}, but the policy the stack serves at ${url} has id ${expected}, so senders that cached an older policy do not refetch it; publish "v=STSv1; id=${expected}" at ${name}`,
          urn: valid[0].record.resource.urn,
        });
      }
      const fields = policyFields(policy);
      const mx = view.recordsAt(domain, "MX");
      if (fields.mode !== "none" && fields.mx.length > 0 && !mx.some((r) => r.value === undefined)) {
        for (const r of mx) {
          const host = canonicalName(r.value!.split(" ")[1] ?? "");
          if (host === "" || host === "." || fields.mx.some((pattern) => mxPatternMatches(pattern, host))) continue;
          violations.push({
            message: `${domain}: MX ${quote(r.value!)} names ${host}, which matches no mx of the MTA-STS policy at ${url} (${fields.mx.map((p) => `"mx: ${p}"`).join(", ")}; record ${name} ${quote(records[0].value!)}), so senders treat delivery to it as a policy failure${fields.mode === "enforce" ? " and refuse it" : ""}; add "${host}" to mtaSts mx for ${domain}`,
            urn: policyUrn,
          });
        }
      }
      if (fields.maxAge !== undefined && fields.maxAge < config.minMaxAge) {
        violations.push({
          message: `${domain}: the MTA-STS policy at ${url} (record ${name} ${quote(records[0].value!)}) has max_age ${fields.maxAge}, under the ${config.minMaxAge} seconds this stack requires: senders drop the cached policy so soon that an attacker who blocks the fetch can strip TLS; raise mtaSts maxAge to at least ${config.minMaxAge} (RFC 8461 §3.2 recommends weeks, e.g. 604800)`,
          urn: policyUrn,
        });
      }
    }
    return violations;
  },
};

export const tlsRptUris: Rule = {
  name: "tls-rpt-uris",
  group: "MTA-STS and TLS-RPT",
  profile: "baseline",
  description: "Every TLS-RPT record (_smtp._tls.<domain>) starts with v=TLSRPTv1 and has one rua= of valid mailto: or https: URIs.",
  enforcementLevel: "advisory",
  severity: "low",
  source: "RFC 8460 §3",
  check(view) {
    const violations: Violation[] = [];
    for (const [domain, records] of [...txtUnder(view.records, "_smtp._tls")].sort(([a], [b]) => a.localeCompare(b))) {
      for (const r of records) {
        for (const f of checkTlsRpt(r.value!)) {
          if (f.severity === "error") violations.push({ message: `${domain}: TLS-RPT record ${r.name} ${quote(r.value!)}: ${f.message}`, urn: r.resource.urn });
        }
      }
    }
    return violations;
  },
};

export const MTA_STS_RULES: AnyRule[] = [mtaStsConsistent, tlsRptUris];
