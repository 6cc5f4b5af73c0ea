import { isIPv4, isIPv6 } from "node:net";
import { hostname } from "node:os";
import type { ConnectionOptions } from "node:tls";
import { canonicalName } from "../../components/dns/model";
import type { DmarcMode } from "../../components/dns/protocols/dmarc";
import { mtaStsPolicyHost } from "../../components/dns/protocols/mta-sts";
import { parseSpf } from "../../components/dns/protocols/spf";
import type { Plan, PlannedDomain, PlannedRecord } from "../plan/plan";
import { bimiChecks } from "./checks/bimi";
import type { Check } from "./checks/check";
import { check } from "./checks/check";
import { dkimChecks } from "./checks/dkim";
import { dmarcLocationCheck, dmarcRecordChecks, reportAuthorizationCheck, reportAuthorizationNames } from "./checks/dmarc";
import { dnsblCheck, dnsblQueries, dnsblResolverCheck } from "./checks/dnsbl";
import { fcrdnsCheck, mxChecks } from "./checks/mx";
import { checkPlannedRecordSet, plannedValue } from "./checks/records";
import { spfRecordChecks, spfSenderCheck, spfTreeChecks } from "./checks/spf";
import { certificateCheck, mtaStsPolicyCheck, mtaStsRecordCheck, starttlsCheck, tlsRptCheck, type Fetched } from "./checks/tls";
import { limiter, type DnsLookup, type Lookup } from "./dns";
import { fetchMtaStsPolicy, probeSmtp } from "./net";
import { analyzeSpf, evaluateSpf } from "./spf-eval";

/**
 * The verify runs: look up what a domain publishes (dns.ts, net.ts), then hand
 * the answers to the pure checks (checks/*). Stack mode compares with a plan;
 * domain mode judges published records against the standards alone.
 */

export interface VerifyOptions {
  dns: DnsLookup;
  dmarcMode: DmarcMode;
  /** Fetch MTA-STS policies and check MX certificates. */
  tls: boolean;
  timeoutMs: number;
  smtp: {
    /** 25 in real use. */
    port: number;
    /** Connect here instead of the MX host's address (tests: a loopback server). */
    connectTo?: string;
    tlsOptions?: ConnectionOptions;
  };
  /** Where to fetch a domain's MTA-STS policy (tests); the RFC 8461 URL otherwise. */
  policyUrl?: (domain: string) => string;
  /** Check the sending addresses on the DNS blocklists (checks/dnsbl.ts), and warn of a public resolver (`resolverServers`). */
  dnsbl?: boolean;
  /** The resolvers the lookups go through, for the public-resolver warning. */
  resolverServers?: readonly string[];
}

/** SMTP and HTTPS probes in flight at once. */
const PROBE_CONCURRENCY = 8;

export async function verifyPlan(plan: Plan, options: VerifyOptions): Promise<Check[]> {
  const probe = limiter(PROBE_CONCURRENCY);
  const perDomain = await Promise.all(plan.domains.map((d) => verifyPlannedDomain(plan, d, options, probe)));
  return [...resolverWarning(plan.domains[0]?.domain ?? "", options), ...perDomain.flat()];
}

function resolverWarning(domain: string, options: VerifyOptions): Check[] {
  if (!options.dnsbl) return [];
  const warning = dnsblResolverCheck(domain, options.resolverServers ?? []);
  return warning ? [warning] : [];
}

/** Every list's check of an address, when --dnsbl asks for them. */
async function dnsblFor(domain: string, ip: string, options: VerifyOptions): Promise<Check[]> {
  if (!options.dnsbl) return [];
  return Promise.all(dnsblQueries(ip).map(async ({ list, name }) => dnsblCheck(domain, ip, list, await options.dns.a(name))));
}

export async function verifyDomains(domains: string[], selectors: string[], options: VerifyOptions): Promise<Check[]> {
  const probe = limiter(PROBE_CONCURRENCY);
  const perDomain = await Promise.all(domains.map((d) => verifyPublishedDomain(canonicalName(d), selectors, options, probe)));
  return [...resolverWarning(canonicalName(domains[0] ?? ""), options), ...perDomain.flat()];
}

type Probe = <T>(task: () => Promise<T>) => Promise<T>;

