import type { AnyRule } from "./rule";

export const DMARC_RULES: AnyRule[] = [];
