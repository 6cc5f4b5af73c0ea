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

export const DIFF_USAGE = `Usage:
  postforge diff --base BASE.json --head HEAD.json [--out FILE] [--across-stacks]
      Compare two plans written by \`postforge plan --json\` (say, the base
      branch's and a pull request's) and print a Markdown report of what the
      DNS change means for mail authentication, then the records that change.
      Both plans must be of the same project and stack, unless --across-stacks.
`;

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

/** What the diff reads from a plan file; anything else in it is dropped here, so it can never be printed. */
const planSchema = z.object({
  formatVersion: z.literal(1, { error: "must be 1: this plan was written by another postforge version; plan both sides with the same one" }),
  // Plans written before the project was recorded have none.
  project: z.string().optional(),
  stack: z.string(),
  domains: z.array(
    z.object({
      domain: z.string(),
      records: z.array(
        z.object({
          name: z.string(),
          type: z.string(),
          ttl: z.number(),
          value: z.string(),
          purpose: z.string().optional(),
          strings: z.array(z.string()).optional(),
        }),
      ),
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
  const base = readPlan("--base", flags.base);
  const head = readPlan("--head", flags.head);
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
  const report = renderDiffMarkdown(comparePlans(base, head));
  if (flags.out) {
    try {
      fs.writeFileSync(flags.out, report);
    } catch (error) {
      throw new ValidationError("command line", [`--out = ${JSON.stringify(flags.out)}: cannot write the report (${(error as Error).message}); pass a path in an existing, writable directory`]);
    }
  } else {
    io.stdout(report);
  }
  return 0;
}

function parseDiffArgs(args: string[]): Record<string, unknown> {
  try {
    return parseArgs({ args, options: { base: { type: "string" }, head: { type: "string" }, out: { type: "string" }, "across-stacks": { type: "boolean" } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ValidationError("command line", [`${(error as Error).message}\n\n${DIFF_USAGE}`]);
  }
}

function readPlan(flag: string, file: string): DiffablePlan {
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
  return parseOrThrow(planSchema, json, `${flag} plan ${JSON.stringify(file)}`);
}
