import { Resolver } from "node:dns/promises";
import { isIPv4, isIPv6 } from "node:net";
import { canonicalName } from "../../components/dns/model";
import { ipv6Groups } from "../../components/ip-address";

/**
 * The lookup layer for `verify`: every DNS question verify asks goes through
 * here, so every one has a bounded time, a bounded number in flight, and an
 * answer that is data (found, nothing there, or why it failed) rather than a
 * thrown error. Answers are memoized per name and type, so the SPF evaluator
 * and the checks can ask the same question twice without a second query.
 *
 * A broken resolver must never hang verify: c-ares has its own timeout
 * (`tries: 1`), and each query also races its own timer, which cancels the
 * Resolver it ran on when it fires. Resolvers are pooled, one per slot in
 * flight: a query holds its Resolver alone, so a cancel ends that query only,
 * and a pooled Resolver costs a quarter of a new one per question.
 */

export type LookupFailure = "nodata" | "nxdomain" | "timeout" | "error";

export type Lookup<T> = { ok: true; value: T } | { ok: false; failure: LookupFailure; message: string };

export interface MxAnswer {
  priority: number;
  /** Host name, canonical; "." for a null MX. */
  exchange: string;
}

export interface DnsLookup {
  /** TXT answers, each record's character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<Lookup<string[]>>;
  mx(name: string): Promise<Lookup<MxAnswer[]>>;
  a(name: string): Promise<Lookup<string[]>>;
  aaaa(name: string): Promise<Lookup<string[]>>;
  /** CAA answers as "flags tag value". */
  caa(name: string): Promise<Lookup<string[]>>;
  /** The CNAME target, canonical. */
  cname(name: string): Promise<Lookup<string[]>>;
  /** PTR names of an IP address (the reverse name is built here). */
  ptr(ip: string): Promise<Lookup<string[]>>;
  /** Where queries go, for messages: "127.0.0.1:5300" or "the system resolver". */
  readonly where: string;
  readonly timeoutMs: number;
  /** Queries sent and answered (any answer, failures included), for progress; Resolvers created, at most the concurrency. */
  readonly stats: { sent: number; answered: number; unreachable: boolean; resolvers: number };
}

export interface DnsLookupOptions {
  /** One server "HOST:PORT" (or "HOST"); the system's resolvers when absent. */
  server?: string;
  /** Per-query limit in milliseconds. */
  timeoutMs: number;
  /** Queries in flight at once. */
  concurrency: number;
  /** Told of each query as it is sent (the name as asked: a PTR's reverse name): POSTFORGE_DNS_TRACE, and the verify benchmark's floor. */
  onQuery?: (name: string, kind: string) => void;
}

export const DEFAULT_TIMEOUT_MS = 3000;
/**
 * After this many queries in a row time out, the resolver is taken for
 * unreachable and every query not yet sent fails at once ("not run"): a dead
 * resolver then costs verify about two timeouts, not (queries ÷ concurrency)
 * timeouts. Any other answer resets the count.
 */
export const UNREACHABLE_AFTER_TIMEOUTS = 8;
export const DEFAULT_CONCURRENCY = 8;

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

type RecordKind = "TXT" | "MX" | "A" | "AAAA" | "PTR" | "CAA" | "CNAME";

