/**
 * SPF evaluation speed (not a test): Postforge's evaluator
 * (components/dns/protocols/spf-eval.ts) against mailauth's SPF module in
 * strict mode, the floor, both over the same in-memory zone data of the RFC
 * 7208 suite (203 checks a round). Rounds alternate the two; the medians of
 * checks per second are reported with the ratio, and each one's score.
 *
 *   SPF_BENCH_ROUNDS  rounds of each, default 15
 */
import { performance } from "node:perf_hooks";
import { spf as mailauthSpf } from "mailauth/lib/spf";
import { checkSpf, type SpfLookup } from "../components/dns/protocols/spf-eval";
import { scenarios, zoneLookup } from "../test/support/spf-suite";

const ROUNDS = Number(process.env.SPF_BENCH_ROUNDS ?? 15);

/** mailauth's resolver over the same lookup: records or a DNS error code. */
function resolverOf(dns: SpfLookup) {
  return async (name: string, type: string) => {
    const ask = { TXT: dns.txt, A: dns.a, AAAA: dns.aaaa, MX: dns.mx } as Record<string, ((n: string) => Promise<any>) | undefined>;
    const answer = type === "PTR" ? await dns.ptr(name.replace(/\.in-addr\.arpa$/i, "").split(".").reverse().join(".")) : await ask[type]?.(name);
    if (!answer) throw Object.assign(new Error("ENODATA"), { code: "ENODATA" });
    if (!answer.ok) throw Object.assign(new Error(answer.message), { code: answer.failure === "nxdomain" ? "ENOTFOUND" : answer.failure === "nodata" ? "ENODATA" : "ETIMEOUT" });
    if (type === "TXT") return answer.value.map((v: string) => [v]);
    if (type === "MX") return answer.value.map((m: { priority: number; exchange: string }) => ({ priority: m.priority, exchange: m.exchange }));
    return answer.value;
  };
}

const cases = scenarios.flatMap((s) => {
  const dns = zoneLookup(s.zonedata);
  return Object.values(s.tests).map((t) => {
    const domain = t.mailfrom.includes("@") ? t.mailfrom.slice(t.mailfrom.lastIndexOf("@") + 1) : t.mailfrom || t.helo;
    return { t, dns, domain, expected: Array.isArray(t.result) ? t.result : [t.result] };
  });
});

async function ours(): Promise<number> {
  let right = 0;
  for (const c of cases) {
    const r = await checkSpf({ ip: c.t.host, domain: c.domain, sender: c.t.mailfrom, helo: c.t.helo, receiver: "receiver.example.com", now: 0 }, c.dns);
    if (c.expected.includes(r.result)) right++;
  }
  return right;
}

async function theirs(): Promise<number> {
  let right = 0;
  for (const c of cases) {
    const r = await mailauthSpf({ ip: c.t.host, sender: c.t.mailfrom, helo: c.t.helo, mta: "receiver.example.com", resolver: resolverOf(c.dns) as never, strict: true } as never);
    if (c.expected.includes((r as { status: { result: string } }).status.result)) right++;
  }
  return right;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const rates: Record<string, number[]> = { postforge: [], mailauth: [] };
  const scores: Record<string, number> = {};
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, run] of [["postforge", ours], ["mailauth", theirs]] as const) {
      const started = performance.now();
      scores[name] = await run();
      rates[name].push(cases.length / ((performance.now() - started) / 1000));
    }
  }
  const p = median(rates.postforge);
  const m = median(rates.mailauth);
  console.log(`${cases.length} checks a round, ${ROUNDS} rounds of each, alternating`);
  console.log(`postforge evaluator  ${p.toFixed(0)} checks/s  (results right: ${scores.postforge}/${cases.length})`);
  console.log(`mailauth (strict)    ${m.toFixed(0)} checks/s  (results right: ${scores.mailauth}/${cases.length})`);
  console.log(`ratio postforge / mailauth: ${(p / m).toFixed(2)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
