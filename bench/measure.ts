/**
 * Whole-process measurement for the benchmarks: each sample is one fresh
 * `node` process (and any it starts), its wall time taken around it by the
 * parent, CPU time (user + system) summed over every node process of the
 * run, and peak RSS the largest of theirs, each reported by the process
 * itself on exit (./usage-probe.cjs, preloaded through NODE_OPTIONS, which
 * children inherit). A subject and its floor are interleaved, the order
 * swapped every round, so drift in the machine's speed hits both.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { median } from "./stats";

export interface ProcessSample {
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  /** Node processes in the run. */
  processes: number;
}

export interface ProcessRun {
  /** Arguments after `node`: a script and its arguments. */
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Where stdout goes (a file: a pipe would time the reader too). */
  stdoutFile: string;
  /** Exit statuses that count as success (default 0). */
  okStatus?: number[];
}

const PROBE = path.join(__dirname, "usage-probe.cjs");

/** Run one process to the end and measure it; a failure stops the benchmark with the process's stderr. */
export function measureProcess(run: ProcessRun): ProcessSample {
  const usageFile = path.join(os.tmpdir(), `postforge-bench-usage-${process.pid}.json`);
  fs.rmSync(usageFile, { force: true });
  const out = fs.openSync(run.stdoutFile, "w");
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, run.args, {
    cwd: run.cwd,
    env: { ...process.env, ...run.env, BENCH_USAGE_FILE: usageFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${PROBE}`.trim() },
    stdio: ["ignore", out, "pipe"],
    maxBuffer: 1 << 26,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  fs.closeSync(out);
  if (!(run.okStatus ?? [0]).includes(result.status ?? -1)) {
    throw new Error(`node ${run.args.join(" ")} exited ${result.status ?? result.signal}:\n${result.stderr.toString().slice(-4000)}`);
  }
  const usage = fs
    .readFileSync(usageFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { cpuMicros: number; maxRssKiB: number });
  fs.rmSync(usageFile, { force: true });
  return {
    wallMs,
    cpuMs: usage.reduce((n, u) => n + u.cpuMicros, 0) / 1000,
    peakRssMiB: Math.max(...usage.map((u) => u.maxRssKiB)) / 1024,
    processes: usage.length,
  };
}

export interface Comparison {
  subject: ProcessSample;
  floor: ProcessSample;
  rounds: number;
}

/** Medians of `rounds` interleaved runs of each (after one unmeasured warm-up of each: disk and compile caches). */
export function compareProcesses(rounds: number, subject: () => ProcessSample, floor: () => ProcessSample): Comparison {
  subject();
  floor();
  const a: ProcessSample[] = [];
  const b: ProcessSample[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      a.push(subject());
      b.push(floor());
    } else {
      b.push(floor());
      a.push(subject());
    }
  }
  const summary = (xs: ProcessSample[]): ProcessSample => ({
    wallMs: median(xs.map((x) => x.wallMs)),
    cpuMs: median(xs.map((x) => x.cpuMs)),
    peakRssMiB: median(xs.map((x) => x.peakRssMiB)),
    processes: xs[0].processes,
  });
  return { subject: summary(a), floor: summary(b), rounds };
}
