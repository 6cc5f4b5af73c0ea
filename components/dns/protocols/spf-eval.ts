import { BlockList, isIPv4, isIPv6 } from "node:net";
import { ipv6Groups } from "../../ip-address";

/**
 * SPF's check_host() (RFC 7208 §4-§7) over any source of DNS answers: live
 * DNS for `verify`, or a stack's own records. One evaluator, run as a
 * receiver runs it: it stops at the first match, counts DNS-querying terms
 * (10) and void lookups (2), reads the record with the RFC's own grammar
 * (§12: any visible character in a domain-spec, macros checked for the
 * letters each place allows, redirect= and exp= at most once), treats an
 * IPv4-mapped IPv6 client as IPv4 (§5), validates %{p} and ptr by address
 * (§5.5), checks the domain before the first lookup (§4.3), and computes the
 * explanation (exp=, §6.2) of a fail. Scored against the OpenSPF RFC 7208
 * suite in test/spf-suite.test.ts. Pure apart from the lookups it is given.
 */

export type SpfCheckResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "permerror" | "temperror";

/**
 * Why a lookup found nothing, or failed. "unknown": the answer exists but is
 * known only after deploy (a stack's record whose value a provider computes);
 * a check that needs it is undetermined, not failed.
 */
export type SpfLookupFailure = "nodata" | "nxdomain" | "timeout" | "error" | "unknown";
export type SpfLookupAnswer<T> = { ok: true; value: T } | { ok: false; failure: SpfLookupFailure; message: string };

/** The DNS questions check_host() asks. Live DNS (cli/verify/dns.ts) implements it as it is. */
export interface SpfLookup {
  /** TXT records at a name, each record's character-strings joined (RFC 7208 §3.3). */
  txt(name: string): Promise<SpfLookupAnswer<string[]>>;
  a(name: string): Promise<SpfLookupAnswer<string[]>>;
  aaaa(name: string): Promise<SpfLookupAnswer<string[]>>;
  mx(name: string): Promise<SpfLookupAnswer<{ priority: number; exchange: string }[]>>;
  /** PTR names of an address. */
  ptr(ip: string): Promise<SpfLookupAnswer<string[]>>;
}

/** A lookup that answers at once: a stack's own records. */
export type SpfSyncLookup = { [K in keyof SpfLookup]: (name: string) => Awaited<ReturnType<SpfLookup[K]>> };

/** One DNS question the evaluator asks; drivers answer it from an SpfLookup or an SpfSyncLookup. */
type Question = { type: keyof SpfLookup; name: string };
type Answer = SpfLookupAnswer<unknown[]>;
/** The evaluator is written once, as generators that yield their questions: the same steps run over async or sync lookups. */
type Steps<T> = Generator<Question, T, Answer>;

function* ask<K extends keyof SpfLookup>(type: K, name: string): Steps<Awaited<ReturnType<SpfLookup[K]>>> {
  return (yield { type, name }) as Awaited<ReturnType<SpfLookup[K]>>;
}

export interface SpfCheckInput {
  /** The SMTP client's address. */
  ip: string;
  /** The domain whose policy is checked (the MAIL FROM domain, or the HELO name for the HELO identity). */
  domain: string;
  /** MAIL FROM; an empty one means the HELO identity: postmaster@<helo>. */
  sender?: string;
  /** The HELO/EHLO name, for %{h}. */
  helo?: string;
  /** The receiving MTA's name, for %{r} in explanations. Default "unknown". */
  receiver?: string;
  /** Seconds since the epoch, for %{t}. Default: now. */
  now?: number;
  /**
   * The client's address is known only after deploy (an Elastic IP to be
   * allocated): `ip` is then a stand-in that the lookups give for the host's
   * own name. Any other address or network can neither be said to hold it
   * nor not (but a /0, which holds every address): the check is undetermined.
   */
  clientIpUnknown?: boolean;
}

