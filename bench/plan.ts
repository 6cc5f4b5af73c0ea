/**
 * The plan benchmark (`npm run bench`, with ./commands.ts): the offline plan
 * as users run it, whole processes against the floor.
 *
 * - Postforge: `node bin/postforge.js plan --stack bench --json --cwd DIR`,
 *   stdout to a file: start-up, the YAML stack file, the program (index.ts
 *   through ts-node, as `pulumi up` runs it), the policy pack and the JSON.
 * - Floor: ./floor/process.cjs, a bare program registering the same provider
 *   resources with precomputed inputs under the same engine and mocks, its
 *   resources printed as JSON.
 *
 * - A sharded estate (BENCH_ESTATE_DOMAINS, default 10,000, in
 *   BENCH_ESTATE_SHARDS stacks, default 10): `postforge shard`, then
 *   `postforge plan --stack 'estate-*' --json`, one process per shard, one per
 *   core at a time; the floor runs its program per shard the same way.
 *
 * Both run on the same node with the same flags: a stack of LARGE_PLAN_DOMAINS
 * or more, which Postforge plans in a child node with a larger young
 * generation (cli/plan/young-generation.ts), has its floor run with the same
 * flag, so the ratio measures Postforge's code, not the tuning. Rounds
 * interleaved, medians.
 * Over 1.25x the floor in wall or CPU time for one stack is over the ceiling.
 * BENCH_SIZES (default 100,1000), BENCH_ROUNDS (5) and BENCH_ESTATE_ROUNDS (3)
 * change the runs; BENCH_ESTATE_DOMAINS=0 leaves the estate out.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeBenchProject, writeEstateProject } from "./bench-project";
import { compareProcesses, measureProcess } from "./measure";
import type { BenchRow } from "./readme-table";
import { LARGE_PLAN_DOMAINS, YOUNG_GENERATION_FLAG } from "../cli/plan/young-generation";

const REPO = path.resolve(__dirname, "..");
const BIN = path.join(REPO, "bin", "postforge.js");
const CEILING = 1.25;

/** Provider resources the program registers for a project's stack, for the floor (in a process of its own). */
function floorRecords(projectDir: string, stack: string, out: string): number {
  execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "floor", "records.ts"), projectDir, stack, out], { stdio: "inherit" });
  return (JSON.parse(fs.readFileSync(out, "utf8")) as unknown[]).length;
}

/** The node flags the floor of a stack of `domains` runs with: those Postforge's plan of it runs with. */
function floorFlags(domains: number): string[] {
  return domains >= LARGE_PLAN_DOMAINS ? [YOUNG_GENERATION_FLAG] : [];
}

export interface PlanBenchResult {
  rows: BenchRow[];
  over: boolean;
}

export function runPlanBench(work: string): PlanBenchResult {
  const sizes = (process.env.BENCH_SIZES ?? "100,1000").split(",").filter(Boolean).map(Number);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const rows: BenchRow[] = [];
  let over = false;
  console.log(`Offline plan, whole processes, median of ${rounds} interleaved rounds (node ${process.version}, ${os.availableParallelism()} cores)`);
  for (const domains of sizes) {
    const project = writeBenchProject(path.join(work, `d${domains}`), "bench", domains);
    const records = path.join(work, `d${domains}-floor.json`);
    const resources = floorRecords(project.projectDir, "bench", records);
    const result = compareProcesses(
      rounds,
      () => measureProcess({ args: [BIN, "plan", "--stack", "bench", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile], stdoutFile: path.join(work, "plan.json") }),
      () => measureProcess({ args: [...floorFlags(domains), path.join(__dirname, "floor", "process.cjs")], env: { BENCH_FLOOR_RECORDS: records }, stdoutFile: path.join(work, "floor.json") }),
    );
    const row = { label: `plan, ${domains.toLocaleString("en-US")} domains, one stack (${resources.toLocaleString("en-US")} DNS records)`, ...result };
    rows.push(row);
    printRow(row);
    if (result.subject.wallMs / result.floor.wallMs > CEILING || result.subject.cpuMs / result.floor.cpuMs > CEILING) over = true;
  }
  const estateDomains = Number(process.env.BENCH_ESTATE_DOMAINS ?? 10000);
  if (estateDomains > 0) rows.push(estateRow(work, estateDomains, Number(process.env.BENCH_ESTATE_SHARDS ?? 10), Number(process.env.BENCH_ESTATE_ROUNDS ?? 3)));
  console.log(over ? `over the ceiling: a one-stack plan costs more than ${CEILING}x the floor` : `every one-stack plan within ${CEILING}x of the floor`);
  return { rows, over };
}

function estateRow(work: string, domains: number, shards: number, rounds: number): BenchRow {
  const project = writeEstateProject(path.join(work, "estate"), domains, shards);
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [BIN, "shard", "--estate", project.estateFile, "--cwd", project.projectDir], { stdio: "ignore" });
  const shardSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stacks = JSON.parse(execFileSync(process.execPath, [BIN, "shard", "--estate", project.estateFile, "--cwd", project.projectDir, "--list"], { encoding: "utf8" })) as string[];
  let resources = 0;
  const files = stacks.map((stack) => {
    const out = path.join(work, `estate-${stack}-floor.json`);
    resources += floorRecords(project.projectDir, stack, out);
    return out;
  });
  const jobs = String(os.availableParallelism());
  const result = compareProcesses(
    rounds,
    () => measureProcess({ args: [BIN, "plan", "--stack", "estate-*", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile], stdoutFile: path.join(work, "estate.json") }),
    () =>
      measureProcess({
        args: [path.join(__dirname, "floor", "estate.cjs"), ...files],
        env: { BENCH_JOBS: jobs, BENCH_FLOOR_NODE_FLAGS: floorFlags(domains / stacks.length).join(" ") },
        stdoutFile: path.join(work, "estate-floor.json"),
      }),
  );
  const row = {
    label: `plan, ${domains.toLocaleString("en-US")} domains in ${stacks.length} shards (${resources.toLocaleString("en-US")} DNS records; ${jobs} at a time; \`postforge shard\` ${shardSeconds.toFixed(1)} s before)`,
    ...result,
  };
  printRow(row);
  return row;
}

export function printRow(row: BenchRow): void {
  const r = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const { subject: s, floor: f } = row;
  console.log(`  ${row.label}`);
  console.log(`    wall ${(s.wallMs / 1000).toFixed(2)} s, floor ${(f.wallMs / 1000).toFixed(2)} s: ${r(s.wallMs, f.wallMs)}`);
  console.log(`    CPU  ${(s.cpuMs / 1000).toFixed(2)} s, floor ${(f.cpuMs / 1000).toFixed(2)} s: ${r(s.cpuMs, f.cpuMs)}`);
  console.log(`    peak RSS ${s.peakRssMiB.toFixed(0)} MiB, floor ${f.peakRssMiB.toFixed(0)} MiB: ${r(s.peakRssMiB, f.peakRssMiB)}`);
}
