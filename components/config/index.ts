export * from "./schema";
export * from "./read";
export * from "./desired-records";
export * from "./backend";