export interface SpfCheck {
  result: SpfCheckResult;
  /** DNS-querying terms used (include, a, mx, ptr, exists, redirect). */
  lookups: number;
  voidLookups: number;
  /** Why: the matching term, or what made it an error. */
  reason: string;
  /** A fail's explanation from the domain's exp= (RFC 7208 §6.2), when it has a usable one. */
  explanation?: string;
  /** The result hangs on an answer known only after deploy (result is then "temperror"). */
  undetermined?: true;
}

/** RFC 7208 §4.6.4 */
export const SPF_DNS_LOOKUP_LIMIT = 10;
/** RFC 7208 §4.6.4: more than two void lookups is a permerror. */
export const SPF_VOID_LIMIT = 2;
/** RFC 7208 §4.6.4: an mx term may look up at most 10 exchange names. */
export const SPF_MX_LIMIT = 10;
/** RFC 7208 §4.6.4: ptr, and %{p}, use at most 10 names. */
export const SPF_PTR_LIMIT = 10;

class Abort extends Error {
  constructor(
    readonly result: "permerror" | "temperror",
    message: string,
    readonly undetermined = false,
  ) {
    super(message);
  }
}

/** A failed lookup that is no "nothing there": a temperror, undetermined when the answer is only known after deploy. */
function lookupFailed(answer: { failure: SpfLookupFailure; message: string }): Abort {
  return new Abort("temperror", answer.message, answer.failure === "unknown");
}

interface Mechanism {
  kind: "mechanism";
  text: string;
  qualifier: "+" | "-" | "~" | "?";
  name: "all" | "include" | "a" | "mx" | "ptr" | "ip4" | "ip6" | "exists";
  /** A domain-spec (macros not yet expanded), where the mechanism takes one. */
  domainSpec?: string;
  network?: string;
  cidr4?: number;
  cidr6?: number;
}

interface Modifier {
  kind: "modifier";
  text: string;
  name: string;
  value: string;
}

type Term = Mechanism | Modifier;

