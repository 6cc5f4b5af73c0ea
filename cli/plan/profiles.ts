/** The policy profiles shipped in policies/profiles/ (dependency-free, so flag parsing needs no engine). */
export const POLICY_PROFILES = ["bulk-sender"] as const;
