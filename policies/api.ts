/**
 * `postforge/policies`: the policy pack's rules as a library, for running
 * them outside the policy engine (in a team's own tests over a mocked run,
 * as `postforge plan` does). Importing it constructs no PolicyPack; point
 * `pulumi preview --policy-pack` at the pack directory instead
 * (node_modules/postforge/dist/policies, see the README).
 */
export { ALL_RULES } from "./rules";
export type { AnyRule } from "./rules/rule";
export { enforcementOf, policyConfigProblems, propertiesOf, runRules, type PolicyConfigEntry, type PolicyPackConfig, type RuleResult } from "./run";
export { POLICY_PACK_NAME, postforgePolicies, toStackPolicy } from "./pulumi";
export { fromCaptured, propsAsEngineSees } from "./model/from-captured";
export type { StackResource } from "./model/resources";