const DIRECTIVE = /^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)(?=$|[:/])(.*)$/i;
const MODIFIER = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/;
/** macro-expand (§7.1): %{letter digits [r] delimiters}, %%, %_ and %-. */
const MACRO_EXPAND = /%\{([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)\}|%%|%_|%-/g;
const DOMAIN_LETTERS = "slodiphv";
const EXP_LETTERS = "slodiphvcrt";

/** A macro-string (§7.1) whose macros use only `letters`: visible ASCII, and % only to open a macro. */
function checkMacroString(value: string, letters: string, where: string): void {
  if (!/^[\x21-\x7e]*$/.test(value)) throw new Abort("permerror", `${where}: "${value}" holds a character outside visible ASCII (RFC 7208 §7.1)`);
  const rest = value.replace(MACRO_EXPAND, (whole: string, letter?: string) => {
    if (letter && !letters.includes(letter.toLowerCase())) throw new Abort("permerror", `${where}: macro ${whole} is not allowed here (RFC 7208 §7.1: c, r and t only in explanations)`);
    return "";
  });
  if (rest.includes("%")) throw new Abort("permerror", `${where}: "${value}" has a % that opens no macro (RFC 7208 §7.1)`);
}

/** domain-end (§7.1): the spec ends in a macro, or in "." toplabel with an optional trailing dot. */
function checkDomainSpec(spec: string, where: string): void {
  checkMacroString(spec, DOMAIN_LETTERS, where);
  if (/%\{[A-Za-z]\d*[rR]?[.\-+,/_=]*\}$/.test(spec)) return;
  const labels = spec.replace(/\.$/, "").split(".");
  const top = labels[labels.length - 1];
  const toplabel = /^(?=.*[A-Za-z])[A-Za-z0-9]+$|^[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]$/;
  if (labels.length < 2 || !toplabel.test(top)) throw new Abort("permerror", `${where}: "${spec}" does not end in a top-level label (RFC 7208 §7.1 domain-end)`);
}

const QNUM = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IP4_NETWORK = new RegExp(`^${QNUM}(?:\\.${QNUM}){3}$`);
const CIDR4 = /^(?:3[0-2]|[12]\d|\d)$/;
const CIDR6 = /^(?:12[0-8]|1[01]\d|[1-9]\d|\d)$/;

function parseDualCidr(rest: string, where: string): { cidr4?: number; cidr6?: number } {
  const match = /^(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(rest);
  if (!match) throw new Abort("permerror", `${where}: "${rest}" is not a dual-cidr-length (RFC 7208 §5.6)`);
  const [, v4, v6] = match;
  if (v4 !== undefined && !CIDR4.test(v4)) throw new Abort("permerror", `${where}: /${v4} is not an IPv4 prefix length`);
  if (v6 !== undefined && !CIDR6.test(v6)) throw new Abort("permerror", `${where}: //${v6} is not an IPv6 prefix length`);
  return { ...(v4 !== undefined ? { cidr4: Number(v4) } : {}), ...(v6 !== undefined ? { cidr6: Number(v6) } : {}) };
}

/** Split a domain-spec and its trailing dual-cidr (the last "/" that starts digits). */
function splitCidr(value: string): [string, string] {
  const match = /((?:\/\d+)?(?:\/\/\d+)?)$/.exec(value)!;
  return [value.slice(0, value.length - match[1].length), match[1]];
}

/** The record's terms (RFC 7208 §4.6, §12), or a permerror naming the first problem anywhere in it. */
export function parseSpfTerms(record: string): Term[] {
  const body = record.replace(/^v=spf1/i, "");
  if (body !== "" && !body.startsWith(" ")) throw new Abort("permerror", `"${record}" is not a v=spf1 record`);
  const terms: Term[] = [];
  for (const text of body.split(" ").filter((t) => t !== "")) {
    const directive = DIRECTIVE.exec(text);
    if (directive) {
      const [, qualifier, rawName, rest] = directive;
      const name = rawName.toLowerCase() as Mechanism["name"];
      const mechanism: Mechanism = { kind: "mechanism", text, qualifier: (qualifier || "+") as Mechanism["qualifier"], name };
      const where = `"${text}"`;
      switch (name) {
        case "all":
          if (rest !== "") throw new Abort("permerror", `${where}: "all" takes no argument`);
          break;
        case "include":
        case "exists":
          if (!rest.startsWith(":") || rest.length === 1) throw new Abort("permerror", `${where}: "${name}" needs a domain (RFC 7208 §5)`);
          checkDomainSpec(rest.slice(1), where);
          mechanism.domainSpec = rest.slice(1);
          break;
        case "ptr":
          if (rest !== "") {
            if (!rest.startsWith(":") || rest.length === 1) throw new Abort("permerror", `${where}: ptr takes ":<domain>" or nothing`);
            checkDomainSpec(rest.slice(1), where);
            mechanism.domainSpec = rest.slice(1);
          }
          break;
        case "a":
        case "mx": {
          let spec = rest;
          if (spec.startsWith(":")) {
            const [domain, cidr] = splitCidr(spec.slice(1));
            if (domain === "") throw new Abort("permerror", `${where}: empty domain`);
            checkDomainSpec(domain, where);
            mechanism.domainSpec = domain;
            spec = cidr;
          }
          Object.assign(mechanism, parseDualCidr(spec, where));
          break;
        }
        case "ip4": {
          const match = /^:([^/]+)(?:\/(\d+))?$/.exec(rest);
          if (!match || !IP4_NETWORK.test(match[1])) throw new Abort("permerror", `${where}: not an IPv4 network (RFC 7208 §5.6)`);
          if (match[2] !== undefined && !CIDR4.test(match[2])) throw new Abort("permerror", `${where}: /${match[2]} is not an IPv4 prefix length`);
          mechanism.network = match[1];
          if (match[2] !== undefined) mechanism.cidr4 = Number(match[2]);
          break;
        }
        case "ip6": {
          const match = /^:([^/]+)(?:\/(\d+))?$/.exec(rest);
          if (!match || !isIPv6(match[1]) || match[1].includes("%")) throw new Abort("permerror", `${where}: not an IPv6 network (RFC 7208 §5.6)`);
          if (match[2] !== undefined && !CIDR6.test(match[2])) throw new Abort("permerror", `${where}: /${match[2]} is not an IPv6 prefix length`);
          mechanism.network = match[1];
          if (match[2] !== undefined) mechanism.cidr6 = Number(match[2]);
          break;
        }
      }
      terms.push(mechanism);
      continue;
    }
    const modifier = MODIFIER.exec(text);
    if (!modifier) throw new Abort("permerror", `"${text}" is neither a mechanism nor a modifier (RFC 7208 §4.6.1)`);
    const [, name, value] = modifier;
    const lower = name.toLowerCase();
    if (lower === "redirect" || lower === "exp") {
      if (terms.some((t) => t.kind === "modifier" && t.name === lower)) throw new Abort("permerror", `"${text}": a second ${lower}= (RFC 7208 §6)`);
      checkDomainSpec(value, `"${text}"`);
    } else {
      checkMacroString(value, DOMAIN_LETTERS, `"${text}"`);
    }
    terms.push({ kind: "modifier", text, name: lower, value });
  }
  return terms;
}

/** A valid multi-label domain name (§4.3): labels of 1..63 octets, 253 at most in all. */
export function isSpfDomain(name: string): boolean {
  const bare = name.replace(/\.$/, "");
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split(".");
  return labels.length >= 2 && labels.every((l) => l.length >= 1 && l.length <= 63);
}

/** The client address as the check sees it: an IPv4-mapped IPv6 address is IPv4 (RFC 7208 §5). */
export function normalizeClientIp(ip: string): string {
  if (!isIPv6(ip) || ip.includes("%")) return ip;
  // Any spelling of ::ffff:0:0/96: "::ffff:1.2.3.4", "::ffff:102:304", "0:0:0:0:0:ffff:1.2.3.4".
  const nibbles = ipv6Groups(ip).join("");
  if (!/^0{20}ffff/i.test(nibbles)) return ip;
  const v4 = nibbles.slice(24);
  return [0, 2, 4, 6].map((i) => parseInt(v4.slice(i, i + 2), 16)).join(".");
}

function inNetwork(ip: string, network: string, prefix: number | undefined): boolean {
  // An answer that is no address (a resolver's garbage, a zone ID) holds no client.
  if ((!isIPv4(network) && !isIPv6(network)) || network.includes("%")) return false;
  const family = isIPv4(ip) ? "ipv4" : "ipv6";
  if ((family === "ipv4") !== isIPv4(network)) return false;
  const list = new BlockList();
  list.addSubnet(network, prefix ?? (family === "ipv4" ? 32 : 128), family);
  return list.check(ip, family);
}

/** The 32 nibbles of an IPv6 address, dot-separated (%{i} for IPv6), keeping the case the address was written in. */
function ipv6Nibbles(ip: string): string {
  return ipv6Groups(ip).join("").split("").join(".");
}

/** The address in its usual text form (%{c}): dotted quad, or RFC 5952 IPv6. */
function readableIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  const groups = ipv6Nibbles(ip).split(".").join("").match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  const text = groups.join(":");
  // Compress the longest run of zero groups (of two or more), as RFC 5952 §4.2 says.
  let best: [number, number] = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j;
  }
  if (best[0] < 0) return text;
  return `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[0] + best[1]).join(":")}`;
}

