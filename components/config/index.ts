export * from "./schema";
export * from "./read";
export * from "./desired-records";
export * from "./backend";
export * from "./dkim-keys";
export * from "./mail-host";
