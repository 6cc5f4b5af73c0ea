/** One measured run in a fresh process: `postforge` (index.ts on a generated stack) or `floor`. */
import * as fs from "node:fs";
import * as path from "node:path";
import { runOffline } from "../cli/plan/engine";
import { buildPlan } from "../cli/plan/plan";
import { checkPolicies } from "../cli/plan/policies";
import { generateStackConfig } from "./generate-stack";

async function main(): Promise<void> {
  const [variant, countText, floorFile] = process.argv.slice(2);
  const count = Number(countText);
  const root = path.resolve(__dirname, "..");
  const config = variant === "postforge" ? generateStackConfig(count, "cloudflare") : {};
  if (variant === "floor") process.env.BENCH_FLOOR_RECORDS = floorFile;
  const program = variant === "postforge" ? path.join(root, "index.ts") : path.join(__dirname, "floor-program.ts");

  global.gc?.();
  const start = process.hrtime.bigint();
  const run = await runOffline({ programPath: program, project: "postforge", stack: "bench", config });
  const plan = buildPlan({ project: "postforge", stack: "bench" }, run);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // The policy pack over the same resources, as `postforge plan` runs it after planning (timed apart: the floor has no rules).
  const policyStart = process.hrtime.bigint();
  // The generated domains report to reports.example.com, outside the stack: declared as the organization would.
  const policyConfig = { "dmarc-reporting": { externalReportDestinations: ["reports.example.com"] } };
  const violations = variant === "postforge" ? checkPolicies(run.resources, policyConfig).length : 0;
  const policySeconds = Number(process.hrtime.bigint() - policyStart) / 1e9;
  const dnsRecords = run.resources.filter((r) => r.custom);
  if (variant === "postforge" && floorFile) {
    fs.writeFileSync(floorFile, JSON.stringify(dnsRecords.map((r) => ({ name: r.name, inputs: r.inputs }))));
  }
  process.stdout.write(
    `${JSON.stringify({
      variant,
      seconds,
      policySeconds,
      violations,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      resources: plan.resourceCount,
      dnsRecords: dnsRecords.length,
      records: plan.domains.reduce((n, d) => n + d.records.length, 0),
    })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