interface Context {
  ip: string;
  sender: string;
  localPart: string;
  senderDomain: string;
  helo: string;
  receiver: string;
  now: number;
  lookups: number;
  voidLookups: number;
  clientIpUnknown: boolean;
  /** %{p}, worked out once when first needed. */
  validatedName?: string;
}

function* validatedName(ctx: Context, domain: string): Steps<string> {
  if (ctx.validatedName !== undefined) return ctx.validatedName;
  const names = yield* ask("ptr", ctx.ip);
  let found = "unknown";
  if (names.ok) {
    const confirmed: string[] = [];
    for (const name of names.value.slice(0, SPF_PTR_LIMIT)) {
      const forward = yield* ask(isIPv4(ctx.ip) ? "a" : "aaaa", name);
      if (forward.ok && forward.value.some((a) => sameAddress(a, ctx.ip))) confirmed.push(name.replace(/\.$/, ""));
    }
    // Prefer the domain itself, then a subdomain of it, then any (RFC 7208 §7.3).
    found = confirmed.find((n) => n.toLowerCase() === domain) ?? confirmed.find((n) => n.toLowerCase().endsWith(`.${domain}`)) ?? confirmed[0] ?? "unknown";
  }
  ctx.validatedName = found;
  return found;
}

function sameAddress(a: string, b: string): boolean {
  if (isIPv4(a) && isIPv4(b)) return a === b;
  if (isIPv6(a) && isIPv6(b)) return inNetwork(a, b, 128);
  return false;
}

