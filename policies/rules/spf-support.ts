import { quote as quoteText } from "./text";
/**
 * What the SPF rules share beyond the protocol checkers: the stack's SPF
 * records, the lookup cost of include targets the stack itself publishes, and
 * the three-valued "does this SPF record authorize that host" question the
 * mail-host rule asks. Unknown values (an address known only after deploy)
 * make an answer "unknown", never a guess.
 */
import { isIPv4 } from "node:net";
import { canonicalName } from "../../components/dns/model";
import { KNOWN_SPF_INCLUDES, isSpfValue, parseSpf, spfTermsLookupCount, type SpfTerm } from "../../components/dns/protocols";
import { checkSpfSync, type SpfSyncLookup } from "../../components/dns/protocols/spf-eval";
import { EIP, type StackView, type ViewMailHost, type ViewRecord } from "../model/view";

/** Each SPF record in the stack (a TXT starting `v=spf1`), once. */
export function spfRecords(view: StackView): ViewRecord[] {
  return view.records.filter((r) => r.type === "TXT" && r.value !== undefined && /^v=spf1(\s|$)/i.test(r.value));
}

/** SPF records are quoted shorter: their messages list costs after the value. */
export const quote = (value: string) => quoteText(value, 100);

/** The record's terms, or undefined when it does not parse (spf-syntax reports that). */
export function spfTerms(value: string): SpfTerm[] | undefined {
  const parsed = parseSpf(value);
  return "error" in parsed ? undefined : parsed.terms;
}

/** Terms a receiver evaluates: everything up to and including `all`. */
export function evaluatedTerms(terms: SpfTerm[]): SpfTerm[] {
  const allIndex = terms.findIndex((t) => t.kind === "mechanism" && t.name === "all");
  return allIndex >= 0 ? terms.slice(0, allIndex + 1) : terms;
}

/** The `redirect=` a receiver follows: only when the record has no `all` and exactly one redirect. */
export function effectiveRedirect(terms: SpfTerm[]): string | undefined {
  if (terms.some((t) => t.kind === "mechanism" && t.name === "all")) return undefined;
  const redirects = terms.filter((t) => t.kind === "modifier" && t.name === "redirect");
  return redirects.length === 1 && redirects[0].kind === "modifier" ? redirects[0].value : undefined;
}

/** The one SPF record published at a name in the stack, parsed; undefined when none, several, unknown or invalid. */
export function stackSpfAt(view: StackView, name: string): { record: ViewRecord; terms: SpfTerm[] } | undefined {
  if (view.hasUnknownTxt(name)) return undefined;
  const spf = view.spfAt(name);
  if (spf.length !== 1) return undefined;
  const terms = spfTerms(spf[0].value!);
  return terms ? { record: spf[0], terms } : undefined;
}

const hasMacro = (domain: string) => domain.includes("%");

/**
 * Worst-case lookup cost of every include/redirect target reachable from the
 * terms, as `checkSpf`'s `knownIncludes` takes it: the configured figure, else
 * the KNOWN_SPF_INCLUDES one (left to the checker), else, when the stack
 * publishes the target's SPF record, 1 plus that record's own count. Targets
 * of none of these are left out and count 1 in the checker.
 */
export function includeCostsFor(view: StackView, terms: SpfTerm[], configured: Record<string, number>): Record<string, number> {
  const known: Record<string, number> = {};
  for (const [domain, cost] of Object.entries(configured)) known[canonicalName(domain)] = cost;
  const stackCost = (target: string, visiting: Set<string>): number | undefined => {
    if (target in known) return known[target];
    if (KNOWN_SPF_INCLUDES[target] || visiting.has(target)) return undefined;
    const published = stackSpfAt(view, target);
    if (!published) return undefined;
    visiting.add(target);
    for (const t of targetsOf(published.terms)) {
      const cost = stackCost(t, visiting);
      if (cost !== undefined) known[t] = cost;
    }
    visiting.delete(target);
    return 1 + spfTermsLookupCount(published.terms, { knownIncludes: known });
  };
  for (const target of targetsOf(terms)) {
    const cost = stackCost(target, new Set());
    if (cost !== undefined) known[target] = cost;
  }
  return known;
}

