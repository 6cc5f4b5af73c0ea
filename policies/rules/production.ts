import type { StackView } from "../model/view";
import type { RuleConfigProperty } from "./rule";

/**
 * Which stacks are production, for the rules that ask more of them
 * (dmarc-enforcement, host-warmup): each rule takes the same two settings.
 */
export interface ProductionConfig {
  production: boolean | null;
  productionStacks: string[];
}

export const PRODUCTION_CONFIG: { [K in keyof ProductionConfig]: RuleConfigProperty & { default: ProductionConfig[K] } } = {
  production: {
    enum: [true, false, null],
    default: null,
    description: "Whether this stack is production. Unset (null): production when the stack says so (postforge:environment: production) or its name is in productionStacks.",
  },
  productionStacks: {
    type: "array",
    items: { type: "string" },
    default: ["prod", "production"],
    description: "Stack names that are production when production is unset.",
  },
};

export function isProductionStack(view: StackView, config: ProductionConfig): boolean {
  return config.production ?? (view.settings?.environment === "production" || (config.productionStacks ?? []).includes(view.stack));
}
