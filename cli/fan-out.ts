import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ValidationError } from "../components/validation";
import { listStacks } from "./plan/stack-files";

/**
 * Several stacks at once (`--stack 'estate-*'`): each planned or verified by
 * its own `postforge` process, a few at a time. One process per stack, as
 * `pulumi up` runs one program per stack: the Pulumi runtime is global to a
 * process, and a shard near the size limit needs the process's whole heap.
 */

/** Whether a --stack value names several stacks (a `*` pattern). */
export function isStackPattern(stack: string): boolean {
  return stack.includes("*");
}

/** The project's stacks matching a `*` pattern, sorted; none is an error naming the stacks there are. */
export function stacksMatching(projectDir: string, pattern: string): string[] {
  const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  const all = listStacks(projectDir);
  const matching = all.filter((s) => regex.test(s));
  if (matching.length === 0) throw new ValidationError("command line", [`--stack = "${pattern}": matches no stack; the stacks are ${all.join(", ") || "(none)"}`]);
  return matching;
}

export interface StackRun {
  stack: string;
  status: number;
  stdout: string;
  stderr: string;
}

/** bin/postforge.js of this package, found upward from here (source or dist). */
export function postforgeBin(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, "bin", "postforge.js");
    if (fs.existsSync(bin)) return bin;
    if (path.dirname(dir) === dir) throw new Error(`no bin/postforge.js above ${__dirname}`);
  }
}

/** How many stacks to run at once when --jobs is not given: one per core. */
export function defaultJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * Run `postforge <command> --stack S <args>` for every stack, at most `jobs`
 * at a time; results in the order of `stacks`, whatever order they finish in.
 */
export async function runPerStack(command: string, stacks: string[], args: string[], jobs: number, argsFor: (stack: string) => string[] = () => []): Promise<StackRun[]> {
  const bin = postforgeBin();
  const results: StackRun[] = new Array(stacks.length);
  let next = 0;
  const worker = async () => {
    while (next < stacks.length) {
      const i = next++;
      results[i] = await runOne(bin, [command, "--stack", stacks[i], ...args, ...argsFor(stacks[i])], stacks[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, stacks.length) }, worker));
  return results;
}

function runOne(bin: string, args: string[], stack: string): Promise<StackRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      // Killed by a signal (the kernel's OOM killer, say) is a crash, never a check that failed.
      resolve({ stack, status: code ?? 3, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") + (signal ? `killed by ${signal}\n` : "") }),
    );
  });
}

/** The exit status of several runs: a crash (3) over invalid input (2) over a failed check (1) over success. */
export function worstStatus(statuses: number[]): number {
  for (const status of [3, 2, 1]) if (statuses.includes(status)) return status;
  return statuses.find((s) => s !== 0) ?? 0;
}
