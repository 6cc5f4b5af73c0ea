export * from "./policy-site";
