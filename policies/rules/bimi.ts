import type { AnyRule } from "./rule";

export const BIMI_RULES: AnyRule[] = [];
