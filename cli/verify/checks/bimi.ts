import { checkBimi, checkBimiDmarcEligibility } from "../../../components/dns/protocols/bimi";
import type { DmarcMode } from "../../../components/dns/protocols/dmarc";
import type { Lookup } from "../dns";
import { check, fromFindings, isEmpty, unanswered, type Check } from "./check";
import { dmarcIntentOf } from "./dmarc";

/**
 * `bimi.valid` (checkBimi on default._bimi) and `bimi.dmarc` (the published
 * DMARC policy must allow a logo). No record is a pass unless the plan has one.
 */
export function bimiChecks(domain: string, answer: Lookup<string[]>, dmarcValue: string | undefined, mode: DmarcMode, required: boolean): Check[] {
  const name = `default._bimi.${domain}`;
  if (!answer.ok && !isEmpty(answer)) return [unanswered("bimi.valid", domain, answer)];
  const values = (answer.ok ? answer.value : []).filter((v) => /^v=BIMI1/i.test(v));
  if (values.length === 0) {
    return [check("bimi.valid", domain, required ? "fail" : "pass", required ? `no BIMI record at ${name}; publish the planned one` : `no BIMI record at ${name} (optional)`)];
  }
  if (values.length > 1) return [check("bimi.valid", domain, "fail", `${values.length} BIMI records at ${name}; keep exactly one`)];
  const checks = [fromFindings("bimi.valid", domain, checkBimi(values[0]), `BIMI record at ${name} is valid`)];
  const intent = dmarcValue === undefined ? undefined : dmarcIntentOf(dmarcValue);
  checks.push(
    intent
      ? fromFindings("bimi.dmarc", domain, checkBimiDmarcEligibility(intent, mode), `DMARC policy p=${intent.p} allows a BIMI logo`)
      : check("bimi.dmarc", domain, "fail", `BIMI needs an enforced DMARC policy at _dmarc.${domain}, and there is no valid one`),
  );
  return checks;
}
