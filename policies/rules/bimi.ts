import { checkBimi, organizationalDomain } from "../../components/dns/protocols";
import type { AnyRule, Rule, Violation } from "./rule";
import { dmarcInForce } from "./dmarc-support";
import { quote } from "./text";

/** checkBimi codes after which the record is not a BIMI assertion receivers act on. */
const NOT_AN_ASSERTION = new Set(["bimi.syntax.invalid", "bimi.version", "bimi.declined"]);

export const bimiRequiresEnforcement: Rule = {
  name: "bimi-requires-enforcement",
  group: "BIMI",
  profile: "baseline",
  description:
    "Every BIMI record is valid, and one that shows a logo (not a declination) sits under DMARC enforcement: the domain's DMARC (else its organizational domain's sp) at quarantine or reject, sp not none, no t=y.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "draft-brand-indicators-for-message-identification §4 and \"Authentication Requirements\"; RFC 9989 §4.7 (t)",
  check(view) {
    const violations: Violation[] = [];
    for (const r of view.records) {
      if (r.type !== "TXT" || r.value === undefined) continue;
      const labels = r.name.split(".");
      const at = labels.indexOf("_bimi");
      if (at < 1 || at === labels.length - 1) continue;
      const domain = labels.slice(at + 1).join(".");
      const record = `${r.name} ${quote(r.value)}`;
      const findings = checkBimi(r.value);
      for (const f of findings) {
        if (f.severity === "error") violations.push({ message: `${domain}: BIMI record ${record}: ${f.message}`, urn: r.resource.urn });
      }
      if (findings.some((f) => NOT_AN_ASSERTION.has(f.code))) continue;

      const dmarc = dmarcInForce(view, domain);
      if (dmarc === "skip") continue;
      if (dmarc === undefined) {
        // A sending domain without DMARC is dmarc-one-record's to report.
        if (view.sendingDomains.includes(domain)) continue;
        const org = organizationalDomain(domain);
        violations.push({
          message: `${domain}: BIMI record ${record} shows a logo, but there is no DMARC record at _dmarc.${domain}${org !== domain ? ` nor at _dmarc.${org}` : ""}, so receivers show none; publish DMARC with p=quarantine or p=reject at _dmarc.${domain}, or remove the BIMI record`,
          urn: r.resource.urn,
        });
        continue;
      }
      const { tags, inherited } = dmarc;
      const problems: string[] = [];
      const fixes: string[] = [];
      const p = tags.get("p")!.toLowerCase();
      const sp = tags.get("sp")?.toLowerCase();
      if (inherited) {
        if ((sp ?? p) === "none") {
          problems.push(sp === undefined ? "has p=none and no sp, so subdomains get none" : "has sp=none");
          fixes.push(sp === undefined ? "set sp=quarantine or sp=reject" : "set sp to quarantine or reject");
        }
      } else {
        if (p === "none") {
          problems.push("has p=none");
          fixes.push("set p=quarantine or p=reject");
        }
        if (sp === "none") {
          problems.push("has sp=none");
          fixes.push("set sp to quarantine or reject (or remove sp)");
        }
      }
      if (tags.get("t") === "y") {
        problems.push("has t=y (testing: receivers apply one level less)");
        fixes.push("remove t=y");
      }
      if (problems.length === 0) continue;
      const which = inherited ? `the organizational domain's DMARC record` : `its DMARC record`;
      violations.push({
        message: `${domain}: BIMI record ${record} needs DMARC enforcement, but ${which} ${dmarc.record.name} ${quote(dmarc.record.value!)} ${problems.join(" and ")}, so receivers show no logo; ${fixes.join(" and ")} in ${dmarc.record.name}, or remove the BIMI record`,
        urn: r.resource.urn,
      });
    }
    return violations;
  },
};

export const BIMI_RULES: AnyRule[] = [bimiRequiresEnforcement];
