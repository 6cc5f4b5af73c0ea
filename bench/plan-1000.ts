/**
 * `npm run bench`: plans a generated stack of 1,000 sending domains through the
 * real index.ts and compares it with the floor (the same number of plain DNS
 * records registered by a bare program under the same mocks). Each run is a
 * fresh process; the median of several runs is reported. Not a test: figures
 * vary by machine; the target is within 1.25x of the floor in time and memory.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Sample { variant: string; seconds: number; policySeconds: number; violations: number; peakRssMiB: number; resources: number; dnsRecords: number; records: number }

function runVariant(variant: string, floorFile: string): Sample {
  const out = execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "run-variant.ts"), variant, String(DOMAINS), floorFile], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const floorFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "postforge-bench-")), "floor-records.json");
runVariant("postforge", floorFile); // warm-up, and writes the floor's records
const samples: Record<string, Sample[]> = { postforge: [], floor: [] };
for (let i = 0; i < RUNS; i++) {
  samples.floor.push(runVariant("floor", floorFile));
  samples.postforge.push(runVariant("postforge", ""));
}
const summary = (name: string) => {
  const s = samples[name];
  return { seconds: median(s.map((x) => x.seconds)), policySeconds: median(s.map((x) => x.policySeconds)), violations: s[0].violations, peakRssMiB: median(s.map((x) => x.peakRssMiB)), resources: s[0].resources, dnsRecords: s[0].dnsRecords };
};
const ours = summary("postforge");
const floor = summary("floor");
console.log(`Plan of ${DOMAINS} sending domains, median of ${RUNS} fresh-process runs (node ${process.version}, ${os.cpus().length} cores)`);
console.log(`  postforge: ${ours.seconds.toFixed(2)} s, peak RSS ${ours.peakRssMiB.toFixed(0)} MiB, ${ours.resources} resources (${ours.dnsRecords} DNS records)`);
console.log(`  floor:     ${floor.seconds.toFixed(2)} s, peak RSS ${floor.peakRssMiB.toFixed(0)} MiB, ${floor.resources} resources (${floor.dnsRecords} DNS records)`);
console.log(`  policy pack (every rule over the same resources, after the plan): ${ours.policySeconds.toFixed(2)} s, ${ours.violations} violations`);
console.log(`  ratio:     time ${(ours.seconds / floor.seconds).toFixed(2)}x, memory ${(ours.peakRssMiB / floor.peakRssMiB).toFixed(2)}x (target <= 1.25x)`);
