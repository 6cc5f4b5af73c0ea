import { checkSpf } from "../../components/dns/protocols";
import type { StackView, ViewRecord } from "../model/view";
import type { Rule, Violation } from "./rule";

/** Each SPF record in the stack (a TXT starting `v=spf1`), once. */
function spfRecords(view: StackView): ViewRecord[] {
  return view.records.filter((r) => r.type === "TXT" && r.value !== undefined && /^v=spf1(\s|$)/i.test(r.value));
}

const quote = (value: string) => (value.length > 100 ? `"${value.slice(0, 97)}..."` : `"${value}"`);

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
    const names = new Set([...view.sendingDomains, ...spfRecords(view).map((r) => r.name)]);
    for (const name of [...names].sort()) {
      const spf = view.spfAt(name);
      if (spf.length > 1) {
        violations.push({
          message: `${name}: ${spf.length} SPF records (${spf.map((r) => `TXT ${quote(r.value!)}`).join(", ")}); receivers return permerror and SPF fails for all its mail (RFC 7208 §4.5); merge them into one record`,
          urn: spf[1].resource.urn,
        });
      } else if (spf.length === 0 && view.sendingDomains.includes(name) && !view.hasUnknownTxt(name)) {
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

export const SPF_RULES = [spfOneRecord, spfAllQualifier];
