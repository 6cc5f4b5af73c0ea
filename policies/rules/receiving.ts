import type { AnyRule } from "./rule";

export const RECEIVING_RULES: AnyRule[] = [];
