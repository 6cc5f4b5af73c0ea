export * from "./provider";
export * from "./dkim-key";
export * from "./keyring";
export * from "./records";
export * from "./host-access";
