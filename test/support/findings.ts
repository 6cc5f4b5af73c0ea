import assert from "node:assert/strict";
import { RecordBuildError, type Finding } from "../../components/dns/findings";

/** Run a builder that must refuse its intent; return the findings it threw. */
export function buildErrors(fn: () => unknown): Finding[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RecordBuildError, `expected RecordBuildError, got ${e}`);
    return e.findings;
  }
  assert.fail("expected the builder to throw");
}

export const codes = (findings: Finding[]) => findings.map((f) => f.code);
