import { BlockList, isIPv4, isIPv6 } from "node:net";
import { canonicalName } from "../../components/dns/model";
import {
  SPF_LOOKUP_LIMIT,
  checkSpfRecordSet,
  isSpfValue,
  parseSpf,
  type SpfMechanism,
  type SpfModifier,
  type SpfTerm,
} from "../../components/dns/protocols/spf";
import type { DnsLookup, Lookup } from "./dns";

/**
 * A small SPF evaluator over live DNS (RFC 7208 §4-§6), built on the protocol
 * module's parser: `evaluateSpf` runs check_host() for one IP the way a
 * receiver does (stopping at the first match), and `analyzeSpf` walks every
 * evaluated term, includes and redirect recursively, to find the worst-case
 * lookup count a receiver may need. Syntax and record-set rules come from
 * components/dns/protocols/spf.ts; only the evaluation lives here.
 */

/** RFC 7208 §4.6.4: more than two void lookups SHOULD be a permerror. */
export const SPF_VOID_LOOKUP_LIMIT = 2;
/** RFC 7208 §4.6.4: an mx mechanism may look up at most 10 exchange names. */
export const SPF_MX_NAME_LIMIT = 10;
/** RFC 7208 §5.5: ptr uses at most the first 10 names. */
const SPF_PTR_NAME_LIMIT = 10;

export type SpfResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "permerror" | "temperror";

export interface SpfEvaluation {
  result: SpfResult;
  /** DNS-lookup terms used (include, a, mx, ptr, exists, redirect). */
  lookups: number;
  voidLookups: number;
  /** Why: the matching term, or what made it an error. */
  reason: string;
}

class SpfAbort extends Error {
  constructor(
    readonly result: "permerror" | "temperror",
    reason: string,
  ) {
    super(reason);
  }
}

interface State {
  lookups: number;
  voidLookups: number;
}

type Fetched = { none: string } | { terms: SpfTerm[]; value: string };

/** The one SPF record at `domain`, or why there is none; throws SpfAbort for errors. */
async function fetchSpf(domain: string, dns: DnsLookup): Promise<Fetched> {
  const answer = await dns.txt(domain);
  if (!answer.ok) {
    if (answer.failure === "nodata" || answer.failure === "nxdomain") return { none: `no SPF record at ${domain}` };
    throw new SpfAbort("temperror", answer.message);
  }
  const spf = answer.value.filter(isSpfValue);
  if (spf.length === 0) return { none: `no SPF record at ${domain}` };
  const multiple = checkSpfRecordSet(answer.value);
  if (multiple.length > 0) throw new SpfAbort("permerror", `${domain}: ${multiple[0].message}`);
  const parsed = parseSpf(spf[0]);
  if ("error" in parsed) throw new SpfAbort("permerror", `${domain}: SPF syntax error: ${parsed.error}`);
  return { terms: parsed.terms, value: spf[0] };
}

function countLookup(state: State, term: string): void {
  state.lookups++;
  if (state.lookups > SPF_LOOKUP_LIMIT) {
    throw new SpfAbort("permerror", `"${term}" is DNS lookup ${state.lookups}; RFC 7208 §4.6.4 allows ${SPF_LOOKUP_LIMIT}`);
  }
}

/** Void lookups count toward their own limit; other failures are temperrors. */
function orVoid<T>(answer: Lookup<T[]>, state: State, term: string): T[] {
  if (answer.ok) return answer.value;
  if (answer.failure === "nodata" || answer.failure === "nxdomain") {
    state.voidLookups++;
    if (state.voidLookups > SPF_VOID_LOOKUP_LIMIT) {
      throw new SpfAbort("permerror", `"${term}" is void lookup ${state.voidLookups} (no answer); RFC 7208 §4.6.4 allows ${SPF_VOID_LOOKUP_LIMIT}`);
    }
    return [];
  }
  throw new SpfAbort("temperror", answer.message);
}

