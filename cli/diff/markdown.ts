import { type DomainDiff, type MeaningChange, type PlanDiff, type RecordChange } from "./compare";

/**
 * The Markdown report of a plan diff, for a pull-request comment or a job
 * summary. Deterministic (the diff is sorted, nothing here reads a clock), so
 * an unchanged pull request gets the same comment byte for byte.
 */
export function renderDiffMarkdown(diff: PlanDiff): string {
  const lines: string[] = [];
  const sameStack = diff.baseStack === diff.headStack;
  lines.push(`## Postforge DNS diff: stack ${sameStack ? code(diff.baseStack) : `${code(diff.baseStack)} → ${code(diff.headStack)}`}`, "");
  if (!sameStack) {
    lines.push(`> The plans are for different stacks (base ${code(diff.baseStack)}, head ${code(diff.headStack)}): this compares two stacks, not two versions of one.`, "");
  }
  lines.push(summaryLine(diff), "");
  lines.push(...policySection(diff));
  lines.push(...mailHostSection(diff));
  const unchanged = diff.domains.filter((d) => d.status === "unchanged");
  for (const domain of diff.domains) if (domain.status !== "unchanged") lines.push(...domainSection(domain));
  if (unchanged.length > 0) lines.push(`Unchanged: ${unchanged.map((d) => code(d.domain)).join(", ")}`, "");
  return `${lines.join("\n").trimEnd()}\n`;
}

/** What the policy pack says about the head plan: the pull request would be refused at deploy when a mandatory rule fails. */
function policySection(diff: PlanDiff): string[] {
  const violations = diff.headPolicyViolations;
  if (violations.length === 0) return [];
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
  const title = mandatory.length > 0 ? `**⛔ Policy pack: ${plural(mandatory.length, "mandatory violation")}; \`pulumi up\` would be refused**` : "**Policy pack: advisory findings**";
  return [title, "", ...violations.map((v) => `- ${v.enforcementLevel} ${code(v.rule)}: ${escapeText(v.message)}`), ""];
}

function mailHostSection(diff: PlanDiff): string[] {
  if (diff.mailHosts.length === 0) return [];
  const lines = ["### Mail hosts", ""];
  for (const host of diff.mailHosts) {
    const replace = host.replacesInstance
      ? " ⚠️ **the instance is replaced** (cloud-init runs once per instance): queued mail and the role mailboxes on it are lost; the Elastic IP and its PTR stay"
      : "";
    lines.push(`- ${code(host.hostname)} (${host.status})${replace}`, ...host.changes.map((c) => `  - ${escapeText(c)}`));
  }
  lines.push("");
  return lines;
}

function summaryLine(diff: PlanDiff): string {
  const count = (status: DomainDiff["status"]) => diff.domains.filter((d) => d.status === status).length;
  const records = diff.domains.flatMap((d) => d.records);
  const recordCount = (change: RecordChange["change"]) => records.filter((r) => r.change === change).length;
  const weakening = diff.domains.flatMap((d) => d.meaning).filter((m) => m.severity === "weakens").length;
  const touched = count("added") + count("removed") + count("changed");
  if (touched === 0) return `**Summary:** no DNS changes (${plural(count("unchanged"), "domain")} unchanged).`;
  const domains = [
    `${plural(count("changed"), "domain")} changed`,
    ...(count("added") > 0 ? [`${count("added")} added`] : []),
    ...(count("removed") > 0 ? [`${count("removed")} removed`] : []),
    `${count("unchanged")} unchanged`,
  ].join(", ");
  const recordsText = `records: ${recordCount("added")} added, ${recordCount("changed")} changed, ${recordCount("removed")} removed`;
  const weakText = weakening > 0 ? `⚠️ ${plural(weakening, "change")} ${weakening === 1 ? "weakens" : "weaken"} authentication` : "no change weakens authentication";
  return `**Summary:** ${domains}; ${recordsText}; ${weakText}.`;
}

function domainSection(domain: DomainDiff): string[] {
  const lines = [`### ${code(domain.domain)} (${domain.status})`, ""];
  const weakens = domain.meaning.filter((m) => m.severity === "weakens");
  const other = domain.meaning.filter((m) => m.severity === "info");
  if (weakens.length > 0) lines.push("**⚠️ Weakens authentication**", "", ...weakens.map(bullet), "");
  if (other.length > 0) lines.push(weakens.length > 0 ? "**Other changes**" : "**Changes**", "", ...other.map(bullet), "");
  if (domain.records.length === 0) {
    lines.push("No record changes.", "");
    return lines;
  }
  lines.push("| change | name | type | TTL | value |", "| --- | --- | --- | --- | --- |");
  for (const r of domain.records) lines.push(recordRow(r));
  lines.push("");
  return lines;
}

function bullet(change: MeaningChange): string {
  return `- ${escapeText(change.message)}`;
}

function recordRow(r: RecordChange): string {
  const ttl = r.before && r.after && r.before.ttl !== r.after.ttl ? `${r.before.ttl} → ${r.after.ttl}` : String((r.after ?? r.before)!.ttl);
  const value =
    r.before && r.after && r.before.value !== r.after.value ? `${code(r.before.value)} → ${code(r.after.value)}` : code((r.after ?? r.before)!.value);
  return `| ${r.change} | ${code(r.name)} | ${r.type} | ${ttl} | ${value.replace(/\|/g, "\\|")} |`;
}

/** An inline code span that holds any text: the fence is longer than any backtick run inside. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 || text.startsWith(" ") || text.endsWith(" ") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Characters that would otherwise turn into emphasis, strikethrough, links, HTML or table cells. */
function escapeText(text: string): string {
  return text.replace(/[\\`*_~[\]<>|]/g, (c) => `\\${c}`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

