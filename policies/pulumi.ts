import type { StackValidationPolicy } from "@pulumi/policy";
import { fromPolicyResources } from "./model/from-engine";
import { StackView } from "./model/view";
import { ALL_RULES } from "./rules";
import { ruleConfig, type AnyRule } from "./rules/rule";

/** The pack's name, as `pulumi preview --policy-pack` reports it. */
export const POLICY_PACK_NAME = "postforge-email-auth";

/**
 * Each rule as a Pulumi stack policy: the engine hands it every resource of
 * the stack (with unknown values at preview), the rule judges the decoded
 * view and reports each violation against its resource.
 */
export function toStackPolicy(rule: AnyRule): StackValidationPolicy {
  const properties = Object.fromEntries(Object.entries(rule.config ?? {}));
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    severity: rule.severity,
    tags: [rule.profile, rule.group],
    ...(Object.keys(properties).length > 0 ? { configSchema: { properties } } : {}),
    validateStack: (args, reportViolation) => {
      const view = new StackView(fromPolicyResources(args.resources));
      const config = ruleConfig(rule, args.getConfig<Record<string, unknown>>());
      for (const violation of rule.check(view, config)) reportViolation(violation.message, violation.urn);
    },
  };
}

export function postforgePolicies(rules: AnyRule[] = ALL_RULES): StackValidationPolicy[] {
  return rules.map(toStackPolicy);
}