function inNetwork(ip: string, network: string, prefix: number | undefined): boolean {
  const family = isIPv4(ip) ? "ipv4" : "ipv6";
  if ((family === "ipv4") !== isIPv4(network)) return false;
  const list = new BlockList();
  list.addSubnet(network, prefix ?? (family === "ipv4" ? 32 : 128), family);
  return list.check(ip, family);
}

const RESULT_OF: Record<string, SpfResult> = { "+": "pass", "-": "fail", "~": "softfail", "?": "neutral" };

interface Context {
  ip: string;
  /** MAIL FROM address used for %{s}, %{l}, %{o} macros. */
  sender: string;
}

/**
 * RFC 7208 §7 macro expansion for domain-specs (no %{c}, %{r}, %{t}: those are
 * exp-only). %{p} is "unknown": validating it would cost uncounted lookups.
 */
export function expandMacros(spec: string, domain: string, ctx: Context): string {
  const [local, senderDomain] = ctx.sender.includes("@") ? [ctx.sender.slice(0, ctx.sender.lastIndexOf("@")), ctx.sender.slice(ctx.sender.lastIndexOf("@") + 1)] : ["postmaster", ctx.sender];
  return spec.replace(/%\{([a-z])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-/gi, (whole, letter?: string, digits?: string, reverse?: string, delimiters?: string) => {
    if (whole === "%%") return "%";
    if (whole === "%_") return " ";
    if (whole === "%-") return "%20";
    const values: Record<string, string> = {
      s: ctx.sender.includes("@") ? ctx.sender : `postmaster@${ctx.sender}`,
      l: local,
      o: senderDomain,
      d: domain,
      i: isIPv4(ctx.ip) ? ctx.ip : expandIPv6Dots(ctx.ip),
      p: "unknown",
      v: isIPv4(ctx.ip) ? "in-addr" : "ip6",
      h: senderDomain,
    };
    const value = values[letter!.toLowerCase()] ?? "";
    const split = new RegExp(`[${(delimiters || ".").replace(/[-\\\]]/g, "\\$&")}]`);
    let parts = value.split(split);
    if (reverse) parts = parts.reverse();
    if (digits) parts = parts.slice(-Math.max(1, Number(digits)));
    return parts.join(".");
  });
}

function expandIPv6Dots(ip: string): string {
  // The nibble form, as %{i} gives for IPv6 (RFC 7208 §7.3).
  const groups = ip.includes("::") ? fillGroups(ip) : ip.split(":");
  return groups.map((g) => g.padStart(4, "0")).join("").split("").join(".");
}

function fillGroups(ip: string): string[] {
  const [head, tail] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  return [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
}

async function matches(term: SpfMechanism, domain: string, ctx: Context, dns: DnsLookup, state: State): Promise<boolean> {
  const family = isIPv4(ctx.ip) ? 4 : 6;
  const target = term.domain === undefined ? domain : canonicalName(expandMacros(term.domain, domain, ctx));
  const addressesOf = async (host: string) => orVoid(family === 4 ? await dns.a(host) : await dns.aaaa(host), state, term.text);
  const cidr = family === 4 ? term.cidr4 : term.cidr6;
  switch (term.name) {
    case "all":
      return true;
    case "ip4":
    case "ip6":
      return inNetwork(ctx.ip, term.ip!, term.name === "ip4" ? term.cidr4 : term.cidr6);
    case "include": {
      countLookup(state, term.text);
      const inner = await checkHost(target, ctx, dns, state);
      if (inner.result === "pass") return true;
      if (inner.result === "temperror") throw new SpfAbort("temperror", inner.reason);
      if (inner.result === "permerror") throw new SpfAbort("permerror", inner.reason);
      if (inner.result === "none") throw new SpfAbort("permerror", `"${term.text}": ${inner.reason} (RFC 7208 §5.2)`);
      return false;
    }
    case "a": {
      countLookup(state, term.text);
      return (await addressesOf(target)).some((address) => inNetwork(ctx.ip, address, cidr));
    }
    case "mx": {
      countLookup(state, term.text);
      const hosts = orVoid(await dns.mx(target), state, term.text).filter((m) => m.exchange !== ".");
      if (hosts.length > SPF_MX_NAME_LIMIT) {
        throw new SpfAbort("permerror", `"${term.text}": ${target} has ${hosts.length} MX names; RFC 7208 §4.6.4 allows ${SPF_MX_NAME_LIMIT}`);
      }
      for (const host of hosts) {
        const answer = family === 4 ? await dns.a(host.exchange) : await dns.aaaa(host.exchange);
        if (!answer.ok && answer.failure !== "nodata" && answer.failure !== "nxdomain") throw new SpfAbort("temperror", answer.message);
        if (answer.ok && answer.value.some((address) => inNetwork(ctx.ip, address, cidr))) return true;
      }
      return false;
    }
    case "ptr": {
      countLookup(state, term.text);
      const names = orVoid(await dns.ptr(ctx.ip), state, term.text).slice(0, SPF_PTR_NAME_LIMIT);
      for (const name of names) {
        const answer = family === 4 ? await dns.a(name) : await dns.aaaa(name);
        const validated = answer.ok && answer.value.includes(ctx.ip);
        if (validated && (name === target || name.endsWith(`.${target}`))) return true;
      }
      return false;
    }
    case "exists": {
      countLookup(state, term.text);
      return orVoid(await dns.a(target), state, term.text).length > 0;
    }
  }
}

async function checkHost(domain: string, ctx: Context, dns: DnsLookup, state: State): Promise<SpfEvaluation> {
  const done = (result: SpfResult, reason: string): SpfEvaluation => ({ result, reason, lookups: state.lookups, voidLookups: state.voidLookups });
  try {
    const record = await fetchSpf(domain, dns);
    if ("none" in record) return done("none", record.none);
    for (const term of record.terms) {
      if (term.kind !== "mechanism") continue;
      if (await matches(term, domain, ctx, dns, state)) return done(RESULT_OF[term.qualifier], `${domain}: "${term.text}" matched`);
    }
    const redirect = record.terms.find((t): t is SpfModifier => t.kind === "modifier" && t.name === "redirect");
    if (redirect) {
      countLookup(state, redirect.text);
      const target = canonicalName(expandMacros(redirect.value, domain, ctx));
      const inner = await checkHost(target, ctx, dns, state);
      if (inner.result === "none") return done("permerror", `"${redirect.text}": ${inner.reason} (RFC 7208 §6.1)`);
      return inner;
    }
    return done("neutral", `${domain}: no term matched and there is no "all" or "redirect=" (RFC 7208 §4.7)`);
  } catch (error) {
    if (error instanceof SpfAbort) return done(error.result, error.message);
    throw error;
  }
}

/** check_host(ip, domain, sender) as a receiver runs it; the sender defaults to postmaster@domain. */
export async function evaluateSpf(ip: string, domain: string, dns: DnsLookup, sender?: string): Promise<SpfEvaluation> {
  if (!isIPv4(ip) && !isIPv6(ip)) throw new Error(`evaluateSpf: "${ip}" is not an IP address`);
  const d = canonicalName(domain);
  return checkHost(d, { ip, sender: sender ?? `postmaster@${d}` }, dns, { lookups: 0, voidLookups: 0 });
}

export interface SpfAnalysis {
  /** The SPF value at the domain, when there is exactly one. */
  record?: string;
  /** Worst case: every term up to "all" evaluated, through includes and redirect. */
  lookups: number;
  voidLookups: number;
  /** What makes receivers return permerror somewhere in the tree (bad includes, loops, too many MX names). */
  problems: string[];
  /** Queries that timed out or failed: the counts are then lower bounds. */
  unanswered: string[];
  /** Every domain whose SPF record was read, in walk order: the include tree. */
  visited: string[];
}

/** Stop walking absurd trees; well past the point where the result is a permerror anyway. */
const WALK_LOOKUP_CAP = 50;

/**
 * Walk the whole SPF tree of `domain` without an IP, as static checkers do
 * (checkdmarc style): every lookup term up to "all" counts, includes and
 * redirect are followed, void answers are counted. Macros cannot be expanded
 * without a message, so terms using them cost one lookup and are not queried.
 */
export async function analyzeSpf(domain: string, dns: DnsLookup): Promise<SpfAnalysis> {
  const analysis: SpfAnalysis = { lookups: 0, voidLookups: 0, problems: [], unanswered: [], visited: [] };
  const countVoid = async (answer: Promise<Lookup<unknown[]>>): Promise<number> => {
    const a = await answer;
    if (a.ok) return a.value.length;
    if (a.failure === "nodata" || a.failure === "nxdomain") analysis.voidLookups++;
    else analysis.unanswered.push(a.message);
    return 0;
  };

  const walk = async (name: string, chain: string[], via: string | undefined): Promise<void> => {
    if (chain.includes(name)) {
      analysis.problems.push(`${via} loops back to ${name} (${[...chain, name].join(" → ")}); receivers return permerror`);
      return;
    }
    let record: Fetched;
    try {
      record = await fetchSpf(name, dns);
    } catch (error) {
      if (!(error instanceof SpfAbort)) throw error;
      (error.result === "temperror" ? analysis.unanswered : analysis.problems).push(error.message);
      return;
    }
    if ("none" in record) {
      if (via) analysis.problems.push(`"${via}": ${record.none}, so receivers return permerror (RFC 7208 §5.2, §6.1)`);
      return;
    }
    analysis.visited.push(name);
    if (chain.length === 0) analysis.record = record.value;
    const allIndex = record.terms.findIndex((t) => t.kind === "mechanism" && t.name === "all");
    const evaluated = allIndex >= 0 ? record.terms.slice(0, allIndex + 1) : record.terms;
    for (const term of evaluated) {
      if (analysis.lookups > WALK_LOOKUP_CAP) return;
      if (term.kind !== "mechanism") continue;
      if (!["include", "a", "mx", "ptr", "exists"].includes(term.name)) continue;
      analysis.lookups++;
      if (term.domain !== undefined && term.domain.includes("%")) continue;
      const target = term.domain === undefined ? name : canonicalName(term.domain);
      switch (term.name) {
        case "include":
          await walk(target, [...chain, name], term.text);
          break;
        case "a": {
          const [v4, v6] = await Promise.all([dns.a(target), dns.aaaa(target)]);
          const empty = (l: Lookup<string[]>) => !l.ok && (l.failure === "nodata" || l.failure === "nxdomain");
          if (empty(v4) && empty(v6)) analysis.voidLookups++;
          for (const l of [v4, v6]) if (!l.ok && !empty(l)) analysis.unanswered.push(l.message);
          break;
        }
        case "mx": {
          const answer = await dns.mx(target);
          const count = await countVoid(Promise.resolve(answer as Lookup<unknown[]>));
          if (count > SPF_MX_NAME_LIMIT) analysis.problems.push(`"${term.text}": ${target} has ${count} MX names; RFC 7208 §4.6.4 allows ${SPF_MX_NAME_LIMIT} (permerror)`);
          break;
        }
        case "exists":
          await countVoid(dns.a(target));
          break;
        case "ptr":
          break; // needs the sender's IP; costs one lookup
      }
    }
    const redirect = record.terms.find((t): t is SpfModifier => t.kind === "modifier" && t.name === "redirect");
    if (allIndex < 0 && redirect) {
      analysis.lookups++;
      if (!redirect.value.includes("%")) await walk(canonicalName(redirect.value), [...chain, name], redirect.text);
    }
  };

  await walk(canonicalName(domain), [], undefined);
  return analysis;
}