function lookupByType(dns: DnsLookup, type: string, name: string): Promise<Lookup<string[]>> {
  switch (type) {
    case "TXT":
      return dns.txt(name);
    case "A":
      return dns.a(name);
    case "AAAA":
      return dns.aaaa(name);
    case "CAA":
      return dns.caa(name);
    case "CNAME":
      return dns.cname(name);
    case "MX":
      return dns.mx(name).then((l) => (l.ok ? { ok: true, value: l.value.map((m) => `${m.priority} ${m.exchange}`) } : l));
    default:
      throw new Error(`verify: no lookup for record type ${type}`);
  }
}

function dkimSelector(name: string): string | undefined {
  const at = name.indexOf("._domainkey.");
  return at > 0 ? name.slice(0, at) : undefined;
}

/** Addresses the plan gives a host name, across every domain of the plan. */
function plannedAddresses(plan: Plan, host: string): string[] {
  return plan.domains.flatMap((d) => d.records).flatMap((r) => ((r.type === "A" || r.type === "AAAA") && r.name === host ? [r.address] : []));
}

/**
 * The addresses the plan says send for `name`: the ip4/ip6 terms' addresses,
 * the planned addresses of `a` hosts and of `mx` hosts. Terms with a macro or
 * a host the plan does not address are left to the live evaluation's own rules.
 */
export function plannedSendingIps(plan: Plan, name: string, spfValue: string): string[] {
  const parsed = parseSpf(spfValue);
  if ("error" in parsed) return [];
  const ips = new Set<string>();
  for (const term of parsed.terms) {
    if (term.kind !== "mechanism" || term.qualifier !== "+") continue;
    if ((term.name === "ip4" || term.name === "ip6") && term.ip) ips.add(term.ip);
    if (term.name === "a" && !term.domain?.includes("%")) for (const ip of plannedAddresses(plan, canonicalName(term.domain ?? name))) ips.add(ip);
    if (term.name === "mx" && !term.domain?.includes("%")) {
      const target = canonicalName(term.domain ?? name);
      const exchanges = plan.domains.flatMap((d) => d.records).flatMap((r) => (r.type === "MX" && r.name === target ? [r.exchange] : []));
      for (const host of exchanges) for (const ip of plannedAddresses(plan, host)) ips.add(ip);
    }
  }
  return [...ips];
}

