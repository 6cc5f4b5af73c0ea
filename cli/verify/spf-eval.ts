import { isIPv4, isIPv6 } from "node:net";
import { canonicalName } from "../../components/dns/model";
import {
  checkSpfRecordSet,
  isSpfValue,
  parseSpf,
  type SpfModifier,
  type SpfTerm,
} from "../../components/dns/protocols/spf";
import { SPF_MX_LIMIT, SPF_VOID_LIMIT, checkSpf, type SpfCheck } from "../../components/dns/protocols/spf-eval";
import type { DnsLookup, Lookup } from "./dns";

/**
 * SPF over live DNS for `verify`: `evaluateSpf` runs check_host() for one IP
 * through the one evaluator (components/dns/protocols/spf-eval.ts), and
 * `analyzeSpf` walks every evaluated term, includes and redirect recursively,
 * to find the worst-case lookup count a receiver may need, as static checkers
 * do. Syntax and record-set rules come from components/dns/protocols/spf.ts.
 */

/** RFC 7208 §4.6.4: more than two void lookups SHOULD be a permerror (the evaluator's limit). */
export const SPF_VOID_LOOKUP_LIMIT = SPF_VOID_LIMIT;
/** RFC 7208 §4.6.4: an mx mechanism may look up at most 10 exchange names (the evaluator's limit). */
export const SPF_MX_NAME_LIMIT = SPF_MX_LIMIT;

/** The evaluator's result over live DNS, where no answer is "known only after deploy". */
export type SpfEvaluation = Omit<SpfCheck, "undetermined">;

class SpfAbort extends Error {
  constructor(
    readonly result: "permerror" | "temperror",
    reason: string,
  ) {
    super(reason);
  }
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

/**
 * check_host(ip, domain, sender) as a receiver runs it, by the one SPF
 * evaluator (components/dns/protocols/spf-eval.ts, which passes the RFC 7208
 * suite) over verify's DNS. The sender defaults to postmaster@domain; an
 * empty sender checks the HELO identity, with `helo` as the domain's HELO name.
 */
export async function evaluateSpf(ip: string, domain: string, dns: DnsLookup, sender?: string, helo?: string): Promise<SpfEvaluation> {
  if (!isIPv4(ip) && !isIPv6(ip)) throw new Error(`evaluateSpf: "${ip}" is not an IP address`);
  const d = canonicalName(domain);
  const checked = await checkSpf({ ip, domain: d, sender: sender ?? `postmaster@${d}`, ...(helo ? { helo } : {}) }, dns);
  const { undetermined: _notOverLiveDns, ...evaluation } = checked;
  return evaluation;
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
