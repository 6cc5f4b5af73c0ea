/**
 * Records the URNs a stack program registers, for test/upgrade.test.ts:
 *
 *   node --import tsx test/support/capture-urns.ts PROGRAM_DIR STACK OUT.json
 *
 * PROGRAM_DIR is a checkout of the release to capture (its index.ts and
 * stacks/); the URNs are the engine's (cli/plan/engine.ts). The fixtures in
 * test/fixtures/upgrade/ were made so from the release before MailStack.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { runOffline } from "../../cli/plan/engine";
import { loadProjectStack } from "../../cli/plan/stack-files";

async function main(): Promise<void> {
  const [dir, stack, out, commit] = process.argv.slice(2);
  const project = loadProjectStack(dir, stack);
  const result = await runOffline({ programPath: path.join(dir, "index.ts"), project: "postforge", stack, config: project.config });
  const resources = result.resources.map((r) => ({ urn: r.urn, protect: r.protect })).sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  writeFileSync(out, `${JSON.stringify({ capturedFrom: commit ?? "unknown", stack, resources }, null, 1)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
