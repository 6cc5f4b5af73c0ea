/**
 * The command benchmarks (`npm run bench`, with ./plan.ts), whole processes
 * against floors, interleaved, medians; the ceiling is 2x the floor:
 *
 * - `postforge verify --domain ...` of 100 generated domains against a knotd
 *   serving their zones (written by `postforge plan --out`), against the same
 *   DNS queries asked bare (./floor/dns-queries.cjs, from verify's own
 *   POSTFORGE_DNS_TRACE). The MX hosts are on 127.0.x.y, where nothing
 *   listens on port 25: each STARTTLS probe is refused at once.
 * - `postforge diff` of two 1,000-domain plans (every DMARC and SPF record
 *   changed) against a keyed-record diff of the same files (./floor/keyed-diff.cjs).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { startKnot } from "../test/support/dns-tools";
import { writeBenchProject } from "./bench-project";
import { compareProcesses, measureProcess } from "./measure";
import { printRow } from "./plan";
import type { BenchRow } from "./readme-table";

const REPO = path.resolve(__dirname, "..");
const BIN = path.join(REPO, "bin", "postforge.js");
const CEILING = 2;

export async function runCommandBench(work: string): Promise<{ rows: BenchRow[]; over: boolean }> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  console.log(`Commands, whole processes, median of ${rounds} interleaved rounds`);
  const rows = [await verifyRow(work, rounds), diffRow(work, rounds)];
  const over = rows.some((r) => r.subject.wallMs / r.floor.wallMs > CEILING || r.subject.cpuMs / r.floor.cpuMs > CEILING);
  console.log(over ? `over the ceiling: a command costs more than ${CEILING}x its floor` : `every command within ${CEILING}x of its floor`);
  return { rows, over };
}

async function verifyRow(work: string, rounds: number): Promise<BenchRow> {
  const count = 100;
  const project = writeBenchProject(path.join(work, "verify"), "verify", count, (i) => `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`);
  const zones = path.join(work, "verify-zones");
  spawnSync(process.execPath, [BIN, "plan", "--stack", "verify", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile, "--out", zones], { stdio: "ignore" });
  const sources = fs
    .readdirSync(zones)
    .filter((f) => f.endsWith(".zone"))
    .map((f) => ({ apex: f.replace(/\.zone$/, ""), text: fs.readFileSync(path.join(zones, f), "utf8") }));
  if (sources.length !== count) throw new Error(`expected ${count} zone files in ${zones}, found ${sources.length}`);
  const knot = await startKnot(sources);
  try {
    const server = `${knot.address}:${knot.port}`;
    const trace = path.join(work, "verify-trace.txt");
    const domains = sources.map((s) => s.apex).flatMap((d) => ["--domain", d]);
    const args = [BIN, "verify", ...domains, "--dkim-selector", "pf2026q4", "--dkim-selector", "pf2026q4e", "--resolver", server, "--json"];
    const result = compareProcesses(
      rounds,
      () => measureProcess({ args, env: { POSTFORGE_DNS_TRACE: trace }, stdoutFile: path.join(work, "verify.json"), okStatus: [0, 1] }),
      () => measureProcess({ args: [path.join(__dirname, "floor", "dns-queries.cjs")], env: { BENCH_DNS_TRACE: trace, BENCH_DNS_SERVER: server }, stdoutFile: path.join(work, "verify-floor.json") }),
    );
    const queries = fs.readFileSync(trace, "utf8").trim().split("\n").length;
    const row = { label: `verify, ${count} domains (${queries} DNS queries to a local knotd)`, ...result };
    printRow(row);
    return row;
  } finally {
    await knot.stop();
  }
}

function diffRow(work: string, rounds: number): BenchRow {
  const count = 1000;
  const project = writeBenchProject(path.join(work, "diff"), "diff", count);
  const base = path.join(work, "diff-base.json");
  const head = path.join(work, "diff-head.json");
  fs.writeFileSync(base, execFileSync(process.execPath, [BIN, "plan", "--stack", "diff", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile, "--json"], { maxBuffer: 1 << 28 }));
  // Every domain's DMARC and SPF change: a large, all-changed report.
  fs.writeFileSync(head, fs.readFileSync(base, "utf8").replaceAll("p=reject", "p=quarantine").replaceAll("include:sendgrid.net -all", "include:sendgrid.net ~all"));
  const result = compareProcesses(
    rounds,
    () => measureProcess({ args: [BIN, "diff", "--base", base, "--head", head], stdoutFile: path.join(work, "diff.md") }),
    () => measureProcess({ args: [path.join(__dirname, "floor", "keyed-diff.cjs"), base, head], stdoutFile: path.join(work, "diff-floor.md") }),
  );
  const bytes = fs.statSync(path.join(work, "diff.md")).size;
  const row = { label: `diff, two ${count.toLocaleString("en-US")}-domain plans, ${count * 2} records changed (${(bytes / 1e6).toFixed(1)} MB report)`, ...result };
  printRow(row);
  return row;
}

