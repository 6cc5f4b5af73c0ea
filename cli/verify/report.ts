import type { Check, CheckStatus } from "./checks/check";

/**
 * Presentation of verify results, last and shared: a checklist grouped by
 * domain for people, or the checks as a JSON array for scripts.
 */

const MARK: Record<CheckStatus, string> = { pass: "✓", warn: "!", fail: "✗" };

export function renderChecklist(checks: readonly Check[], title: string): string {
  const lines = [title, ""];
  const domains = [...new Set(checks.map((c) => c.domain))];
  for (const domain of domains) {
    const mine = checks.filter((c) => c.domain === domain);
    lines.push(`${domain}  (${summary(mine)})`);
    for (const c of mine) lines.push(`  ${MARK[c.status]} ${c.id}: ${c.message}`);
    lines.push("");
  }
  lines.push(`${summary(checks)}: ${checks.some((c) => c.status === "fail") ? "FAILED" : "OK"}`);
  return `${lines.join("\n")}\n`;
}

export function renderJson(checks: readonly Check[]): string {
  return `${JSON.stringify(checks.map(({ id, domain, status, message }) => ({ id, domain, status, message })), null, 2)}\n`;
}

function summary(checks: readonly Check[]): string {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  return `${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed`;
}