/** Expand a macro-string (§7.3); `domain` is <domain> of the current check. */
function* expand(spec: string, domain: string, ctx: Context, explain: boolean): Steps<string> {
  const parts: string[] = [];
  let last = 0;
  for (const match of spec.matchAll(MACRO_EXPAND)) {
    parts.push(spec.slice(last, match.index));
    last = match.index! + match[0].length;
    const [whole, letter, digits, reverse, delimiters] = match;
    if (whole === "%%") parts.push("%");
    else if (whole === "%_") parts.push(" ");
    else if (whole === "%-") parts.push("%20");
    else parts.push(yield* macroValue(letter, digits, reverse, delimiters, domain, ctx, explain));
  }
  parts.push(spec.slice(last));
  return parts.join("");
}

function* macroValue(letter: string, digits: string, reverse: string, delimiters: string, domain: string, ctx: Context, explain: boolean): Steps<string> {
  const lower = letter.toLowerCase();
  if (!(explain ? EXP_LETTERS : DOMAIN_LETTERS).includes(lower)) throw new Abort("permerror", `macro %{${letter}} is not allowed here`);
  const raw: Record<string, () => string> = {
    s: () => ctx.sender,
    l: () => ctx.localPart,
    o: () => ctx.senderDomain,
    d: () => domain,
    i: () => (isIPv4(ctx.ip) ? ctx.ip : ipv6Nibbles(ctx.ip)),
    p: () => "",
    v: () => (isIPv4(ctx.ip) ? "in-addr" : "ip6"),
    h: () => ctx.helo,
    c: () => readableIp(ctx.ip),
    r: () => ctx.receiver,
    t: () => String(ctx.now),
  };
  // The stand-in's own digits would give a definite answer about an address nobody knows yet.
  if (ctx.clientIpUnknown && (lower === "i" || lower === "c" || lower === "p")) {
    throw new Abort("temperror", `macro %{${letter}} expands the address known only after deploy`, true);
  }
  const value = lower === "p" ? yield* validatedName(ctx, domain) : raw[lower]();
  const split = new RegExp(`[${(delimiters || ".").replace(/[-\\\]^]/g, "\\$&")}]`);
  let pieces = value.split(split);
  if (reverse) pieces = pieces.reverse();
  if (digits !== "") {
    const keep = Number(digits);
    if (keep === 0) throw new Abort("permerror", `macro %{${letter}${digits}}: zero labels is not allowed (RFC 7208 §7.3)`);
    pieces = pieces.slice(-keep);
  }
  const joined = pieces.join(".");
  // An upper-case macro letter URL-escapes its value (§7.3).
  return letter === lower ? joined : encodeURIComponent(joined).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An expanded domain-spec as a name to query: at most 253 octets, cut from the left by whole labels (§7.3). */
function* targetName(spec: string, domain: string, ctx: Context): Steps<string> {
  let name = (yield* expand(spec, domain, ctx, false)).replace(/\.$/, "");
  while (name.length > 253 && name.includes(".")) name = name.slice(name.indexOf(".") + 1);
  return name.toLowerCase();
}

function count(ctx: Context, term: string): void {
  ctx.lookups++;
  if (ctx.lookups > SPF_DNS_LOOKUP_LIMIT) throw new Abort("permerror", `"${term}" is DNS lookup ${ctx.lookups}; RFC 7208 §4.6.4 allows ${SPF_DNS_LOOKUP_LIMIT}`);
}

/** An answer's values, counting a void one (§4.6.4); a DNS failure is a temperror. */
function values<T>(answer: SpfLookupAnswer<T[]>, ctx: Context, term: string): T[] {
  if (answer.ok) {
    if (answer.value.length > 0) return answer.value;
  } else if (answer.failure !== "nodata" && answer.failure !== "nxdomain") {
    throw lookupFailed(answer);
  }
  ctx.voidLookups++;
  if (ctx.voidLookups > SPF_VOID_LIMIT) throw new Abort("permerror", `"${term}" is void lookup ${ctx.voidLookups}; RFC 7208 §4.6.4 allows ${SPF_VOID_LIMIT}`);
  return [];
}

/** The one SPF record at `domain` (§4.4, §4.5), or none. */
function* fetchRecord(domain: string): Steps<string | undefined> {
  const answer = yield* ask("txt", domain);
  if (!answer.ok) {
    if (answer.failure === "nodata" || answer.failure === "nxdomain") return undefined;
    throw lookupFailed(answer);
  }
  const records = answer.value.filter((v) => /^v=spf1(?: |$)/i.test(v));
  if (records.length > 1) throw new Abort("permerror", `${domain} publishes ${records.length} SPF records (RFC 7208 §4.5)`);
  return records[0];
}

/** Whether the client's address is in the network; with the address unknown, only its stand-in or a /0 can say. */
function clientIn(ctx: Context, network: string, prefix: number | undefined): boolean {
  if (ctx.clientIpUnknown && !sameAddress(network, ctx.ip)) {
    if (prefix === 0 && isIPv4(network) === isIPv4(ctx.ip)) return true;
    if (isIPv4(network) !== isIPv4(ctx.ip)) return false;
    throw new Abort("temperror", `whether the address known only after deploy is in ${network}${prefix === undefined ? "" : `/${prefix}`} cannot be told`, true);
  }
  return inNetwork(ctx.ip, network, prefix);
}

/** Whether `ip` is in the network for certain: always answerable, false when it cannot be told. */
function definitelyIn(ctx: Context, network: string, prefix: number | undefined): boolean {
  try {
    return clientIn(ctx, network, prefix);
  } catch (error) {
    if (error instanceof Abort) return false;
    throw error;
  }
}

/** Whether the client is in any of the networks: a definite match wins over one that cannot be told. */
function clientInAny(ctx: Context, networks: string[], prefix: number | undefined): boolean {
  if (networks.some((n) => definitelyIn(ctx, n, prefix))) return true;
  return networks.some((n) => clientIn(ctx, n, prefix));
}

function* matches(term: Mechanism, domain: string, ctx: Context): Steps<boolean> {
  const v4 = isIPv4(ctx.ip);
  const target = term.domainSpec === undefined ? domain : yield* targetName(term.domainSpec, domain, ctx);
  const cidr = v4 ? term.cidr4 : term.cidr6;
  const family = v4 ? "a" : "aaaa";
  switch (term.name) {
    case "all":
      return true;
    case "ip4":
    case "ip6":
      return clientIn(ctx, term.network!, term.name === "ip4" ? term.cidr4 : term.cidr6);
    case "include": {
      count(ctx, term.text);
      const inner = yield* check(target, ctx);
      if (inner.result === "pass") return true;
      if (inner.result === "temperror") throw new Abort("temperror", inner.reason, inner.undetermined === true);
      if (inner.result === "permerror") throw new Abort("permerror", inner.reason);
      if (inner.result === "none") throw new Abort("permerror", `"${term.text}": ${target} has no SPF record (RFC 7208 §5.2)`);
      return false;
    }
    case "a":
      count(ctx, term.text);
      return clientInAny(ctx, values(yield* ask(family, target), ctx, term.text), cidr);
    case "mx": {
      count(ctx, term.text);
      const hosts = values(yield* ask("mx", target), ctx, term.text);
      if (hosts.length > SPF_MX_LIMIT) throw new Abort("permerror", `"${term.text}": ${target} has ${hosts.length} MX names; RFC 7208 §4.6.4 allows ${SPF_MX_LIMIT}`);
      const addresses: string[] = [];
      for (const host of hosts) {
        if (host.exchange === "." || host.exchange === "") continue;
        const answer = yield* ask(family, host.exchange);
        if (!answer.ok && answer.failure !== "nodata" && answer.failure !== "nxdomain") throw lookupFailed(answer);
        if (answer.ok) addresses.push(...answer.value);
        // Stop at the first definite match, as a receiver does; an undeterminable one waits for the rest.
        if (answer.ok && answer.value.some((address) => definitelyIn(ctx, address, cidr))) return true;
      }
      return clientInAny(ctx, addresses, cidr);
    }
    case "ptr": {
      count(ctx, term.text);
      const answer = yield* ask("ptr", ctx.ip);
      if (!answer.ok && answer.failure === "unknown") throw lookupFailed(answer);
      if (!answer.ok) return false;
      for (const name of answer.value.slice(0, SPF_PTR_LIMIT)) {
        const bare = name.replace(/\.$/, "").toLowerCase();
        if (bare !== target && !bare.endsWith(`.${target}`)) continue;
        const forward = yield* ask(family, bare);
        if (forward.ok && forward.value.some((a) => sameAddress(a, ctx.ip))) return true;
      }
      return false;
    }
    case "exists": {
      count(ctx, term.text);
      // Always an A query, whatever the client's family (§5.7).
      return values(yield* ask("a", target), ctx, term.text).length > 0;
    }
  }
}

interface Evaluated {
  result: SpfCheckResult;
  reason: string;
  /** The exp= domain-spec of the record that decided a fail, and that record's <domain>. */
  exp?: { spec: string; domain: string };
  undetermined?: boolean;
}

/** The identity's own domain (§4.3), before anything is looked up: a host name of two labels or more. */
function isIdentityDomain(name: string): boolean {
  return isSpfDomain(name) && name.replace(/\.$/, "").split(".").every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l));
}

