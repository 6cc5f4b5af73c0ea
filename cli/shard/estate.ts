import * as fs from "node:fs";
import * as path from "node:path";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import { z } from "zod";
import { hostname } from "../../components/config/fields";
import { canonicalName } from "../../components/dns/model";
import { parseOrThrow, ValidationError } from "../../components/validation";

/**
 * An estate file: every domain of an organisation that is too large for one
 * stack, and how many stacks to split it into. `postforge shard` writes one
 * stack file per shard from it; each shard is then an ordinary stack. The
 * domain, parked-domain and mail-host entries are those of a stack file's
 * `postforge:domains`, `postforge:parkedDomains` and `postforge:mailHost`,
 * and each shard's plan validates them in full.
 */
export interface Estate {
  /** Shard stacks are named `<stackPrefix>-01` ... */
  stackPrefix: string;
  shardCount: number;
  /** Settings every shard's stack file gets (`aws:region`, `postforge:environment`...). */
  config: Record<string, unknown>;
  domains: ({ name: string } & Record<string, unknown>)[];
  parkedDomains: ({ name: string } & Record<string, unknown>)[];
  mailHosts: ({ hostname: string; domains: string[] } & Record<string, unknown>)[];
}

/** The keys the estate's own lists fill in; `config:` must not set them. */
const LISTED_KEYS = ["postforge:domains", "postforge:parkedDomains", "postforge:mailHost"];

const named = z.looseObject({ name: hostname });

const estateSchema = z.strictObject({
  stackPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: "must be a stack name prefix of letters, digits, '.', '_' or '-', such as estate" }),
  shardCount: z.number().int().min(1, { error: "must be at least 1" }).max(999, { error: "must be at most 999" }),
  config: z
    .record(z.string(), z.unknown())
    .default({})
    .superRefine((config, ctx) => {
      for (const key of LISTED_KEYS) {
        if (key in config) ctx.addIssue({ code: "custom", path: [key], input: config[key], message: `is filled in per shard from the estate's ${key === "postforge:mailHost" ? "mailHosts" : key.slice("postforge:".length)} list; move it there` });
      }
    }),
  domains: z.array(named).default([]),
  parkedDomains: z.array(named).default([]),
  mailHosts: z.array(z.looseObject({ hostname, domains: z.array(hostname).min(1, { error: "must list the host's sending domains" }) })).default([]),
});

export function readEstate(file: string): Estate {
  let parsed: unknown;
  try {
    parsed = loadYaml(fs.readFileSync(file, "utf8"), { schema: CORE_SCHEMA, filename: path.basename(file) });
  } catch (error) {
    throw new ValidationError(`estate ${file}`, [`cannot be read as YAML: ${(error as Error).message}`]);
  }
  const estate = parseOrThrow(estateSchema, parsed, `estate ${file}`) as Estate;
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const note = (name: string, where: string) => {
    const key = canonicalName(name);
    if (seen.has(key)) problems.push(`${where}.name = "${name}": is listed twice (also ${seen.get(key)}); list each domain once`);
    else seen.set(key, where);
  };
  estate.domains.forEach((d, i) => note(d.name, `domains[${i}]`));
  estate.parkedDomains.forEach((d, i) => note(d.name, `parkedDomains[${i}]`));
  const sending = new Set(estate.domains.map((d) => canonicalName(d.name)));
  const servedBy = new Map<string, string>();
  estate.mailHosts.forEach((h, i) =>
    h.domains.forEach((d, j) => {
      if (!sending.has(canonicalName(d))) problems.push(`mailHosts[${i}].domains[${j}] = "${d}": is not one of the estate's domains; add it under domains`);
      else if (servedBy.has(canonicalName(d))) problems.push(`mailHosts[${i}].domains[${j}] = "${d}": is served by ${servedBy.get(canonicalName(d))} too; a domain has one mail host`);
      else servedBy.set(canonicalName(d), h.hostname);
    }),
  );
  if (estate.domains.length + estate.parkedDomains.length === 0) problems.push("domains: the estate has no domain; list its domains under domains (and parkedDomains)");
  if (problems.length > 0) throw new ValidationError(`estate ${file}`, problems);
  return estate;
}
