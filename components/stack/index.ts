export * from "./mail-stack";
export * from "./plan";
