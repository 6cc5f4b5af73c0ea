/**
 * Writes the floor's input: the provider resources Postforge's program
 * registers for a bench project (type, name and inputs, as captured), for
 * ./program.cjs to register bare. Run in its own process (the Pulumi runtime
 * is process-global): `node --import tsx bench/floor/records.ts DIR STACK OUT`.
 */
import * as fs from "node:fs";
import { runOffline } from "../../cli/plan/engine";
import { loadProjectStack } from "../../cli/plan/stack-files";

async function main(): Promise<void> {
  const [projectDir, stack, out] = process.argv.slice(2);
  const run = await runOffline(loadProjectStack(projectDir, stack));
  const custom = run.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
  fs.writeFileSync(out, JSON.stringify(custom));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
