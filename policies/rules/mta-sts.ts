import type { AnyRule } from "./rule";

export const MTA_STS_RULES: AnyRule[] = [];
