import type { AnyRule } from "./rule";

export const REVERSE_DNS_RULES: AnyRule[] = [];
