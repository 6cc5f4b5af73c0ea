import * as fs from "node:fs";
import { ValidationError } from "../../components/validation-error";
import { FlagProblems, parseCommandLine } from "../flag-check";
import { comparePlans, type DiffablePlan } from "./compare";
import { renderDiffMarkdown } from "./markdown";
import { readPlanFile } from "./plan-file";
import type { Io } from "../postforge";

/**
 * `postforge diff --base BASE.json --head HEAD.json [--out FILE]`: the wiring
 * around the pure comparison. Reads two plans written by `postforge plan
 * --json`, writes the Markdown report. A successful diff exits 0 whatever it
 * finds: the report says what weakens, and the reviewer decides.
 */

import { DIFF_USAGE } from "../usage";

export { DIFF_USAGE };

interface DiffFlags {
  base: string;
  head: string;
  out?: string;
  "across-stacks": boolean;
  reports?: string;
}

function checkDiffFlags(values: Record<string, unknown>): DiffFlags {
  const problems = new FlagProblems();
  for (const flag of ["base", "head"] as const) {
    const value = values[flag];
    if (value === undefined) problems.add([flag], value, `is required: pass the JSON file written by \`postforge plan --stack NAME --json > FILE\`, e.g. --${flag} ${flag}.json`);
    else if (value === "") problems.add([flag], value, "must be a file path");
  }
  if (values.out === "") problems.add(["out"], values.out, "must be a file path");
  problems.throwIfAny();
  return {
    base: values.base as string,
    head: values.head as string,
    ...(values.out !== undefined ? { out: values.out as string } : {}),
    ...(values.reports !== undefined ? { reports: values.reports as string } : {}),
    "across-stacks": values["across-stacks"] === true,
  };
}

export async function diffCommand(args: string[], io: Io): Promise<number> {
  const flags = checkDiffFlags(parseDiffArgs(args));
  const baseFile = readPlanFile("--base", flags.base);
  const headFile = readPlanFile("--head", flags.head);
  if (baseFile.kind !== headFile.kind) {
    throw new ValidationError("command line", [
      `--base is ${baseFile.kind === "estate" ? "the plan of several stacks" : "one stack's plan"} and --head ${headFile.kind === "estate" ? "the plan of several stacks" : "one stack's plan"}; plan both sides the same way (--stack NAME, or --stack 'PATTERN')`,
    ]);
  }
  if (baseFile.kind === "estate" && headFile.kind === "estate") return writeReport(renderEstateDiff(baseFile.plans, headFile.plans), flags.out, io);
  const base = (baseFile as { plan: DiffablePlan }).plan;
  const head = (headFile as { plan: DiffablePlan }).plan;
  // A pull request's diff compares one stack before and after; two different stacks differ in everything.
  const mismatch = [
    ...(base.project !== undefined && head.project !== undefined && base.project !== head.project ? [`projects (${base.project} and ${head.project})`] : []),
    ...(base.stack !== head.stack ? [`stacks (${base.stack} and ${head.stack})`] : []),
  ];
  if (mismatch.length > 0 && !flags["across-stacks"]) {
    throw new ValidationError("command line", [
      `--base and --head are plans of different ${mismatch.join(" and ")}: a diff compares one stack's plan before and after a change; plan both sides with the same --stack, or pass --across-stacks to compare them anyway`,
    ]);
  }
  // With --reports, what the receivers' reports say of each DMARC step the change takes (or could take).
  const evidence = flags.reports
    ? (() => {
        const plan = require("../plan/evidence") as typeof import("../plan/evidence");
        return plan.diffEvidenceLines(base as never, head as never, plan.readReportsSummary(flags.reports!));
      })()
    : [];
  const report = renderDiffMarkdown(comparePlans(base, head));
  return writeReport(evidence.length > 0 ? `${report.trimEnd()}\n\n${evidence.join("\n")}` : report, flags.out, io);
}

