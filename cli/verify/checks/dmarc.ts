import {
  checkDmarc,
  checkDmarcLocation,
  checkDmarcRecordSet,
  isDmarcValue,
  parseDmarc,
  reportAuthorizationRecords,
  type DmarcIntent,
  type DmarcMode,
  type DmarcPolicy,
} from "../../../components/dns/protocols/dmarc";
import type { Lookup } from "../dns";
import { check, fromFindings, isEmpty, unanswered, type Check } from "./check";

/**
 * DMARC checks: location (no record at the apex, exactly one at _dmarc),
 * the value under the mode's rules (checkDmarc, lenient as for any published
 * value), and the report authorization every external destination needs.
 */

/** `dmarc.location`: a DMARC record at the apex has no effect. */
export function dmarcLocationCheck(domain: string, apexTxt: Lookup<string[]>): Check {
  if (!apexTxt.ok && !isEmpty(apexTxt)) return unanswered("dmarc.location", domain, apexTxt);
  const findings = (apexTxt.ok ? apexTxt.value : []).flatMap((v) => checkDmarcLocation(domain, v));
  return fromFindings("dmarc.location", domain, findings, `no DMARC record at the apex ${domain}`);
}

/** `dmarc.record` and `dmarc.valid`; returns the value when exactly one record is published. */
export function dmarcRecordChecks(domain: string, mode: DmarcMode, dmarcTxt: Lookup<string[]>): { checks: Check[]; value?: string } {
  const name = `_dmarc.${domain}`;
  if (!dmarcTxt.ok && !isEmpty(dmarcTxt)) return { checks: [unanswered("dmarc.record", domain, dmarcTxt)] };
  const values = (dmarcTxt.ok ? dmarcTxt.value : []).filter(isDmarcValue);
  if (values.length === 0) {
    return { checks: [check("dmarc.record", domain, "fail", `no DMARC record at ${name}; publish "v=DMARC1; p=none; rua=mailto:..." there at least`)] };
  }
  const multiple = checkDmarcRecordSet(values);
  if (multiple.length > 0) return { checks: [fromFindings("dmarc.record", domain, multiple, "")] };
  return {
    value: values[0],
    checks: [
      check("dmarc.record", domain, "pass", `one DMARC record at ${name}`),
      fromFindings("dmarc.valid", domain, checkDmarc(values[0], mode), `DMARC record "${values[0]}" is valid under ${mode}`),
    ],
  };
}

/** The policy tags of a published DMARC value as an intent (for BIMI eligibility and report authorizations). */
export function dmarcIntentOf(value: string): DmarcIntent | undefined {
  const parsed = parseDmarc(value);
  if ("error" in parsed) return undefined;
  const get = (key: string) => parsed.tags.find((t) => t.key === key)?.value;
  const policy = (v: string | undefined) => (v && ["none", "quarantine", "reject"].includes(v.toLowerCase()) ? (v.toLowerCase() as DmarcPolicy) : undefined);
  const uris = (v: string | undefined) => (v ? v.split(",").map((u) => u.trim()).filter(Boolean) : undefined);
  const pct = get("pct");
  return {
    p: policy(get("p")) ?? "none",
    sp: policy(get("sp")),
    t: get("t") === "y" ? true : undefined,
    pct: pct !== undefined && /^[0-9]+$/.test(pct) ? Number(pct) : undefined,
    rua: uris(get("rua")),
    ruf: uris(get("ruf")),
  };
}

/** Names that must hold "v=DMARC1" so external rua/ruf destinations get reports (RFC 7489 §7.1, RFC 9990). */
export function reportAuthorizationNames(domain: string, dmarcValue: string): string[] {
  const intent = dmarcIntentOf(dmarcValue);
  return intent ? reportAuthorizationRecords(domain, intent, 0).map((r) => r.name) : [];
}

/** `dmarc.report-auth.<destination host>` for one authorization name. */
export function reportAuthorizationCheck(domain: string, name: string, answer: Lookup<string[]>): Check {
  const host = name.slice(name.indexOf("._report._dmarc.") + "._report._dmarc.".length);
  const id = `dmarc.report-auth.${host}`;
  if (!answer.ok && !isEmpty(answer)) return unanswered(id, domain, answer);
  if (answer.ok && answer.value.some(isDmarcValue)) return check(id, domain, "pass", `${host} authorizes DMARC reports for ${domain} (${name})`);
  return check(
    id,
    domain,
    "fail",
    `DMARC reports for ${domain} go to ${host}, which does not authorize them: no "v=DMARC1" TXT at ${name}, so receivers send no reports there (RFC 7489 §7.1); publish it in ${host}'s zone`,
  );
}