/** include: and redirect= targets (without macros), canonical. */
function targetsOf(terms: SpfTerm[]): string[] {
  const out: string[] = [];
  for (const t of terms) {
    if (t.kind === "mechanism" && t.name === "include" && t.domain && !hasMacro(t.domain)) out.push(canonicalName(t.domain));
    if (t.kind === "modifier" && t.name === "redirect" && !hasMacro(t.value)) out.push(canonicalName(t.value));
  }
  return out;
}

/** A lookup that found nothing to resolve in the stack's own zones. */
export interface VoidTerm {
  /** The record the term is in (the judged record or one it includes). */
  at: string;
  term: string;
  reason: string;
}

/**
 * Terms (a, mx, include) evaluated for the record whose target lies in a zone
 * the stack manages and has nothing there for the lookup to find, following
 * includes and a redirect into SPF records the stack publishes. Returns
 * undefined when a target's records are unknown, so the count cannot be told.
 */
export function voidTerms(view: StackView, name: string, terms: SpfTerm[]): VoidTerm[] | undefined {
  if (view.unreadable.length > 0) return undefined;
  const out: VoidTerm[] = [];
  let unknown = false;
  const visit = (at: string, list: SpfTerm[], visiting: Set<string>) => {
    const follow = (target: string) => {
      if (visiting.has(target)) return;
      const published = stackSpfAt(view, target);
      if (published) visit(target, published.terms, new Set([...visiting, target]));
    };
    for (const t of evaluatedTerms(list)) {
      if (t.kind !== "mechanism" || !["a", "mx", "include"].includes(t.name)) continue;
      const raw = t.domain ?? at;
      if (hasMacro(raw)) continue;
      const target = canonicalName(raw);
      if (!view.manages(target)) continue;
      const verdict = voidVerdict(view, t.name as "a" | "mx" | "include", target);
      if (verdict === "unknown") unknown = true;
      else if (verdict) out.push({ at, term: t.text, reason: verdict });
      else if (t.name === "include") follow(target);
    }
    const redirect = effectiveRedirect(list);
    if (redirect && !hasMacro(redirect)) follow(canonicalName(redirect));
  };
  visit(canonicalName(name), terms, new Set([canonicalName(name)]));
  return unknown ? undefined : out;
}

/** Why the lookup would be void, "" when it finds something, "unknown" when it cannot be told. */
function voidVerdict(view: StackView, mechanism: "a" | "mx" | "include", target: string): string {
  const at = answeringRecords(view, target);
  // A CNAME sends the lookup elsewhere; we do not follow it.
  if (at.some((r) => r.type === "CNAME")) return "";
  if (mechanism === "a") return at.some((r) => r.type === "A" || r.type === "AAAA") ? "" : `no A or AAAA record at ${target}`;
  if (mechanism === "mx") return at.some((r) => r.type === "MX") ? "" : `no MX record at ${target}`;
  const txt = at.filter((r) => r.type === "TXT");
  if (txt.some((r) => r.value === undefined)) return "unknown";
  return txt.some((r) => isSpfValue(r.value!)) ? "" : `no SPF record at ${target}`;
}

/**
 * The records a query for the name would be answered from: the name's own,
 * else (when the name has none) a wildcard's at one of its ancestors in the
 * stack's zones. Lenient on purpose: any such wildcard counts, which can only
 * make fewer lookups void.
 */
function answeringRecords(view: StackView, name: string): ViewRecord[] {
  const own = view.recordsAt(name);
  if (own.length > 0) return own;
  const labels = name.split(".");
  for (let i = 1; i < labels.length && view.manages(labels.slice(i).join(".")); i++) {
    const wildcard = view.recordsAt(`*.${labels.slice(i).join(".")}`);
    if (wildcard.length > 0) return wildcard;
  }
  return [];
}

export type Verdict = "yes" | "no" | "unknown";