function writeReport(report: string, out: string | undefined, io: Io): number {
  if (out) {
    try {
      fs.writeFileSync(out, report);
    } catch (error) {
      throw new ValidationError("command line", [`--out = ${JSON.stringify(out)}: cannot write the report (${(error as Error).message}); pass a path in an existing, writable directory`]);
    }
  } else {
    io.stdout(report);
  }
  return 0;
}

/**
 * The diff of two plans of several stacks (a sharded estate): the domains
 * that change stack, then one diff of the estate as a whole, so a domain that
 * only moves shows no change of its records, and one removed from the estate
 * shows as removed.
 */
function renderEstateDiff(base: DiffablePlan[], head: DiffablePlan[]): string {
  const stacksOf = (plans: DiffablePlan[]) => {
    const map = new Map<string, string[]>();
    for (const p of plans) for (const d of p.domains) map.set(d.domain, [...(map.get(d.domain) ?? []), p.stack]);
    return map;
  };
  const [bStacks, hStacks] = [stacksOf(base), stacksOf(head)];
  // A domain in two stacks is mid-move: the one it left still publishes it.
  const twice = [...hStacks].filter(([, s]) => s.length > 1).sort(([x], [y]) => (x < y ? -1 : 1));
  const bDomains = new Map([...bStacks].map(([d, s]) => [d, s.join("+")]));
  const moved = [...hStacks]
    .map(([d, s]) => [d, s.join("+")] as const)
    .filter(([d, s]) => bDomains.has(d) && bDomains.get(d) !== s)
    .sort(([x], [y]) => (x < y ? -1 : 1));
  const label = (plans: DiffablePlan[]) => `${plans.length} stacks (${plans.map((p) => p.stack).join(", ")})`;
  const lines = [`# Postforge DNS diff of an estate: ${label(base)} → ${label(head)}`, ""];
  if (moved.length > 0) {
    lines.push(
      `**${moved.length} domain(s) change stack.** Unless its resources are moved first (\`pulumi state move --source FROM --dest TO URN...\`), deploying deletes its records from one stack and creates them in the other: a gap in DNS, and new DKIM keys where Postforge manages them.`,
      "",
      "| domain | from | to |",
      "|---|---|---|",
      ...moved.map(([d, s]) => `| \`${d}\` | \`${bDomains.get(d)}\` | \`${s}\` |`),
      "",
    );
  } else {
    lines.push("No domain changes stack.", "");
  }
  if (twice.length > 0) {
    lines.push(
      `**${twice.length} domain(s) are in two stacks** (${twice.slice(0, 20).map(([d, s]) => `\`${d}\` in ${s.map((x) => `\`${x}\``).join(" and ")}`).join(", ")}${twice.length > 20 ? ", ..." : ""}): both would publish them; remove each from the stack it left once its resources have moved.`,
      "",
    );
  }
  lines.push(renderDiffMarkdown(comparePlans(mergePlans(base, "estate"), mergePlans(head, "estate"))));
  return `${lines.join("\n")}\n`;
}

/** The plans of several stacks as one (their domains, keys, hosts and findings together). */
function mergePlans(plans: DiffablePlan[], stack: string): DiffablePlan {
  return {
    project: plans[0]?.project,
    stack,
    domains: plans.flatMap((p) => p.domains),
    dkimKeys: plans.flatMap((p) => p.dkimKeys),
    mtaStsPolicies: Object.assign({}, ...plans.map((p) => p.mtaStsPolicies)),
    spfIncludeCosts: Object.assign({}, ...plans.map((p) => p.spfIncludeCosts)),
    mailHosts: plans.flatMap((p) => p.mailHosts ?? []),
    policyViolations: plans.flatMap((p) => (p.policyViolations ?? []).map((v) => ({ ...v, message: `[${p.stack}] ${v.message}` }))),
  };
}

function parseDiffArgs(args: string[]): Record<string, unknown> {
  return parseCommandLine(args, { base: { type: "string" }, head: { type: "string" }, out: { type: "string" }, "across-stacks": { type: "boolean" }, reports: { type: "string" } }, DIFF_USAGE);
}
