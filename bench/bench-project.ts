/**
 * A project directory for the plan benchmarks, set up as a user's checkout
 * is: Pulumi.yaml, index.ts and tsconfig.json are this repository's (linked),
 * and stacks/ holds a generated stack file, so `postforge plan --cwd DIR`
 * runs the real program on it the way `npm run plan` does here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { dump } from "js-yaml";
import { generateStackConfig } from "./generate-stack";

const REPO = path.resolve(__dirname, "..");

export interface BenchProject {
  projectDir: string;
  stack: string;
  /** The policy pack config the generated domains need (their reports go to a declared outside domain). */
  policyConfigFile: string;
}

export function writeBenchProject(projectDir: string, stack: string, domainCount: number, address?: (i: number) => string): BenchProject {
  fs.mkdirSync(path.join(projectDir, "stacks"), { recursive: true });
  for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"]) {
    const link = path.join(projectDir, file);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(REPO, file), link);
  }
  writeStackFile(path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`), generateStackConfig(domainCount, "cloudflare", address));
  const policyConfigFile = path.join(projectDir, "policy-config.json");
  fs.writeFileSync(policyConfigFile, JSON.stringify({ "dmarc-reporting": { externalReportDestinations: ["reports.example.com"] } }));
  return { projectDir, stack, policyConfigFile };
}

/** A stack file of flat `namespace:key` settings, the structured ones (JSON strings) written as YAML. */
export function writeStackFile(file: string, settings: Record<string, string>): void {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) config[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  fs.writeFileSync(file, dump({ config }, { lineWidth: -1 }));
}

/**
 * A project for a sharded estate: the same generated domains in an estate
 * file (estate.yaml) to be split by `postforge shard` into `shardCount` stacks.
 */
export function writeEstateProject(projectDir: string, domainCount: number, shardCount: number): BenchProject & { estateFile: string } {
  const project = writeBenchProject(projectDir, "bench", 1);
  fs.rmSync(path.join(projectDir, "stacks", "Pulumi.bench.yaml"));
  const settings = generateStackConfig(domainCount, "cloudflare");
  const estateFile = path.join(projectDir, "estate.yaml");
  fs.writeFileSync(
    estateFile,
    dump(
      { stackPrefix: "estate", shardCount, config: { "postforge:environment": settings["postforge:environment"] }, domains: JSON.parse(settings["postforge:domains"]) },
      { lineWidth: -1 },
    ),
  );
  return { ...project, stack: "estate-*", estateFile };
}
