import { evidenceLines } from "./evidence";
import { compareText } from "../../components/dns/model";
import type { Plan, PlannedMailHost } from "./plan";
import { table } from "../text-table";

const DKIM_STATE_MEANING: Record<string, string> = {
  pending: "published, not signing yet",
  active: "published and signing",
  retiring: "published, no longer signing (mail in flight)",
  revoked: "published with empty p=, remove it next",
};

/** The readable plan: one table per zone, then totals and warnings. */
export function renderPlanTable(plan: Plan): string {
  const lines: string[] = [`Plan for stack ${plan.stack} (project ${plan.project}), offline`, ""];
  for (const domain of plan.domains) {
    lines.push(`${domain.domain}  [${domain.provider}, ${domain.records.length} records]`);
    const rows = domain.records.map((r) => [r.name, r.type, String(r.ttl), r.purpose, r.value]);
    lines.push(...table(["NAME", "TYPE", "TTL", "PURPOSE", "VALUE"], rows).map((l) => `  ${l}`));
    const keys = plan.dkimKeys.filter((k) => k.domain === domain.domain);
    if (keys.length > 0) {
      lines.push("  DKIM keys (generated at deploy; private halves in Secrets Manager):");
      const keyRows = keys.map((k) => [k.selector, k.algorithm === "rsa" ? `rsa-${k.bits}` : k.algorithm, k.state, k.protected ? "protected" : "", DKIM_STATE_MEANING[k.state] ?? ""]);
      lines.push(...table(["SELECTOR", "KEY", "STATE", "", "MEANING"], keyRows).map((l) => `    ${l}`));
    }
    const policy = plan.mtaStsPolicies[domain.domain];
    if (policy) {
      const server = plan.mtaStsServedBy?.[domain.domain];
      lines.push(`  MTA-STS policy, ${server ? `served by ${server}` : "to serve"} at https://mta-sts.${domain.domain}/.well-known/mta-sts.txt:`);
      lines.push(...policy.trimEnd().split(/\r?\n/).map((l) => `    ${l}`));
    }
    lines.push("");
  }
  for (const host of plan.mailHosts) lines.push(...mailHostLines(host), "");
  const byType = Object.entries(plan.resourcesByType)
    .sort(([a], [b]) => compareText(a, b))
    .map(([type, n]) => `${n} ${type}`)
    .join(", ");
  lines.push(`Resources: ${plan.resourceCount} (${byType || "none"})`);
  if (plan.warnings.length > 0) {
    lines.push("", `Warnings (${plan.warnings.length}):`, ...plan.warnings.map((w) => `  - ${w}`));
  }
  const mandatory = plan.policyViolations.filter((v) => v.enforcementLevel === "mandatory");
  const advisory = plan.policyViolations.filter((v) => v.enforcementLevel === "advisory");
  for (const [title, list] of [["Policy violations, mandatory: the deploy would be refused", mandatory], ["Policy violations, advisory", advisory]] as const) {
    if (list.length === 0) continue;
    lines.push("", `${title} (${list.length}):`, ...list.map((v) => `  - [${v.rule}] ${v.message}${v.resource ? ` (resource ${v.resource})` : ""}`));
  }
  if (plan.policyViolations.length === 0) lines.push("", "Policies: every rule of the postforge-email-auth pack passes.");
  if (plan.dmarcEvidence && plan.dmarcEvidence.length > 0) lines.push("", ...evidenceLines(plan.dmarcEvidence));
  return `${lines.join("\n")}\n`;
}

function mailHostLines(host: PlannedMailHost): string[] {
  const yes = (v: boolean) => (v ? "yes" : "NO");
  return [
    `Mail host ${host.hostname}`,
    `  address      ${host.publicIp || "(at deploy)"}  Elastic IP, protected: ${yes(host.addressProtected)}; PTR ${host.ptr || "(at deploy)"}`,
    `  instance     ${host.instanceType}, AMI ${host.ami}, IMDSv2 only: ${yes(host.imdsV2Required)}, root volume encrypted: ${yes(host.rootVolumeEncrypted)}`,
    `  signs with   ${host.signingKeys.join(", ")}`,
    `  mailboxes    ${host.mailboxes.join(", ")}`,
    `  logins       ${host.senders.length === 0 ? "none (no application may submit)" : host.senders.map((s) => `${s.login} as ${s.allowed.join(", ")}`).join("; ")}`,
    `  warm-up      ${warmupLine(host)}`,
    "  inbound:",
    ...table(
      ["PORT", "PROTO", "FROM", "WHY"],
      host.ingress.map((r) => [String(r.port), r.protocol, r.sources.join(" "), r.description]),
    ).map((l) => `    ${l}`),
    `  dashboard    ${host.dashboard ?? "none"}`,
    `  alarms       ${host.alarms.length} to ${host.alarmEmails.length === 0 ? "no subscriber (set mailHost.alarmEmails)" : host.alarmEmails.join(", ")}:`,
    ...table(
      ["ALARM", "SEVERITY", "NOTIFIES", "WHEN"],
      host.alarms.map((a) => [a.name, a.severity, a.notifies ? "yes" : "NO", a.condition]),
    ).map((l) => `    ${l}`),
  ];
}

/** Where the host's address is in its warm-up, and today's caps per receiver group. */
function warmupLine(host: PlannedMailHost): string {
  const w = host.warmup;
  if (!w) return host.sendingSince ? `none; the address has sent since ${host.sendingSince}` : "none (the address sends at full speed from the first day)";
  const span = `${w.startDate} to ${w.endDate}, ${w.lastDay} days`;
  if (w.today.state === "lifted") return `${span}; over on ${w.today.date}: no caps`;
  const caps = (Object.entries(w.today.caps ?? {}) as [string, number][]).map(([group, cap]) => `${group} ${cap.toLocaleString("en-US")}`).join(", ");
  const when = w.today.state === "before" ? `not started on ${w.today.date} (day 1's caps hold)` : `day ${w.today.day} on ${w.today.date}`;
  return `${span}; ${when}: messages a day ${caps}`;
}

