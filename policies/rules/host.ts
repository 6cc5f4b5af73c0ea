import type { AnyRule } from "./rule";

export const HOST_RULES: AnyRule[] = [];