/** The mail host's public IPv4 addresses: its Elastic IP's, else the A records at its hostname; "unknown" until deploy. */
export function hostAddresses(view: StackView, host: ViewMailHost): string[] | "unknown" {
  const eips = host.children.filter((c) => c.type === EIP);
  for (const eip of eips) {
    for (const key of ["publicIp", "address"]) {
      const value = eip.props[key];
      if (typeof value === "string" && isIPv4(value)) return [value];
    }
  }
  const a = view.recordsAt(host.hostname, "A");
  if (a.some((r) => r.value === undefined)) return "unknown";
  const known = a.map((r) => r.value!).filter((v) => isIPv4(v));
  if (known.length > 0) return known;
  // An Elastic IP whose address is not known yet, and no A record to read it from.
  return eips.length > 0 ? "unknown" : [];
}

/**
 * Where the host's address stands while it is unknown (before deploy): an
 * address from 240.0.0.0/4 (reserved), given for the host's own name; the
 * evaluator, told the client address is unknown, calls any other comparison
 * undetermined (clientIpUnknown).
 */
export const HOST_ADDRESS_STAND_IN = "240.0.0.1";

/**
 * The stack's own records as SPF's DNS, for the mail host `host`: its name
 * resolves to its address (the stand-in while unknown); a value known only
 * after deploy is an "unknown" answer; a name outside the stack's zones has
 * no record of ours to give, and a third party's SPF does not list our host,
 * so its TXT reads as "v=spf1 ?all" and its addresses as nothing.
 */
export function stackSpfLookup(view: StackView, host: ViewMailHost, hostIp: string): SpfSyncLookup {
  const unknown = (name: string, type: string) => ({ ok: false as const, failure: "unknown" as const, message: `${type} at ${name} is known only after deploy` });
  const none = (name: string, type: string, failure: "nodata" | "nxdomain" = "nodata") => ({ ok: false as const, failure, message: `no ${type} at ${name}` });
  const answer = <T>(name: string, type: string, map: (value: string) => T | undefined) => {
    const records = view.recordsAt(name, type);
    if (records.some((r) => r.value === undefined)) return unknown(name, type);
    const values = records.map((r) => map(r.value!)).filter((v): v is T => v !== undefined);
    return values.length > 0 ? { ok: true as const, value: values } : view.recordsAt(name).length > 0 ? none(name, type) : none(name, type, "nxdomain");
  };
  const address = (family: "A" | "AAAA") => (name: string) => {
    const canonical = canonicalName(name);
    if (canonical === host.hostname) return family === "A" ? { ok: true as const, value: [hostIp] } : none(name, family);
    if (!view.manages(canonical)) return none(name, family);
    return answer(canonical, family, (v) => v);
  };
  return {
    txt: (name) => {
      const canonical = canonicalName(name);
      if (!view.manages(canonical)) return { ok: true, value: ["v=spf1 ?all"] };
      return answer(canonical, "TXT", (v) => v);
    },
    a: address("A"),
    aaaa: address("AAAA"),
    mx: (name) => {
      const canonical = canonicalName(name);
      if (!view.manages(canonical)) return none(name, "MX");
      return answer(canonical, "MX", (v) => {
        const [priority, exchange] = v.split(" ");
        return { priority: Number(priority), exchange: canonicalName(exchange ?? "") };
      });
    },
    // Reverse DNS is EC2's, not the stack's records: an SPF that depends on it cannot be judged before deploy.
    ptr: (ip) => unknown(ip, "PTR"),
  };
}

/**
 * Whether the SPF record at `name` authorizes the mail host: check_host()
 * (the one evaluator, components/dns/protocols/spf-eval.ts) for the host's
 * address and `postmaster@<name>`, over the stack's own records. "yes" on
 * pass; "unknown" when the answer hangs on a value known only after deploy;
 * "no" otherwise. Includes outside the stack count as authorizing nothing:
 * a third party's record does not list your own host.
 */
export function authorizesHost(view: StackView, name: string, host: ViewMailHost): Verdict {
  const addresses = hostAddresses(view, host);
  const ip = addresses === "unknown" || addresses.length === 0 ? HOST_ADDRESS_STAND_IN : addresses[0];
  const checked = checkSpfSync(
    { ip, clientIpUnknown: ip === HOST_ADDRESS_STAND_IN, domain: canonicalName(name), sender: `postmaster@${canonicalName(name)}`, helo: host.hostname },
    stackSpfLookup(view, host, ip),
  );
  if (checked.result === "pass") return "yes";
  return checked.undetermined ? "unknown" : "no";
}
