import * as path from "node:path";
import { OfflineRunError, runOffline, type CapturedResource, type OfflineRunResult } from "../../cli/plan/engine";
import type { Plan } from "../../cli/plan/plan";
import { planWithPolicies } from "../../cli/plan/policies";
import { loadProjectStack } from "../../cli/plan/stack-files";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
export const PROGRAM = path.join(PROJECT_DIR, "index.ts");

/** Run the real index.ts offline with a config given as objects (stringified like the Pulumi CLI does); keys without a namespace are postforge:*. */
export async function runProgramWith(
  config: Record<string, unknown>,
  stack = "test",
  computed?: (type: string, inputs: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>,
): Promise<OfflineRunResult> {
  const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `postforge:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
  return runOffline({ programPath: PROGRAM, project: "postforge", stack, config: flat, computed: computed && ((type, _name, inputs) => computed(type, inputs)) });
}

/** Run the program expecting it to fail; returns the error and what had been registered. */
export async function failingRun(config: Record<string, unknown>, stack = "test"): Promise<{ message: string; name: string; registered: CapturedResource[] }> {
  try {
    await runProgramWith(config, stack);
  } catch (error) {
    if (!(error instanceof OfflineRunError)) throw error;
    const cause = error.cause as Error;
    return { message: cause.message, name: cause.name, registered: error.resources.filter((r) => r.type !== "pulumi:pulumi:Stack") };
  }
  throw new Error("expected the program to fail, but it planned");
}

/** What `postforge plan --stack <stack> --json` prints: the plan, judged by the policy pack. */
export async function planExampleStack(stack: string): Promise<Plan> {
  return planWithPolicies(loadProjectStack(PROJECT_DIR, stack));
}
