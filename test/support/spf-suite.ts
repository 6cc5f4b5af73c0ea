/**
 * The OpenSPF RFC 7208 test suite as data (test/fixtures/spf/rfc7208-tests.yml,
 * BSD licence beside it), and an in-memory SpfLookup over one scenario's zone
 * data: SPF-type records stand for TXT where the name has no TXT entry ("TXT:
 * NONE" is such an entry with no record), TIMEOUT makes a query the name has
 * no answer for time out, a CNAME is followed. Used by test/spf-suite.test.ts
 * and bench/spf-suite.ts.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import type { SpfLookup, SpfLookupAnswer } from "../../components/dns/protocols/spf-eval";

type Record_ = Record<string, unknown> | "TIMEOUT";

export interface Scenario {
  description: string;
  tests: Record<string, { helo: string; host: string; mailfrom: string; result: string | string[]; explanation?: string; spec?: string }>;
  zonedata: Record<string, Record_[]>;
}

export const scenarios = parseAllDocuments(readFileSync(path.join(__dirname, "..", "fixtures", "spf", "rfc7208-tests.yml"), "utf8")).map((d) => d.toJSON() as Scenario);

/** The reverse-lookup name of an address (in-addr.arpa, or ip6.arpa nibbles). */
function reverseName(ip: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return `${groups.map((g) => g.padStart(4, "0")).join("").split("").reverse().join(".")}.ip6.arpa`;
}

/** A lookup over one scenario's zone data. */
export function zoneLookup(zonedata: Scenario["zonedata"]): SpfLookup {
  const zone = new Map<string, Record_[]>();
  for (const [name, records] of Object.entries(zonedata ?? {})) zone.set(name.toLowerCase().replace(/\.$/, ""), records ?? []);
  const query = (name: string, type: string, depth = 0): SpfLookupAnswer<unknown[]> => {
    const key = name.toLowerCase().replace(/\.$/, "");
    const records = zone.get(key);
    if (records === undefined) return { ok: false, failure: "nxdomain", message: `${name}: NXDOMAIN` };
    const cname = records.find((r) => typeof r === "object" && "CNAME" in r) as Record<string, string> | undefined;
    if (cname && depth < 8) return query(cname.CNAME, type, depth + 1);
    const entries = records.filter((r): r is Record<string, unknown> => typeof r === "object" && type in r);
    // "TXT: NONE" stands for a name that has no TXT record, and keeps the SPF-type copy below away.
    const own = entries.map((r) => r[type]).filter((v) => v !== "NONE");
    // The suite's SPF-type records stand for TXT records where the name has no TXT entry at all.
    const values = type === "TXT" && entries.length === 0 ? records.filter((r): r is Record<string, unknown> => typeof r === "object" && "SPF" in r).map((r) => r.SPF) : own;
    // TIMEOUT: a query the name has no answer for times out, instead of finding nothing.
    if (values.length === 0 && records.includes("TIMEOUT")) return { ok: false, failure: "timeout", message: `${name}: timed out` };
    if (values.length === 0) return { ok: false, failure: "nodata", message: `${name}: no ${type}` };
    return { ok: true, value: values };
  };
  const strings = (answer: SpfLookupAnswer<unknown[]>): SpfLookupAnswer<string[]> =>
    answer.ok ? { ok: true, value: answer.value.map((v) => (Array.isArray(v) ? v.join("") : String(v))) } : answer;
  return {
    txt: async (name) => strings(query(name, "TXT")),
    a: async (name) => strings(query(name, "A")),
    aaaa: async (name) => strings(query(name, "AAAA")),
    mx: async (name) => {
      const answer = query(name, "MX");
      return answer.ok ? { ok: true, value: answer.value.map((v) => ({ priority: Number((v as unknown[])[0]), exchange: String((v as unknown[])[1]).replace(/\.$/, "") })) } : answer;
    },
    ptr: async (ip) => strings(query(reverseName(ip), "PTR")),
  };
}

