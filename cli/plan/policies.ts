import * as fs from "node:fs";
import * as path from "node:path";
import { ValidationError } from "../../components/validation";
import { fromCaptured } from "../../policies/model/from-captured";
import { policyConfigProblems, runRules, type PolicyPackConfig, type RuleResult } from "../../policies/run";
import { runOffline, type CapturedResource } from "./engine";
import { buildPlan, type Plan } from "./plan";
import type { ProjectStack } from "./stack-files";

/**
 * The policy pack's rules in the offline plan: the same rules `pulumi preview
 * --policy-pack policies` runs, over the resources the plan captured, so a
 * stack that would be refused at deploy is refused here first.
 */

export interface PlannedViolation {
  rule: string;
  enforcementLevel: "mandatory" | "advisory";
  message: string;
  /** The logical name of the resource blamed, when there is one. */
  resource?: string;
}

/** Read a policy config file (the JSON `pulumi preview --policy-pack-config` takes), or a shipped profile. */
export function readPolicyConfig(projectDir: string, file: string | undefined, profile: string | undefined): PolicyPackConfig {
  const load = (where: string, flag: string): PolicyPackConfig => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(where, "utf8"));
    } catch (error) {
      throw new ValidationError("command line", [`${flag} = ${JSON.stringify(where)}: cannot read it as JSON (${(error as Error).message})`]);
    }
    const problems = policyConfigProblems(parsed);
    if (problems.length > 0) throw new ValidationError(`policy config ${where}`, problems);
    return parsed as PolicyPackConfig;
  };
  const fromProfile = profile ? load(path.join(projectDir, "policies", "profiles", `${profile}.json`), "--profile") : {};
  const fromFile = file ? load(path.resolve(file), "--policy-config") : {};
  return { ...fromProfile, ...fromFile };
}

export function checkPolicies(resources: CapturedResource[], config: PolicyPackConfig): PlannedViolation[] {
  const results: RuleResult[] = runRules(fromCaptured(resources), config);
  const names = new Map(resources.map((r) => [r.urn, r.name]));
  return results.flatMap((result) =>
    result.enforcementLevel === "disabled"
      ? []
      : result.violations.map((v) => ({
          rule: result.rule.name,
          // A stack policy cannot remediate, so the engine runs "remediate" as mandatory; so does the plan.
          enforcementLevel: result.enforcementLevel === "advisory" ? ("advisory" as const) : ("mandatory" as const),
          message: v.message,
          ...(v.urn && names.has(v.urn) ? { resource: names.get(v.urn)! } : {}),
        })),
  );
}

/**
 * Plan a stack and judge it with the pack: what `postforge plan` prints and
 * what the tests compare it with.
 */
export async function planWithPolicies(project: ProjectStack, policyConfig: PolicyPackConfig = {}, moreConfig?: (plan: Plan) => PolicyPackConfig): Promise<Plan> {
  const run = await runOffline(project);
  const plan = buildPlan(project, run);
  // What only the plan can say (the DMARC evidence, with --reports) joins the config the rules run with.
  const extra = moreConfig?.(plan) ?? {};
  const config: PolicyPackConfig = { ...policyConfig };
  for (const [rule, entry] of Object.entries(extra)) {
    const mine = config[rule];
    config[rule] = { ...(typeof mine === "object" ? mine : typeof mine === "string" ? { enforcementLevel: mine } : {}), ...(entry as object) };
  }
  // The stack's own settings (production, DMARC dialect, declared SPF include costs) reach the rules
  // through its StackSettings resource, as they do under `pulumi preview --policy-pack`.
  return { ...plan, policyViolations: checkPolicies(run.resources, config) };
}
