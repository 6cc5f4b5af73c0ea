import { SPF_LOOKUP_LIMIT, checkSpf, checkSpfRecordSet, isSpfValue } from "../../../components/dns/protocols/spf";
import type { Lookup } from "../dns";
import { SPF_VOID_LOOKUP_LIMIT, type SpfAnalysis, type SpfEvaluation } from "../spf-eval";
import { check, fromFindings, isEmpty, unanswered, type Check } from "./check";

/**
 * SPF checks from looked-up data: the record set (exactly one), the value
 * (checkSpf), the live tree (lookup and void-lookup counts, include and
 * redirect targets), and one evaluation per sending IP.
 */

/** `spf.record` and `spf.valid`: the record set at the domain and the value's rules. Returns the value when there is one. */
export function spfRecordChecks(domain: string, txt: Lookup<string[]>): { checks: Check[]; value?: string } {
  if (!txt.ok && !isEmpty(txt)) return { checks: [unanswered("spf.record", domain, txt)] };
  const values = txt.ok ? txt.value : [];
  const spf = values.filter(isSpfValue);
  if (spf.length === 0) {
    return { checks: [check("spf.record", domain, "fail", `no SPF record ("v=spf1 ...") at ${domain}: receivers get SPF none; publish one ending in -all or ~all`)] };
  }
  const multiple = checkSpfRecordSet(values);
  if (multiple.length > 0) return { checks: [fromFindings("spf.record", domain, multiple, "")] };
  // The live walk counts lookups exactly; checkSpf's static estimate would only repeat it.
  const findings = checkSpf(spf[0]).filter((f) => !f.code.startsWith("spf.lookups."));
  return {
    value: spf[0],
    checks: [check("spf.record", domain, "pass", `one SPF record at ${domain}`), fromFindings("spf.valid", domain, findings, `SPF record "${spf[0]}" is valid`)],
  };
}

/** `spf.lookups`, `spf.void-lookups` and `spf.includes` from the walk of the whole tree. */
export function spfTreeChecks(domain: string, analysis: SpfAnalysis): Check[] {
  const lowerBound = analysis.unanswered.length > 0 ? ` (at least: ${analysis.unanswered.join("; ")})` : "";
  const lookups =
    analysis.lookups > SPF_LOOKUP_LIMIT
      ? check(
          "spf.lookups",
          domain,
          "fail",
          `SPF needs ${analysis.lookups} DNS lookups in the worst case through ${analysis.visited.join(" → ")}; RFC 7208 §4.6.4 allows ${SPF_LOOKUP_LIMIT}, beyond which receivers return permerror. Flatten includes into ip4/ip6 or remove senders`,
        )
      : analysis.unanswered.length > 0
        ? check("spf.lookups", domain, "fail", `SPF lookups could not be counted: ${analysis.unanswered.join("; ")}`)
        : check("spf.lookups", domain, "pass", `SPF needs ${analysis.lookups} of ${SPF_LOOKUP_LIMIT} DNS lookups in the worst case`);
  const voids =
    analysis.voidLookups > SPF_VOID_LOOKUP_LIMIT
      ? check(
          "spf.void-lookups",
          domain,
          "fail",
          `SPF makes ${analysis.voidLookups} void lookups (names with no answer); RFC 7208 §4.6.4 allows ${SPF_VOID_LOOKUP_LIMIT} before permerror. Remove terms pointing at names that do not exist`,
        )
      : check("spf.void-lookups", domain, "pass", `${analysis.voidLookups} of ${SPF_VOID_LOOKUP_LIMIT} void lookups${lowerBound}`);
  const includes =
    analysis.problems.length > 0
      ? check("spf.includes", domain, "fail", analysis.problems.join("; "))
      : analysis.unanswered.length > 0
        ? // Not known to be valid is not valid: a receiver asking the same gets temperror.
          check("spf.includes", domain, "fail", `some include or redirect target could not be read, so receivers may get temperror: ${analysis.unanswered.join("; ")}`)
        : check("spf.includes", domain, "pass", `every include and redirect target publishes valid SPF (${analysis.visited.length} record${analysis.visited.length === 1 ? "" : "s"} read)`);
  return [lookups, voids, includes];
}

/**
 * `spf.pass.<ip>`: a planned sending address must pass the domain's SPF.
 * `idPrefix` names other evaluations, e.g. "spf.helo.mx1.example.com" for a HELO host's own record.
 */
export function spfSenderCheck(domain: string, ip: string, evaluation: SpfEvaluation, idPrefix = "spf.pass"): Check {
  const id = `${idPrefix}.${ip}`;
  if (evaluation.result === "pass") return check(id, domain, "pass", `${ip} passes SPF: ${evaluation.reason} (${evaluation.lookups} lookups)`);
  return check(id, domain, "fail", `${ip} gets SPF ${evaluation.result}, not pass: ${evaluation.reason}; mail it sends fails SPF`);
}
