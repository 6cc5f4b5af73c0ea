import { checkDkim } from "../../../components/dns/protocols/dkim";
import { DKIM_KEY_PLACEHOLDER } from "../../../components/captured-resource";
import type { Lookup } from "../dns";
import { check, fromFindings, isEmpty, type Check } from "./check";

/**
 * DKIM key records: `dkim.<selector>.present` (published, and equal to the
 * plan where the plan knows the key) and `dkim.<selector>.valid` (the
 * protocol module's checkDkim on the published value). Keys generated at
 * deploy show as a placeholder in the plan: for those only the tags before
 * p= are compared, and the key itself is judged by checkDkim.
 */
export function dkimChecks(domain: string, selector: string, observed: Lookup<string[]>, plannedValue?: string, options: { askedByName?: boolean } = {}): Check[] {
  const name = `${selector}._domainkey.${domain}`;
  const present = `dkim.${selector}.present`;
  const valid = `dkim.${selector}.valid`;
  if (!observed.ok) {
    const why = isEmpty(observed) ? `no DKIM key record at ${name}: signatures with selector "${selector}" fail; publish the key (pulumi up)` : observed.message;
    return [check(present, domain, "fail", why)];
  }
  const keys = observed.value.filter((v) => /^\s*v\s*=\s*DKIM1\b/.test(v) || /(^|;)\s*[kp]\s*=/.test(v));
  if (keys.length === 0) return [check(present, domain, "fail", `TXT at ${name} holds no DKIM key record (${observed.value.map((v) => JSON.stringify(v)).join(", ")})`)];
  if (keys.length > 1) {
    return [check(present, domain, "fail", `${keys.length} DKIM key records at ${name}; receivers pick one and fail signatures made with the others; keep one key per selector`)];
  }
  const value = keys[0];
  const checks: Check[] = [];
  if (plannedValue === undefined) {
    checks.push(check(present, domain, "pass", `DKIM key record at ${name}`));
  } else if (plannedValue.includes(DKIM_KEY_PLACEHOLDER)) {
    const prefix = (v: string) => v.slice(0, v.search(/p\s*=/)).replace(/\s+/g, "");
    checks.push(
      prefix(value) === prefix(plannedValue)
        ? check(present, domain, "pass", `DKIM key record at ${name} (key generated at deploy, so only its tags are compared)`)
        : check(present, domain, "fail", `DKIM record at ${name} starts "${value.slice(0, 40)}", the plan "${plannedValue.slice(0, plannedValue.indexOf("p="))}"; the key type or flags differ from the plan`),
    );
  } else {
    checks.push(
      value === plannedValue
        ? check(present, domain, "pass", `DKIM key record at ${name} as planned`)
        : check(present, domain, "fail", `DKIM record at ${name} differs from the plan; run pulumi up to publish the planned key`),
    );
  }
  // A selector asked for by name is expected to sign: revoked (p= empty) is never a pass for it.
  if (options.askedByName && /(?:^|;)\s*p\s*=\s*(?:;|$)/.test(value)) {
    checks.push(check(valid, domain, "fail", `the DKIM key at ${name} is revoked (empty p=): signatures with selector "${selector}" fail at every receiver (RFC 6376 §3.6.1); publish its key, or sign with another selector`));
    return checks;
  }
  checks.push(fromFindings(valid, domain, checkDkim(value), `DKIM key record at ${name} is valid`));
  return checks;
}
