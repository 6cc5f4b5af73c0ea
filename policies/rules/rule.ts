import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { StackView } from "../model/view";

/**
 * A Postforge policy rule: metadata (which the pack, the README and
 * `postforge plan` all read) and one pure check over the whole stack.
 * Rules never construct Pulumi objects; ./pulumi.ts turns each into a stack
 * policy and policies/index.ts packs them.
 */

export type RuleGroup =
  | "SPF"
  | "DKIM"
  | "DMARC"
  | "Reverse DNS"
  | "MX and receiving"
  | "MTA-STS and TLS-RPT"
  | "BIMI"
  | "Host hardening"
  | "Sending reputation"
  | "Bulk senders";

/** baseline: every stack; bulk-sender: the mailbox providers' bulk-sender requirements (Google, Yahoo, Microsoft). */
export type RuleProfile = "baseline" | "bulk-sender";

export type EnforcementLevel = "mandatory" | "advisory" | "disabled";

export interface RuleConfigProperty extends PolicyConfigJSONSchema {
  description: string;
}

export interface Violation {
  /** Names the domain, the record and the fix. */
  message: string;
  /** The resource to blame, when there is one. */
  urn?: string;
}

export interface Rule<Config extends object = Record<string, never>> {
  /** Unique, kebab-case; the policy's name in the pack and in policy config. */
  name: string;
  group: RuleGroup;
  profile: RuleProfile;
  /** One sentence: what must hold. */
  description: string;
  /** Default enforcement; policy config can change it per rule. */
  enforcementLevel: EnforcementLevel;
  severity: "low" | "medium" | "high" | "critical";
  /** Where the requirement comes from (RFC section, provider page). */
  source: string;
  /** Policy config properties, each with its default. */
  config?: { [K in keyof Config]: RuleConfigProperty & { default: Config[K] } };
  check(view: StackView, config: Config): Violation[];
}

// Rules of different config types live in one list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRule = Rule<any>;

/** The rule's config with every default filled in, then what the user set. */
export function ruleConfig(rule: AnyRule, given: Record<string, unknown> = {}): Record<string, unknown> {
  const defaults = Object.fromEntries(Object.entries(rule.config ?? {}).map(([k, v]) => [k, (v as RuleConfigProperty).default]));
  const set = Object.fromEntries(Object.entries(given).filter(([k]) => k !== "enforcementLevel"));
  return { ...defaults, ...set };
}
