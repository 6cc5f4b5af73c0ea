import { addressInRanges } from "../address-ranges";
import { passedDmarc, type AggregateReport } from "./dmarc-aggregate";
import type { TlsReport } from "./tls-rpt";

/**
 * Reports summed the way a domain owner reads them: per From domain and day,
 * each source address with its volume, how much of it passed DMARC (an
 * aligned DKIM or SPF pass) and what receivers did with it, ours told apart
 * from unknown; and per policy domain and day, TLS sessions that succeeded
 * and failed, by failure type and receiving MX. Pure.
 */

export interface SourceSummary {
  sourceIp: string;
  /** Whether the address is one of ours (the stack's hosts and senders, as given); unknown sources are who else sends as the domain. */
  ours: boolean;
  messages: number;
  dmarcPass: number;
  dkimAligned: number;
  spfAligned: number;
  /** Messages by what the receivers did: none, quarantine, reject. */
  dispositions: Record<string, number>;
  /** Of the messages that failed DMARC, what the receivers did with them. */
  failingDispositions: Record<string, number>;
  reporters: string[];
  /** The source's reverse DNS names (PTR), when looked up (`postforge reports` does, unless --no-ptr); [] when it has none. */
  ptr?: string[];
  /** Why its PTR is not known (a timeout, a refused query), when the lookup failed. */
  ptrUnknown?: string;
}

/** What a PTR lookup gave for one address: its names ([] for none), or why it is not known. */
export type ReverseNames = { names: string[] } | { unknown: string };

/** The days with each source's reverse DNS names filled in from `answers`, by address. Pure. */
export function withReverseNames(days: readonly DomainDay[], answers: ReadonlyMap<string, ReverseNames>): DomainDay[] {
  return days.map((d) => ({
    ...d,
    sources: d.sources.map((s) => {
      const answer = answers.get(s.sourceIp);
      if (!answer) return s;
      return "names" in answer ? { ...s, ptr: answer.names } : { ...s, ptrUnknown: answer.unknown };
    }),
  }));
}

/** One domain's DMARC aggregate figures for one day, by source. */
export interface DomainDay {
  domain: string;
  day: string;
  messages: number;
  dmarcPass: number;
  /** Of the messages from our sources, the share that passed DMARC (percent); undefined with none. */
  oursAligned?: number;
  /** Messages from unknown sources, and how many of them receivers let through (disposition none). */
  unknownMessages: number;
  unknownDelivered: number;
  sources: SourceSummary[];
}

/**
 * Which addresses are ours: CIDR ranges (the hosts' addresses, the ESPs'
 * published ranges), or a test of an address for a From domain (postforge
 * reports --ours-from-spf: what the domain's own SPF record authorizes).
 */
export type OurSources = readonly string[] | ((sourceIp: string, domain: string) => boolean);

const pct = (n: number, d: number) => Math.round((n / d) * 100 * 100) / 100;

/** Aggregate reports by From domain and day (the report's begin, UTC); several reporters on one day add up. */
export function summarizeAggregate(reports: readonly AggregateReport[], ourSources: OurSources = []): DomainDay[] {
  const days = new Map<string, DomainDay & { bySource: Map<string, SourceSummary> }>();
  const isOurs = typeof ourSources === "function" ? ourSources : (ip: string) => addressInRanges(ip, ourSources);
  for (const report of reports) {
    const day = report.begin.slice(0, 10);
    for (const r of report.records) {
      const key = `${r.headerFrom}\u0000${day}`;
      let entry = days.get(key);
      if (!entry) {
        entry = { domain: r.headerFrom, day, messages: 0, dmarcPass: 0, unknownMessages: 0, unknownDelivered: 0, sources: [], bySource: new Map() };
        days.set(key, entry);
      }
      let source = entry.bySource.get(r.sourceIp);
      if (!source) {
        source = { sourceIp: r.sourceIp, ours: isOurs(r.sourceIp, r.headerFrom), messages: 0, dmarcPass: 0, dkimAligned: 0, spfAligned: 0, dispositions: {}, failingDispositions: {}, reporters: [] };
        entry.bySource.set(r.sourceIp, source);
      }
      const pass = passedDmarc(r);
      source.messages += r.count;
      if (pass) source.dmarcPass += r.count;
      if (r.dkimAligned === "pass") source.dkimAligned += r.count;
      if (r.spfAligned === "pass") source.spfAligned += r.count;
      source.dispositions[r.disposition] = (source.dispositions[r.disposition] ?? 0) + r.count;
      if (!pass) source.failingDispositions[r.disposition] = (source.failingDispositions[r.disposition] ?? 0) + r.count;
      const reporter = report.reporter ?? report.orgName;
      if (!source.reporters.includes(reporter)) source.reporters.push(reporter);
      entry.messages += r.count;
      if (pass) entry.dmarcPass += r.count;
    }
  }
  return [...days.values()]
    .map(({ bySource, ...entry }) => {
      const sources = [...bySource.values()].sort((a, b) => b.messages - a.messages || a.sourceIp.localeCompare(b.sourceIp));
      const mine = sources.filter((s) => s.ours);
      const oursMessages = mine.reduce((n, s) => n + s.messages, 0);
      const unknown = sources.filter((s) => !s.ours);
      return {
        ...entry,
        ...(oursMessages > 0 ? { oursAligned: pct(mine.reduce((n, s) => n + s.dmarcPass, 0), oursMessages) } : {}),
        unknownMessages: unknown.reduce((n, s) => n + s.messages, 0),
        unknownDelivered: unknown.reduce((n, s) => n + (s.dispositions.none ?? 0), 0),
        sources,
      };
    })
    .sort((a, b) => a.domain.localeCompare(b.domain) || a.day.localeCompare(b.day));
}

/** One domain's TLS-RPT figures for one day: sessions that succeeded and failed, by type and receiving MTA. */
export interface TlsDomainDay {
  domain: string;
  day: string;
  policyTypes: string[];
  successful: number;
  failed: number;
  /** Failed sessions by result type and receiving MX, most first. */
  failures: { resultType: string; receivingMx: string; sessions: number; reporters: string[] }[];
}

/** TLS reports by policy domain and day (the report's start, UTC). */
export function summarizeTls(reports: readonly TlsReport[]): TlsDomainDay[] {
  const days = new Map<string, TlsDomainDay>();
  for (const report of reports) {
    const day = report.begin.slice(0, 10);
    for (const p of report.policies) {
      const key = `${p.domain}\u0000${day}`;
      let entry = days.get(key);
      if (!entry) days.set(key, (entry = { domain: p.domain, day, policyTypes: [], successful: 0, failed: 0, failures: [] }));
      if (!entry.policyTypes.includes(p.type)) entry.policyTypes.push(p.type);
      entry.successful += p.successfulSessions;
      entry.failed += p.failedSessions;
      for (const f of p.failures) {
        const mx = f.receivingMx ?? "(not said)";
        let row = entry.failures.find((x) => x.resultType === f.resultType && x.receivingMx === mx);
        if (!row) entry.failures.push((row = { resultType: f.resultType, receivingMx: mx, sessions: 0, reporters: [] }));
        row.sessions += f.sessions;
        const reporter = report.reporter ?? report.orgName;
        if (!row.reporters.includes(reporter)) row.reporters.push(reporter);
      }
    }
  }
  for (const entry of days.values()) entry.failures.sort((a, b) => b.sessions - a.sessions || a.resultType.localeCompare(b.resultType));
  return [...days.values()].sort((a, b) => a.domain.localeCompare(b.domain) || a.day.localeCompare(b.day));
}