function* check(domain: string, ctx: Context, initial = false): Steps<Evaluated> {
  try {
    if (!(initial ? isIdentityDomain(domain) : isSpfDomain(domain))) return { result: "none", reason: `"${domain}" is not a valid multi-label domain name (RFC 7208 §4.3)` };
    const record = yield* fetchRecord(domain);
    if (record === undefined) return { result: "none", reason: `no SPF record at ${domain}` };
    const terms = parseSpfTerms(record);
    const exp = terms.find((t): t is Modifier => t.kind === "modifier" && t.name === "exp");
    const decided = (result: SpfCheckResult, reason: string): Evaluated => ({ result, reason, ...(result === "fail" && exp ? { exp: { spec: exp.value, domain } } : {}) });
    for (const term of terms) {
      if (term.kind !== "mechanism") continue;
      if (yield* matches(term, domain, ctx)) return decided(RESULT_OF[term.qualifier], `${domain}: "${term.text}" matched`);
    }
    const redirect = terms.find((t): t is Modifier => t.kind === "modifier" && t.name === "redirect");
    // redirect= is followed only when no mechanism matched and the record has no "all" (§6.1).
    if (redirect && !terms.some((t) => t.kind === "mechanism" && t.name === "all")) {
      count(ctx, redirect.text);
      const target = yield* targetName(redirect.value, domain, ctx);
      const inner = yield* check(target, ctx);
      if (inner.result === "none") return { result: "permerror", reason: `"${redirect.text}": ${target} has no SPF record (RFC 7208 §6.1)` };
      return inner;
    }
    return decided("neutral", `${domain}: no term matched (RFC 7208 §4.7)`);
  } catch (error) {
    if (error instanceof Abort) return { result: error.result, reason: error.message, ...(error.undetermined ? { undetermined: true } : {}) };
    throw error;
  }
}

