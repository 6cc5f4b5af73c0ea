/**
 * `npm run bench`: the offline plan as users run it, whole processes against
 * the floor, and the README's benchmark table rewritten from the figures.
 *
 * - Postforge: `node bin/postforge.js plan --stack bench --json --cwd DIR`,
 *   stdout to a file: start-up, the YAML stack file, the program (index.ts
 *   through ts-node, as `pulumi up` runs it), the policy pack and the JSON.
 * - Floor: ./floor/process.cjs, a bare program registering the same provider
 *   resources with precomputed inputs under the same engine and mocks, its
 *   resources printed as JSON.
 *
 * Both run on the same node with the same flags; rounds interleaved, medians.
 * Exits 1 when Postforge is over 1.25x the floor in wall or CPU time.
 * BENCH_SIZES (default 100,1000) and BENCH_ROUNDS (default 5) change the runs;
 * BENCH_README=0 leaves the README alone.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeBenchProject } from "./bench-project";
import { compareProcesses, measureProcess, type Comparison } from "./measure";
import { updateReadmeTable, type BenchRow } from "./readme-table";

const REPO = path.resolve(__dirname, "..");
const SIZES = (process.env.BENCH_SIZES ?? "100,1000").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CEILING = 1.25;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-bench-"));
const bin = path.join(REPO, "bin", "postforge.js");
const rows: BenchRow[] = [];
let over = false;

console.log(`Offline plan, whole processes, median of ${ROUNDS} interleaved rounds (node ${process.version}, ${os.cpus().length} cores)`);
for (const domains of SIZES) {
  const project = writeBenchProject(path.join(work, `d${domains}`), "bench", domains);
  const floorRecords = path.join(work, `d${domains}-floor.json`);
  execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "floor", "records.ts"), project.projectDir, "bench", floorRecords], { stdio: "inherit" });
  const resources = (JSON.parse(fs.readFileSync(floorRecords, "utf8")) as unknown[]).length;
  const result = compareProcesses(
    ROUNDS,
    () => measureProcess({ args: [bin, "plan", "--stack", "bench", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile], stdoutFile: path.join(work, "plan.json") }),
    () => measureProcess({ args: [path.join(__dirname, "floor", "process.cjs")], env: { BENCH_FLOOR_RECORDS: floorRecords }, stdoutFile: path.join(work, "floor.json") }),
  );
  const row = { label: `${domains.toLocaleString("en-US")} domains, one stack (${resources.toLocaleString("en-US")} DNS records)`, ...result };
  rows.push(row);
  printRow(row);
  if (result.subject.wallMs / result.floor.wallMs > CEILING || result.subject.cpuMs / result.floor.cpuMs > CEILING) over = true;
}
fs.rmSync(work, { recursive: true, force: true });

if (process.env.BENCH_README !== "0") {
  updateReadmeTable(path.join(REPO, "README.md"), "plan", rows, `node ${process.version}, ${os.cpus().length} cores, median of ${ROUNDS} interleaved rounds`);
  console.log("README.md: benchmark table updated");
}
console.log(over ? `over the ceiling: Postforge costs more than ${CEILING}x the floor` : `every ratio within ${CEILING}x of the floor`);
if (over) process.exitCode = 1;

function printRow(row: BenchRow & Comparison): void {
  const r = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const { subject: s, floor: f } = row;
  console.log(`  ${row.label}`);
  console.log(`    wall ${(s.wallMs / 1000).toFixed(2)} s, floor ${(f.wallMs / 1000).toFixed(2)} s: ${r(s.wallMs, f.wallMs)}`);
  console.log(`    CPU  ${(s.cpuMs / 1000).toFixed(2)} s, floor ${(f.cpuMs / 1000).toFixed(2)} s: ${r(s.cpuMs, f.cpuMs)}`);
  console.log(`    peak RSS ${s.peakRssMiB.toFixed(0)} MiB, floor ${f.peakRssMiB.toFixed(0)} MiB: ${r(s.peakRssMiB, f.peakRssMiB)}`);
}