async function verifyPlannedDomain(plan: Plan, planned: PlannedDomain, options: VerifyOptions, probe: Probe): Promise<Check[]> {
  const { dns } = options;
  const domain = planned.domain;
  const sets = new Map<string, PlannedRecord[]>();
  for (const r of planned.records) sets.set(`${r.type} ${r.name}`, [...(sets.get(`${r.type} ${r.name}`) ?? []), r]);
  const has = (purpose: PlannedRecord["purpose"]) => planned.records.filter((r) => r.purpose === purpose);

  // Every planned record set, DKIM keys on their own terms.
  const recordChecks = Promise.all(
    [...sets.values()].map(async (records) => {
      const { name, type } = records[0];
      const selector = type === "TXT" && records.every((r) => r.purpose === "dkim") ? dkimSelector(name) : undefined;
      if (selector !== undefined) {
        const value = records.length === 1 ? plannedValue(records[0]) : undefined;
        return dkimChecks(domain, selector, await dns.txt(name), value);
      }
      return [checkPlannedRecordSet(domain, name, type, records.map(plannedValue), await lookupByType(dns, type, name))];
    }),
  ).then((c) => c.flat());

  const spf = (async (): Promise<Check[]> => {
    const plannedSpf = has("spf").find((r) => r.name === domain);
    if (!plannedSpf) return [];
    const { checks, value } = spfRecordChecks(domain, await dns.txt(domain));
    if (value === undefined) return checks;
    const tree = spfTreeChecks(domain, await analyzeSpf(domain, dns));
    const senders = await Promise.all(
      plannedSendingIps(plan, domain, plannedValue(plannedSpf)).map(async (ip) => spfSenderCheck(domain, ip, await evaluateSpf(ip, domain, dns))),
    );
    const helo = await Promise.all(
      has("helo-spf").flatMap((r) =>
        // The HELO identity (RFC 7208 §2.3): an empty sender, the HELO name as <domain> and %{h}.
        plannedAddresses(plan, r.name).map(async (ip) => spfSenderCheck(domain, ip, await evaluateSpf(ip, r.name, dns, "", r.name), `spf.helo.${r.name}`)),
      ),
    );
    return [...checks, ...tree, ...senders, ...helo];
  })();

  const dmarc = dmarcChecksFor(domain, options, has("dmarc").length > 0);

  const mx = (async (): Promise<Check[]> => {
    if (!sets.has(`MX ${domain}`)) return [];
    return mxChecks(domain, await dns.mx(domain)).filter((c) => c.id !== "mx.present");
  })();

  const fcrdns = Promise.all(
    [...new Set(has("host-address").map((r) => (r.type === "A" || r.type === "AAAA" ? r.address : "")))].map(async (ip) => {
      const names = has("host-address").filter((r) => (r.type === "A" || r.type === "AAAA") && r.address === ip).map((r) => r.name);
      return [await fcrdnsFor(domain, ip, dns, names), ...(await dnsblFor(domain, ip, options))];
    }),
  ).then((lists) => lists.flat());

  const transport = (async (): Promise<Check[]> => {
    const checks: Check[] = [];
    if (has("mta-sts").length > 0 || plan.mtaStsPolicies[domain] !== undefined) {
      checks.push(mtaStsRecordCheck(domain, await dns.txt(`_mta-sts.${domain}`), true));
      const fetched = options.tls ? await probe(() => fetchPolicy(domain, options)) : undefined;
      checks.push(mtaStsPolicyCheck(domain, fetched, plan.mtaStsPolicies[domain]));
    }
    if (has("tls-rpt").length > 0) checks.push(tlsRptCheck(domain, await dns.txt(`_smtp._tls.${domain}`), true));
    const exchanges = has("mx").flatMap((r) => (r.type === "MX" && r.name === domain ? [r.exchange] : []));
    // Under an enforced MTA-STS policy senders refuse an MX without TLS (RFC 8461 §5); otherwise STARTTLS is optional (RFC 3207).
    const enforced = /^mode:\s*enforce\s*$/m.test(plan.mtaStsPolicies[domain] ?? "");
    const smtp = await Promise.all(exchanges.map((host) => smtpChecks(domain, host, options, probe, enforced)));
    return [...checks, ...smtp.flat()];
  })();

  const bimi = (async (): Promise<Check[]> => {
    if (!has("bimi").some((r) => r.name === `default._bimi.${domain}`)) return [];
    const dmarcTxt = await dns.txt(`_dmarc.${domain}`);
    const dmarcValue = dmarcRecordChecks(domain, options.dmarcMode, dmarcTxt).value;
    return bimiChecks(domain, await dns.txt(`default._bimi.${domain}`), dmarcValue, options.dmarcMode, true);
  })();

  return (await Promise.all([recordChecks, spf, dmarc, mx, fcrdns, transport, bimi])).flat();
}

async function dmarcChecksFor(domain: string, options: VerifyOptions, expected: boolean): Promise<Check[]> {
  const { dns } = options;
  const [apex, record] = await Promise.all([dns.txt(domain), dns.txt(`_dmarc.${domain}`)]);
  const location = dmarcLocationCheck(domain, apex);
  if (!expected && location.status === "pass" && !record.ok) return [];
  const { checks, value } = dmarcRecordChecks(domain, options.dmarcMode, record);
  if (value === undefined) return [location, ...checks];
  const auth = await Promise.all(reportAuthorizationNames(domain, value).map(async (name) => reportAuthorizationCheck(domain, name, await dns.txt(name))));
  return [location, ...checks, ...auth];
}

async function fcrdnsFor(domain: string, ip: string, dns: DnsLookup, expectedNames?: string[]): Promise<Check> {
  const ptr = await dns.ptr(ip);
  const forward = new Map<string, Lookup<string[]>>();
  if (ptr.ok) {
    await Promise.all(ptr.value.map(async (name) => forward.set(name, isIPv4(ip) ? await dns.a(name) : await dns.aaaa(name))));
  }
  return fcrdnsCheck(domain, ip, ptr, forward, expectedNames);
}

async function smtpChecks(domain: string, host: string, options: VerifyOptions, probe: Probe, mtaStsEnforced = false): Promise<Check[]> {
  let address = options.smtp.connectTo;
  if (!address) {
    const [v4, v6] = await Promise.all([options.dns.a(host), options.dns.aaaa(host)]);
    address = (v4.ok ? v4.value[0] : undefined) ?? (v6.ok ? v6.value[0] : undefined);
    if (!address) {
      const why = [v4, v6].map((l) => (l.ok ? "" : l.message)).filter(Boolean).join("; ");
      return [check(`starttls.${host}`, domain, "fail", `MX host ${host} has no address to connect to (${why}); publish its A/AAAA record`)];
    }
  }
  const result = await probe(() =>
    probeSmtp(host, address!, { port: options.smtp.port, timeoutMs: options.timeoutMs, tls: options.tls, ehloName: ehloName(), tlsOptions: options.smtp.tlsOptions }),
  );
  return [starttlsCheck(domain, host, result, mtaStsEnforced), certificateCheck(domain, host, result, options.tls)];
}

