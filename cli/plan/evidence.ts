import * as fs from "node:fs";
import { parseDmarc } from "../../components/dns/protocols/dmarc";
import { parseCharacterStrings } from "../../components/dns/txt";
import { POLICY_STRENGTH } from "../diff/compare";
import { dmarcEvidence, type DmarcEvidence } from "../../components/reports/evidence";
import type { DomainDay } from "../../components/reports/summary";
import { ValidationError } from "../../components/validation-error";
import type { Plan } from "./plan";

/** A domain's evidence, with the exact config change to make when it supports the step. */
export type PlannedEvidence = DmarcEvidence & { change: string };

/** The DMARC summary in a `postforge reports --json` file, or a clear refusal. */
export function readReportsSummary(file: string): DomainDay[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ValidationError("command line", [`--reports = "${file}": cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give the output of \`postforge reports --json\``]);
  }
  const dmarc = (parsed as { dmarc?: unknown }).dmarc;
  if (!Array.isArray(dmarc)) throw new ValidationError("command line", [`--reports = "${file}": has no "dmarc" list; give the output of \`postforge reports --json\``]);
  return dmarc as DomainDay[];
}

/**
 * For each planned domain whose DMARC record is at p=none or p=quarantine, what the reports say of the
 * next step, and the change to the stack file that makes it (`postforge:domains[i].dmarc.p`).
 */
export function planEvidence(plan: Pick<Plan, "domains"> | { domains: { domain: string; records: { type: string; name: string; value?: string }[] }[] }, days: readonly DomainDay[], stackDomains: readonly { name?: string }[], stack: string): PlannedEvidence[] {
  const out: PlannedEvidence[] = [];
  for (const d of plan.domains) {
    const p = plannedDmarcPolicy(d);
    if (p !== "none" && p !== "quarantine") continue;
    const evidence = dmarcEvidence(d.domain, p, days);
    const index = stackDomains.findIndex((s) => s.name === d.domain);
    const where = index >= 0 ? `postforge:domains[${index}].dmarc.p` : `the dmarc.p of ${d.domain}`;
    out.push({ ...evidence, change: `${where}: ${evidence.next} (stacks/Pulumi.${stack}.yaml)` });
  }
  return out;
}

/** A planned domain's DMARC policy (its `_dmarc` record's p=), or undefined without one. */
export function plannedDmarcPolicy(d: { domain: string; records: readonly { type: string; name: string; value?: string }[] }): "none" | "quarantine" | "reject" | undefined {
  const record = d.records.find((r) => r.type === "TXT" && r.name === `_dmarc.${d.domain}`);
  const parsed = record?.value === undefined ? undefined : parseDmarc(parseCharacterStrings(record.value).join(""));
  const p = parsed && !("error" in parsed) ? parsed.tags.find((t) => t.key === "p")?.value.toLowerCase() : undefined;
  return p === "none" || p === "quarantine" || p === "reject" ? p : undefined;
}

/**
 * `postforge diff --reports`: for each domain whose DMARC policy the change
 * raises, whether the reports support that step from the base's policy; for
 * each left at none or quarantine, whether they would support the next one.
 * Markdown lines, empty when there is nothing to say.
 */
export function diffEvidenceLines(base: { stack: string; domains: { domain: string; records: { type: string; name: string; value?: string }[] }[] }, head: { domains: { domain: string; records: { type: string; name: string; value?: string }[] }[] }, days: readonly DomainDay[]): string[] {
  const lines: string[] = [];
  for (const e of planEvidence(base, days, [], base.stack)) {
    const planned = head.domains.find((d) => d.domain === e.domain);
    const after = planned ? plannedDmarcPolicy(planned) : undefined;
    const raised = after !== undefined && POLICY_STRENGTH[after] > POLICY_STRENGTH[e.current];
    const sources = e.unknownLetThrough.slice(0, 5).map((s) => `\`${s.sourceIp}\`${s.ptr ? ` (${s.ptr.join(", ")})` : ""} ${s.failing}`);
    const stops = sources.length > 0 ? ` It stops unknown senders still delivered: ${sources.join(", ")}.` : "";
    if (raised) {
      lines.push(`- **\`${e.domain}\`: this change raises p=${e.current} to p=${after}**; ${e.supported ? "the reports support it" : "**the reports do not support it yet**"}: ${e.because}.${stops}`);
    } else if (e.supported) {
      lines.push(`- \`${e.domain}\` stays at p=${e.current}; the reports would support p=${e.next}: ${e.because}.`);
    }
  }
  return lines.length > 0 ? ["## DMARC evidence (from the reports given)", "", ...lines, ""] : [];
}

/** The plan's evidence section, as text. */
export function evidenceLines(evidence: readonly PlannedEvidence[]): string[] {
  if (evidence.length === 0) return [];
  const lines = ["DMARC evidence (from the reports given):"];
  for (const e of evidence) {
    lines.push(`  ${e.domain}: p=${e.current} -> p=${e.next}: ${e.supported ? "supported" : "not yet"}; ${e.because}`);
    if (e.supported) lines.push(`    change: ${e.change}`);
    for (const s of e.unknownLetThrough.slice(0, 10)) lines.push(`    unknown source ${s.sourceIp}${s.ptr ? ` (${s.ptr.join(", ")})` : ""}: ${s.failing} failing messages still delivered (reported by ${s.reporters.join(", ")}); p=${e.next} stops them: a spoofer, or a service that sends for you unaligned`);
    for (const s of e.oursFailing.slice(0, 10)) lines.push(`    our source ${s.sourceIp}: ${s.failing} messages failed DMARC`);
  }
  return lines;
}

/** Each domain's evidence as one sentence, for the dmarc-enforcement rule's messages. */
export function evidenceSentences(evidence: readonly PlannedEvidence[]): Record<string, string> {
  return Object.fromEntries(evidence.map((e) => [e.domain, `p=${e.next} is ${e.supported ? "supported" : "not supported yet"}: ${e.because}${e.supported ? `; change ${e.change}` : ""}`]));
}

/** The config's own warnings about a domain's DMARC policy (domains[i].dmarc.p), each with what the reports say. */
export function warningsWithEvidence(warnings: readonly string[], evidence: readonly PlannedEvidence[], stackDomains: readonly { name?: string }[]): string[] {
  const sentences = evidenceSentences(evidence);
  return warnings.map((w) => {
    const index = /^domains\[(\d+)\]\.dmarc\.p/.exec(w)?.[1];
    const domain = index === undefined ? undefined : stackDomains[Number(index)]?.name;
    return domain && sentences[domain] ? `${w}; the reports say: ${sentences[domain]}` : w;
  });
}
