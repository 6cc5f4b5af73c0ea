import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseOrThrow, ValidationError } from "../../components/validation";
import { comparePlans, type DiffablePlan } from "./compare";
import { renderDiffMarkdown } from "./markdown";
import type { Io } from "../postforge";

/**
 * `postforge diff --base BASE.json --head HEAD.json [--out FILE]`: the wiring
 * around the pure comparison. Reads two plans written by `postforge plan
 * --json`, writes the Markdown report. A successful diff exits 0 whatever it
 * finds: the report says what weakens, and the reviewer decides.
 */

import { DIFF_USAGE } from "../usage";

export { DIFF_USAGE };

const planFile = (flag: string) =>
  z
    .string({ error: `is required: pass the JSON file written by \`postforge plan --stack NAME --json > FILE\`, e.g. --${flag} ${flag}.json` })
    .min(1, { error: "must be a file path" });

const diffFlags = z.strictObject({
  base: planFile("base"),
  head: planFile("head"),
  out: z.string().min(1, { error: "must be a file path" }).optional(),
  "across-stacks": z.boolean().default(false),
});

type PlannedRecordFields = { name: string; type: string; ttl: number; value: string; purpose?: string; strings?: string[] };

/**
 * A zone's records, checked field by field here rather than by a zod object
 * schema per record, which took 20 ms a side of a 1,000-domain diff (two
 * fifths of it). The same rules: these fields and types, nothing else kept.
 */
const plannedRecords = z.array(z.unknown()).transform((list, ctx): PlannedRecordFields[] =>
  list.map((raw, i) => {
    const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    const problem = (field: string, expected: string) => ctx.addIssue({ code: "custom", path: [i, field], input: r[field], message: `must be ${expected}` });
    for (const field of ["name", "type", "value"]) if (typeof r[field] !== "string") problem(field, "a string");
    if (typeof r.ttl !== "number") problem("ttl", "a number");
    if (r.purpose !== undefined && typeof r.purpose !== "string") problem("purpose", "a string");
    if (r.strings !== undefined && !(Array.isArray(r.strings) && r.strings.every((x) => typeof x === "string"))) problem("strings", "a list of strings");
    return {
      name: r.name as string,
      type: r.type as string,
      ttl: r.ttl as number,
      value: r.value as string,
      ...(r.purpose !== undefined ? { purpose: r.purpose as string } : {}),
      ...(r.strings !== undefined ? { strings: r.strings as string[] } : {}),
    };
  }),
);

/** What the diff reads from a plan file; anything else in it is dropped here, so it can never be printed. */
const planSchema = z.object({
  formatVersion: z.literal(1, { error: "must be 1: this plan was written by another postforge version; plan both sides with the same one" }),
  // Plans written before the project was recorded have none.
  project: z.string().optional(),
  stack: z.string(),
  domains: z.array(
    z.object({
      domain: z.string(),
      records: plannedRecords,
    }),
  ),
  dkimKeys: z.array(z.object({ domain: z.string(), selector: z.string(), algorithm: z.string(), bits: z.number(), state: z.string() })).default([]),
  mtaStsPolicies: z.record(z.string(), z.string()).default({}),
  spfIncludeCosts: z.record(z.string(), z.number().int()).default({}),
  mailHosts: z
    .array(
      z.object({
        hostname: z.string(),
        instanceType: z.string(),
        ami: z.string(),
        userData: z.string(),
        config: z.string().optional(),
        signingKeys: z.array(z.string()),
        mailboxes: z.array(z.string()),
        // Plans from before submission logins have none.
        senders: z.array(z.object({ login: z.string(), allowed: z.array(z.string()) })).default([]),
        ingress: z.array(z.object({ port: z.number(), protocol: z.string(), sources: z.array(z.string()) })),
      }),
    )
    .default([]),
  policyViolations: z.array(z.object({ rule: z.string(), enforcementLevel: z.string(), message: z.string(), resource: z.string().optional() })).default([]),
});

export async function diffCommand(args: string[], io: Io): Promise<number> {
  const flags = parseOrThrow(diffFlags, parseDiffArgs(args), "command line");
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
  return writeReport(renderDiffMarkdown(comparePlans(base, head)), flags.out, io);
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
  try {
    return parseArgs({ args, options: { base: { type: "string" }, head: { type: "string" }, out: { type: "string" }, "across-stacks": { type: "boolean" } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ValidationError("command line", [`${(error as Error).message}\n\n${DIFF_USAGE}`]);
  }
}

type PlanFile = { kind: "stack"; plan: DiffablePlan } | { kind: "estate"; plans: DiffablePlan[] };

function readPlanFile(flag: string, file: string): PlanFile {
  const fix = "write it with `postforge plan --stack NAME --json > FILE`";
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ValidationError("command line", [`${flag} = ${JSON.stringify(file)}: cannot read the plan (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${fix}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError("command line", [`${flag} = ${JSON.stringify(file)}: not JSON (${(error as Error).message}); ${fix}`]);
  }
  // `postforge plan --stack 'PATTERN' --json` writes {"formatVersion":1,"stacks":[plan, ...]}.
  if (json && typeof json === "object" && Array.isArray((json as { stacks?: unknown }).stacks)) {
    const plans = (json as { stacks: unknown[] }).stacks.map((p, i) => parseOrThrow(planSchema, p, `${flag} plan ${JSON.stringify(file)} stacks[${i}]`));
    return { kind: "estate", plans };
  }
  return { kind: "stack", plan: parseOrThrow(planSchema, json, `${flag} plan ${JSON.stringify(file)}`) };
}