export function createDnsLookup(options: DnsLookupOptions): DnsLookup {
  const run = limiter(options.concurrency);
  const cache = new Map<string, Promise<Lookup<unknown>>>();
  const where = options.server ?? "the system resolver";
  const stats = { sent: 0, answered: 0, unreachable: false, resolvers: 0 };
  let timeoutsInARow = 0;
  const idle: Resolver[] = [];
  const takeResolver = (): Resolver => {
    const pooled = idle.pop();
    if (pooled) return pooled;
    stats.resolvers++;
    const resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
    if (options.server) resolver.setServers([options.server]);
    return resolver;
  };

  const query = <T>(name: string, kind: RecordKind, ask: (r: Resolver, name: string) => Promise<T>): Promise<Lookup<T>> => {
    const key = `${canonicalName(name)} ${kind}`;
    let pending = cache.get(key) as Promise<Lookup<T>> | undefined;
    if (!pending) {
      pending = run(() => ask1(name, kind, ask));
      cache.set(key, pending);
    }
    return pending;
  };

  const ask1 = async <T>(name: string, kind: RecordKind, ask: (r: Resolver, name: string) => Promise<T>): Promise<Lookup<T>> => {
    if (stats.unreachable) {
      return { ok: false, failure: "timeout", message: `not run: resolver unreachable (${where}: ${UNREACHABLE_AFTER_TIMEOUTS} queries in a row timed out after ${options.timeoutMs} ms each); ${name} ${kind} was not asked` };
    }
    stats.sent++;
    options.onQuery?.(name, kind);
    const answer = await askOnce(name, kind, ask);
    stats.answered++;
    if (!answer.ok && answer.failure === "timeout") {
      if (++timeoutsInARow >= UNREACHABLE_AFTER_TIMEOUTS) stats.unreachable = true;
    } else {
      timeoutsInARow = 0;
    }
    return answer;
  };

  const askOnce = async <T>(name: string, kind: RecordKind, ask: (r: Resolver, name: string) => Promise<T>): Promise<Lookup<T>> => {
    // This query holds the Resolver alone until it returns, so a cancel reaches no other query.
    const resolver = takeResolver();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    });
    const timeoutMessage = `DNS query for ${name} ${kind} timed out after ${options.timeoutMs} ms at ${where}`;
    try {
      const answer = await Promise.race([ask(resolver, name).then((value) => ({ value })), timedOut]);
      if (answer === "timeout") {
        resolver.cancel();
        return { ok: false, failure: "timeout", message: timeoutMessage };
      }
      return { ok: true, value: answer.value };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      switch (code) {
        case "ENODATA":
          return { ok: false, failure: "nodata", message: `no ${kind} record at ${name}` };
        case "ENOTFOUND":
          return { ok: false, failure: "nxdomain", message: `${name} does not exist (NXDOMAIN) looking for ${kind}` };
        case "ETIMEOUT":
        case "ECANCELLED":
          return { ok: false, failure: "timeout", message: timeoutMessage };
        default:
          return { ok: false, failure: "error", message: `DNS query for ${name} ${kind} failed at ${where}: ${code ?? (error as Error).message}` };
      }
    } finally {
      clearTimeout(timer);
      idle.push(resolver);
    }
  };

  return {
    where,
    timeoutMs: options.timeoutMs,
    stats,
    txt: (name) => query(name, "TXT", async (r, n) => (await r.resolveTxt(n)).map((strings) => strings.join(""))),
    mx: (name) =>
      query(name, "MX", async (r, n) =>
        (await r.resolveMx(n)).map((m) => ({ priority: m.priority, exchange: m.exchange === "" ? "." : canonicalName(m.exchange) })),
      ),
    a: (name) => query(name, "A", (r, n) => r.resolve4(n)),
    aaaa: (name) => query(name, "AAAA", (r, n) => r.resolve6(n)),
    caa: (name) =>
      query(name, "CAA", async (r, n) =>
        (await r.resolveCaa(n)).map((c) => {
          const [tag, value] = Object.entries(c).find(([k]) => k !== "critical")!;
          return `${c.critical} ${tag} ${String(value)}`;
        }),
      ),
    cname: (name) => query(name, "CNAME", async (r, n) => (await r.resolveCname(n)).map(canonicalName)),
    ptr: (ip) => query(reverseName(ip), "PTR", async (r, n) => (await r.resolvePtr(n)).map(canonicalName)),
  };
}

/** The in-addr.arpa / ip6.arpa name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  if (ip.includes(":")) return `${expandIPv6(ip).replace(/:/g, "").split("").reverse().join(".")}.ip6.arpa`;
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

/** Full 8-group form of an IPv6 address, each group 4 hex digits. */
export function expandIPv6(ip: string): string {
  return ipv6Groups(ip.toLowerCase()).join(":");
}

/** "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353": node's resolvers take IP addresses only. */
export function isResolverAddress(text: string): boolean {
  // IPv4 first: node's isIPv6 compiles a large pattern on its first call (2.5 ms of a 100-domain verify).
  const v4 = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  if (v4 !== null && isIPv4(v4[1])) return validPort(v4[2]);
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return isIPv6(bracketed[1]) && validPort(bracketed[2]);
  return isIPv6(text);
}

function validPort(port: string | undefined): boolean {
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}
