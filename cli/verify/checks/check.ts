import type { Finding } from "../../../components/dns/findings";
import type { Lookup } from "../dns";

/**
 * One line of the verify report. Ids are stable ("spf.lookups",
 * "dkim.pf2026q4.present", "fcrdns.203.0.113.25"), so scripts can pick out a
 * check; `domain` says which domain of the stack it belongs to.
 */
export type CheckStatus = "pass" | "warn" | "fail";

export interface Check {
  id: string;
  domain: string;
  status: CheckStatus;
  message: string;
}

export function check(id: string, domain: string, status: CheckStatus, message: string): Check {
  return { id, domain, status, message };
}

/**
 * A check from protocol findings: fail on any error, warn on any warning, pass
 * otherwise. Info findings are kept in a passing message only.
 */
export function fromFindings(id: string, domain: string, findings: readonly Finding[], passMessage: string): Check {
  const errors = findings.filter((f) => f.severity === "error");
  const warnings = findings.filter((f) => f.severity === "warning");
  if (errors.length > 0) return check(id, domain, "fail", [...errors, ...warnings].map((f) => f.message).join("; "));
  if (warnings.length > 0) return check(id, domain, "warn", warnings.map((f) => f.message).join("; "));
  const info = findings.filter((f) => f.severity === "info").map((f) => f.message);
  return check(id, domain, "pass", info.length > 0 ? `${passMessage} (${info.join("; ")})` : passMessage);
}

/** True when the name exists but holds nothing of the type, or does not exist. */
export function isEmpty(answer: Lookup<unknown>): boolean {
  return !answer.ok && (answer.failure === "nodata" || answer.failure === "nxdomain");
}

/** Values of a lookup, [] when there are none; undefined when the query failed (timeout, refusal). */
export function valuesOf<T>(answer: Lookup<T[]>): T[] | undefined {
  if (answer.ok) return answer.value;
  return isEmpty(answer) ? [] : undefined;
}

/** The failing check for a query that did not answer: never silently a pass. */
export function unanswered(id: string, domain: string, answer: Lookup<unknown>): Check {
  return check(id, domain, "fail", answer.ok ? "no answer" : answer.message);
}