const RESULT_OF: Record<string, SpfCheckResult> = { "+": "pass", "-": "fail", "~": "softfail", "?": "neutral" };

/** A fail's explanation (§6.2): exactly one TXT record at the expanded exp= name, macro-expanded; anything wrong, none. */
function* explain(exp: { spec: string; domain: string }, ctx: Context): Steps<string | undefined> {
  try {
    const name = yield* targetName(exp.spec, exp.domain, ctx);
    if (!isSpfDomain(name)) return undefined;
    const answer = yield* ask("txt", name);
    if (!answer.ok || answer.value.length !== 1) return undefined;
    const text = answer.value[0];
    checkMacroString(text.replace(/ /g, "%_"), EXP_LETTERS, "exp");
    return yield* expand(text, exp.domain, ctx, true);
  } catch {
    return undefined;
  }
}

/** check_host() and, for a fail, its explanation, as steps. */
function* checkHost(input: SpfCheckInput): Steps<SpfCheck> {
  const ip = normalizeClientIp(input.ip);
  if ((!isIPv4(ip) && !isIPv6(ip)) || ip.includes("%")) throw new Error(`checkSpf: "${input.ip}" is not an IP address`);
  let sender = input.sender ?? "";
  if (sender === "") sender = `postmaster@${input.domain}`;
  const at = sender.lastIndexOf("@");
  const localPart = at > 0 ? sender.slice(0, at) : "postmaster";
  const senderDomain = at >= 0 ? sender.slice(at + 1) : sender;
  if (at <= 0) sender = `postmaster@${senderDomain}`;
  const ctx: Context = {
    ip,
    sender,
    localPart,
    senderDomain,
    helo: input.helo ?? "unknown",
    receiver: input.receiver ?? "unknown",
    now: input.now ?? Math.floor(Date.now() / 1000),
    lookups: 0,
    voidLookups: 0,
    clientIpUnknown: input.clientIpUnknown === true,
  };
  const evaluated = yield* check(input.domain.replace(/\.$/, "").toLowerCase(), ctx, true);
  const explanation = evaluated.result === "fail" && evaluated.exp ? yield* explain(evaluated.exp, ctx) : undefined;
  return {
    result: evaluated.result,
    reason: evaluated.reason,
    lookups: ctx.lookups,
    voidLookups: ctx.voidLookups,
    ...(explanation !== undefined ? { explanation } : {}),
    ...(evaluated.undetermined ? { undetermined: true as const } : {}),
  };
}

/**
 * check_host() as a receiver runs it, over DNS that answers asynchronously
 * (live DNS): for the MAIL FROM identity, or for the HELO identity when the
 * sender is empty (RFC 7208 §2.3, §2.4).
 */
export async function checkSpf(input: SpfCheckInput, dns: SpfLookup): Promise<SpfCheck> {
  const steps = checkHost(input);
  let next = steps.next();
  while (!next.done) next = steps.next((await dns[next.value.type](next.value.name)) as Answer);
  return next.value;
}

/** The same check over answers known at once (a stack's own records, for the policy pack and the builders). */
export function checkSpfSync(input: SpfCheckInput, dns: SpfSyncLookup): SpfCheck {
  const steps = checkHost(input);
  let next = steps.next();
  while (!next.done) next = steps.next(dns[next.value.type](next.value.name) as Answer);
  return next.value;
}
