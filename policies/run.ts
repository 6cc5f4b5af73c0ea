import { StackView } from "./model/view";
import type { StackResource } from "./model/resources";
import { ALL_RULES } from "./rules";
import { ruleConfig, type AnyRule, type EnforcementLevel, type Violation } from "./rules/rule";

/**
 * Run the rules over a stack's resources outside the policy engine (the
 * offline plan, the tests), with the same config file `pulumi preview
 * --policy-pack-config` takes: `{ "all": "advisory", "<rule>": "mandatory" |
 * { "enforcementLevel": ..., <property>: ... } }`.
 */

export type PolicyConfigEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PolicyPackConfig = Record<string, PolicyConfigEntry>;

export interface RuleResult {
  rule: AnyRule;
  enforcementLevel: EnforcementLevel;
  violations: Violation[];
}

/** The level a rule runs at: its own entry, else `all`, else its default. */
export function enforcementOf(rule: AnyRule, config: PolicyPackConfig = {}): EnforcementLevel {
  const level = (entry: PolicyConfigEntry | undefined) => (typeof entry === "string" ? entry : entry?.enforcementLevel);
  return level(config[rule.name]) ?? level(config.all) ?? rule.enforcementLevel;
}

export function propertiesOf(entry: PolicyConfigEntry | undefined): Record<string, unknown> {
  return entry && typeof entry === "object" ? entry : {};
}

export function runRules(resources: StackResource[], config: PolicyPackConfig = {}, rules: AnyRule[] = ALL_RULES): RuleResult[] {
  const view = new StackView(resources);
  return rules.map((rule) => {
    const enforcementLevel = enforcementOf(rule, config);
    const violations = enforcementLevel === "disabled" ? [] : rule.check(view, ruleConfig(rule, propertiesOf(config[rule.name])));
    return { rule, enforcementLevel, violations };
  });
}

/** Problems with a policy config, each naming the rule, the setting and what is allowed. */
export function policyConfigProblems(config: unknown, rules: AnyRule[] = ALL_RULES): string[] {
  if (!config || typeof config !== "object" || Array.isArray(config)) return ["(root): must be an object of rule names to an enforcement level or settings"];
  const problems: string[] = [];
  const levels = ["mandatory", "advisory", "disabled", "remediate"];
  const names = new Map(rules.map((r) => [r.name, r]));
  for (const [key, entry] of Object.entries(config as Record<string, unknown>)) {
    const rule = names.get(key);
    if (!rule && key !== "all") {
      problems.push(`${key}: unknown rule; the rules are ${[...names.keys()].join(", ")}`);
      continue;
    }
    if (typeof entry === "string") {
      if (!levels.includes(entry)) problems.push(`${key} = ${JSON.stringify(entry)}: must be one of ${levels.join(", ")}`);
      continue;
    }
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) {
      problems.push(`${key} = ${JSON.stringify(entry)}: must be an enforcement level or an object of settings`);
      continue;
    }
    for (const [property, value] of Object.entries(entry)) {
      if (property === "enforcementLevel") {
        if (!levels.includes(value as string)) problems.push(`${key}.enforcementLevel = ${JSON.stringify(value)}: must be one of ${levels.join(", ")}`);
        continue;
      }
      const schema = rule?.config?.[property as never] as { type?: string | string[]; enum?: unknown[]; minimum?: number; maximum?: number } | undefined;
      if (!schema) {
        problems.push(`${key}.${property}: unknown setting; ${rule?.config ? `the settings are ${Object.keys(rule.config).join(", ")}` : "this rule has none"}`);
        continue;
      }
      const actual = Array.isArray(value) ? "array" : value === null ? "null" : Number.isInteger(value) ? "integer" : typeof value;
      const types = schema.type === undefined ? [] : [schema.type].flat();
      const okType = types.length === 0 || types.includes(actual) || (types.includes("number") && actual === "integer");
      if (!okType) problems.push(`${key}.${property} = ${JSON.stringify(value)}: must be of type ${types.join(" or ")}`);
      else if (schema.enum && !schema.enum.includes(value)) problems.push(`${key}.${property} = ${JSON.stringify(value)}: must be one of ${schema.enum.join(", ")}`);
      else if (typeof value === "number" && ((schema.minimum !== undefined && value < schema.minimum) || (schema.maximum !== undefined && value > schema.maximum))) {
        problems.push(`${key}.${property} = ${value}: must be between ${schema.minimum ?? "-∞"} and ${schema.maximum ?? "∞"}`);
      }
    }
  }
  return problems;
}
