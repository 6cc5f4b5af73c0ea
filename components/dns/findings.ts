/**
 * Results are data, not prints: every protocol rule reports findings, and the
 * builders, the policy packs and `verify` each present them their own way.
 */
/** How bad a finding is: an error refuses the record; a warning or info is only reported. */
export type Severity = "error" | "warning" | "info";

/** One problem (or note) a protocol rule found in a record or an intent. */
export interface Finding {
  /** Stable machine-readable code, e.g. "spf.lookups.over-limit". */
  code: string;
  /** How bad it is (see Severity). */
  severity: Severity;
  /** Human message naming the record, the value and the fix. */
  message: string;
  /** Where in the builder's intent the problem is, e.g. "rua[0]"; callers prefix their own path. */
  path?: string;
}

/** The findings that are errors, in their order; warnings and info are left out. */
export function errorsOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === "error");
}

/** Thrown by builders when intent cannot produce valid records. */
export class RecordBuildError extends Error {
  constructor(readonly findings: Finding[]) {
    super(findings.map((f) => f.message).join("\n"));
    this.name = "RecordBuildError";
  }
}

/** Throw when any finding is an error; return the rest (warnings) otherwise. */
export function throwOnErrors(findings: Finding[]): Finding[] {
  const errors = errorsOf(findings);
  if (errors.length > 0) throw new RecordBuildError(errors);
  return findings;
}