function ehloName(): string {
  const name = canonicalName(hostname());
  return name.includes(".") ? name : `${name || "localhost"}.invalid`;
}

/**
 * Fetch the domain's policy as a sender does: mta-sts.<domain> resolved
 * through verify's own resolver (a --dns-server is asked for this too), then
 * HTTPS to that address with the name as SNI, Host and certificate identity.
 */
async function fetchPolicy(domain: string, options: VerifyOptions): Promise<Fetched> {
  if (options.policyUrl) return fetchMtaStsPolicy(domain, { timeoutMs: options.timeoutMs, url: options.policyUrl(domain) });
  const name = mtaStsPolicyHost(domain);
  const v4 = await options.dns.a(name);
  const addresses = v4.ok && v4.value.length > 0 ? v4.value : await options.dns.aaaa(name).then((v6) => (v6.ok ? v6.value : []));
  if (addresses.length === 0) {
    return { ok: false, message: `${name} has no address (${v4.ok ? "no A or AAAA record" : v4.message}) through ${options.dns.where}; publish one where the policy is served` };
  }
  return fetchMtaStsPolicy(domain, { timeoutMs: options.timeoutMs, address: addresses[0] });
}

async function verifyPublishedDomain(domain: string, selectors: string[], options: VerifyOptions, probe: Probe): Promise<Check[]> {
  const { dns } = options;
  const spf = (async (): Promise<Check[]> => {
    const { checks, value } = spfRecordChecks(domain, await dns.txt(domain));
    return value === undefined ? checks : [...checks, ...spfTreeChecks(domain, await analyzeSpf(domain, dns))];
  })();
  const dkim = Promise.all(selectors.map(async (s) => dkimChecks(domain, s, await dns.txt(`${s}._domainkey.${domain}`), undefined, { askedByName: true }))).then((c) => c.flat());
  const dmarc = dmarcChecksFor(domain, options, true);
  // Independent questions are asked together, so a dead resolver costs one timeout, not a chain of them.
  const transport = (async (): Promise<Check[]> => {
    const [sts, rpt] = await Promise.all([dns.txt(`_mta-sts.${domain}`), dns.txt(`_smtp._tls.${domain}`)]);
    const record = mtaStsRecordCheck(domain, sts, false);
    const checks = [record];
    if (options.tls && record.status !== "warn") checks.push(mtaStsPolicyCheck(domain, await probe(() => fetchPolicy(domain, options))));
    checks.push(tlsRptCheck(domain, rpt, false));
    return checks;
  })();
  const bimi = (async (): Promise<Check[]> => {
    const [dmarcTxt, bimiTxt] = await Promise.all([dns.txt(`_dmarc.${domain}`), dns.txt(`default._bimi.${domain}`)]);
    const dmarcValue = dmarcRecordChecks(domain, options.dmarcMode, dmarcTxt).value;
    return bimiChecks(domain, bimiTxt, dmarcValue, options.dmarcMode, false);
  })();
  const mx = (async (): Promise<Check[]> => {
    const answer = await dns.mx(domain);
    const checks = mxChecks(domain, answer);
    const hosts = answer.ok ? answer.value.map((m) => m.exchange).filter((h) => h !== ".") : [];
    const ips = new Set<string>();
    for (const host of hosts) {
      const [v4, v6] = await Promise.all([dns.a(host), dns.aaaa(host)]);
      for (const l of [v4, v6]) if (l.ok) for (const ip of l.value) if (isIPv4(ip) || isIPv6(ip)) ips.add(ip);
      if (!v4.ok && !v6.ok) checks.push(check(`mx.address.${host}`, domain, "fail", `MX host ${host} has no A/AAAA record (${v4.message}); senders cannot deliver to it`));
    }
    const fcrdns = await Promise.all([...ips].map((ip) => fcrdnsFor(domain, ip, dns)));
    const dnsbl = (await Promise.all([...ips].map((ip) => dnsblFor(domain, ip, options)))).flat();
    return [...checks, ...fcrdns, ...dnsbl];
  })();
  return (await Promise.all([spf, dkim, dmarc, transport, bimi, mx])).flat();
}
