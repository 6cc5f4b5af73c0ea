import * as pulumi from "@pulumi/pulumi";
import { STACK_SETTINGS_TYPE } from "../type-tokens";

export { STACK_SETTINGS_TYPE };

/** The arguments of a StackSettings: the stack-wide facts the policy pack reads. */
export interface StackSettingsArgs {
  /** `postforge:environment`: production stacks are held to DMARC enforcement. */
  environment: "production" | "staging" | "development";
  /** `postforge:dmarcMode`: the DMARC dialect records are judged by. */
  dmarcMode: "rfc9989" | "rfc7489";
  /** Worst-case lookup cost of SPF includes the config declares, by include domain. */
  spfIncludeCosts: Record<string, number>;
}

/**
 * The stack-wide settings the policy pack needs and cannot read from records:
 * whether the stack is production, its DMARC dialect, the SPF include costs
 * its config declares. A resource of its own (no children) so `pulumi preview
 * --policy-pack` and `postforge plan` judge the stack by the same facts.
 */
export class StackSettings extends pulumi.ComponentResource {
  constructor(name: string, args: StackSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(STACK_SETTINGS_TYPE, name, { ...args }, opts);
    this.registerOutputs({ ...args });
  }
}
