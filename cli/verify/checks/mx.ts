import type { MxRecord } from "../../../components/dns/model";
import { checkMxSet } from "../../../components/dns/protocols/mx";
import type { Lookup, MxAnswer } from "../dns";
import { check, fromFindings, isEmpty, unanswered, type Check } from "./check";

/** `mx.present` and `mx.valid` (checkMxSet on the published set). */
export function mxChecks(domain: string, answer: Lookup<MxAnswer[]>): Check[] {
  if (!answer.ok && !isEmpty(answer)) return [unanswered("mx.present", domain, answer)];
  if (!answer.ok) {
    return [check("mx.present", domain, "warn", `no MX at ${domain}: senders fall back to its A/AAAA records (RFC 5321 §5.1); publish MX hosts, or a null MX ("0 .") if it receives no mail`)];
  }
  const records: MxRecord[] = answer.value.map((m) => ({ name: domain, type: "MX", ttl: 0, purpose: "mx", priority: m.priority, exchange: m.exchange }));
  const isNull = answer.value.length === 1 && answer.value[0].exchange === ".";
  return [
    check("mx.present", domain, "pass", isNull ? `null MX at ${domain}: it receives no mail (RFC 7505)` : `MX ${answer.value.map((m) => `${m.priority} ${m.exchange}`).join(", ")}`),
    fromFindings("mx.valid", domain, checkMxSet(records), "MX set is valid"),
  ];
}

/**
 * `fcrdns.<ip>`: the IP's PTR names must resolve back to it (RFC 8601 iprev;
 * Gmail requires it). `forward` holds the A/AAAA answer for each PTR name.
 * With `expectedNames`, a PTR that round-trips but names another host warns:
 * EHLO should match the PTR name.
 */
export function fcrdnsCheck(domain: string, ip: string, ptr: Lookup<string[]>, forward: ReadonlyMap<string, Lookup<string[]>>, expectedNames?: readonly string[]): Check {
  const id = `fcrdns.${ip}`;
  if (!ptr.ok && !isEmpty(ptr)) return unanswered(id, domain, ptr);
  if (!ptr.ok || ptr.value.length === 0) {
    return check(id, domain, "fail", `${ip} has no PTR record: Gmail and others refuse mail from it (550-5.7.25); ask the address's owner to set PTR to ${expectedNames?.[0] ?? "the sending host's name"}`);
  }
  const confirmed: string[] = [];
  const notes: string[] = [];
  for (const name of ptr.value) {
    const f = forward.get(name);
    if (!f) notes.push(`${name} not looked up`);
    else if (f.ok && f.value.includes(ip)) confirmed.push(name);
    else if (f.ok) notes.push(`PTR ${name} resolves to ${f.value.join(", ")}, not ${ip}`);
    else notes.push(isEmpty(f) ? `PTR ${name} has no address record` : f.message);
  }
  if (confirmed.length === 0) {
    return check(id, domain, "fail", `${ip} fails forward-confirmed reverse DNS: ${notes.join("; ")}; set the PTR to a name whose A/AAAA holds ${ip}`);
  }
  if (expectedNames && expectedNames.length > 0 && !confirmed.some((n) => expectedNames.includes(n))) {
    return check(id, domain, "warn", `${ip} → ${confirmed.join(", ")} → ${ip} is forward-confirmed, but the plan names it ${expectedNames.join(", ")}; EHLO should match the PTR name`);
  }
  return check(id, domain, "pass", `${ip} → ${confirmed.join(", ")} → ${ip}`);
}
