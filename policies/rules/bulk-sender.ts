import type { AnyRule } from "./rule";

export const BULK_SENDER_RULES: AnyRule[] = [];
