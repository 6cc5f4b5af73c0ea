import type { Plan } from "./plan";

/** The readable plan: one table per zone, then totals and warnings. */
export function renderPlanTable(plan: Plan): string {
  const lines: string[] = [`Plan for stack ${plan.stack} (project ${plan.project}), offline`, ""];
  for (const domain of plan.domains) {
    lines.push(`${domain.domain}  [${domain.provider}, ${domain.records.length} records]`);
    const rows = domain.records.map((r) => [r.name, r.type, String(r.ttl), r.purpose, r.value]);
    lines.push(...table(["NAME", "TYPE", "TTL", "PURPOSE", "VALUE"], rows).map((l) => `  ${l}`), "");
  }
  const byType = Object.entries(plan.resourcesByType)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, n]) => `${n} ${type}`)
    .join(", ");
  lines.push(`Resources: ${plan.resourceCount} (${byType || "none"})`);
  if (plan.warnings.length > 0) {
    lines.push("", `Warnings (${plan.warnings.length}):`, ...plan.warnings.map((w) => `  - ${w}`));
  }
  return `${lines.join("\n")}\n`;
}

function table(header: string[], rows: string[][]): string[] {
  // The last column (the value) is not padded: it may be long and is best left whole.
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]) : c)).join("  ").trimEnd();
  return [format(header), ...rows.map(format)];
}
