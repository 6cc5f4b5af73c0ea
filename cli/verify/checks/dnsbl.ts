import { DNSBLS, dnsblQueryName, isPublicResolver, judgeDnsblAnswer, type Dnsbl } from "../../../components/sending/dnsbl";
import type { Lookup } from "../dns";
import { check, type Check } from "./check";

/**
 * verify --dnsbl: a sending address on the blocklists receivers consult
 * (components/sending/dnsbl.ts). Listed is a failure; a list's own "cannot
 * tell" (a public resolver, a quota, no answer) is a warning, never a pass.
 */

/** One list's check of one address, from the A lookup of its query name. */
export function dnsblCheck(domain: string, ip: string, list: Dnsbl, answer: Lookup<string[]>): Check {
  const verdict = judgeDnsblAnswer(
    list,
    answer.ok ? { addresses: answer.value } : answer.failure === "nxdomain" || answer.failure === "nodata" ? { nxdomain: true } : { failure: answer.message },
  );
  const id = `dnsbl.${list.zone}.${ip}`;
  if (verdict.state === "clear") return check(id, domain, "pass", `${ip} is not listed on ${list.name} (${list.zone})`);
  if (verdict.state === "listed") {
    return check(id, domain, "fail", `${ip} is listed on ${list.name} (${list.zone}): ${verdict.detail}; receivers that consult it refuse or junk this address's mail; find the cause (the list's lookup page names it), fix it, then request delisting`);
  }
  return check(id, domain, "warn", `${ip} on ${list.name} (${list.zone}): ${verdict.detail}`);
}

/** The lists to ask for an address, with each query name (IPv4 only: the lists checked publish no IPv6 zone of the same kind). */
export function dnsblQueries(ip: string): { list: Dnsbl; name: string }[] {
  return DNSBLS.flatMap((list) => {
    const name = dnsblQueryName(ip, list.zone);
    return name ? [{ list, name }] : [];
  });
}

/** A warning when the resolver verify asks through is a public one: the lists' answers through it say little. */
export function dnsblResolverCheck(domain: string, servers: readonly string[]): Check | undefined {
  const public_ = servers.filter(isPublicResolver);
  if (public_.length === 0) return undefined;
  return check(
    "dnsbl.resolver",
    domain,
    "warn",
    `the blocklist checks go through public resolver ${public_.join(", ")}: Spamhaus refuses such queries (127.255.255.254) and others ration them, so their answers cannot be trusted; run verify with --resolver set to a resolver of your own`,
  );
}
