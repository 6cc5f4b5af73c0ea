import type { AnyRule } from "./rule";

export const DKIM_RULES: AnyRule[] = [];
