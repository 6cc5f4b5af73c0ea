/**
 * `npm run bench`: the plan benchmarks (./plan.ts) and the command
 * benchmarks (./commands.ts), each against its floor in the same run, and
 * the README's tables rewritten from the figures (BENCH_README=0: not).
 * Exits 1 when any ratio is over its ceiling.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCommandBench } from "./commands";
import { runPlanBench } from "./plan";
import { updateReadmeTable } from "./readme-table";

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-bench-"));
  try {
    const plan = runPlanBench(work);
    const commands = process.env.BENCH_COMMANDS === "0" ? undefined : await runCommandBench(work);
    if (process.env.BENCH_README !== "0") {
      const readme = path.resolve(__dirname, "..", "README.md");
      const note = (rounds: string) => `node ${process.version}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, median of ${rounds} interleaved rounds`;
      // A run of the commands alone (BENCH_SIZES= BENCH_ESTATE_DOMAINS=0) leaves the plan table as it is.
      if (plan.rows.length > 0) updateReadmeTable(readme, "plan", plan.rows, note(`${process.env.BENCH_ROUNDS ?? 5} (the estate ${process.env.BENCH_ESTATE_ROUNDS ?? 3})`));
      if (commands) updateReadmeTable(readme, "commands", commands.rows, note(process.env.BENCH_ROUNDS ?? "5"));
      console.log("README.md: benchmark tables updated");
    }
    if (plan.over || commands?.over) process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
