import * as fs from "node:fs";
import * as path from "node:path";
import { dump } from "js-yaml";
import { z } from "zod";
import { canonicalName } from "../../components/dns/model";
import { parseOrThrow, ValidationError } from "../../components/validation";
import { findProjectDir, listStacks, readYamlFile, stackConfigDirOf } from "../plan/stack-files";
import { assignShards, shardNames, type ShardAssignment } from "./assign";
import { readEstate, type Estate } from "./estate";
import { parseCommandLine } from "../flag-check";

/**
 * `postforge shard --estate FILE`: split an estate across stacks. Writes one
 * stack file per shard (`stacks/Pulumi.<prefix>-NNN.yaml`) from the estate
 * file; `--check` writes nothing and fails when a file is out of date (for
 * CI). A domain stays in the stack whose file lists it (./assign.ts); one
 * that would go to another stack is refused unless `--allow-moves`, which
 * also places every domain afresh: a move deletes its records from one stack
 * and creates them in the other unless the resources are moved first
 * (`pulumi state move`), so DNS has a gap and managed DKIM keys are made anew.
 */

import { SHARD_USAGE } from "../usage";

export { SHARD_USAGE };

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const shardFlags = z.strictObject({
  estate: z.string({ error: "is required: the estate file, e.g. --estate estate.yaml" }).min(1, { error: "must be a file path" }),
  check: z.boolean().default(false),
  list: z.boolean().default(false),
  "allow-moves": z.boolean().default(false),
  cwd: z.string().optional(),
});

const GENERATED = "# Written by `postforge shard` from the estate file; edit that, then run it again.\n";

export async function shardCommand(args: string[], io: Io): Promise<number> {
  const values = parseCommandLine(args, { estate: { type: "string" }, check: { type: "boolean" }, list: { type: "boolean" }, "allow-moves": { type: "boolean" }, cwd: { type: "string" } }, `Usage:\n${SHARD_USAGE}`);
  const flags = parseOrThrow(shardFlags, values, "command line");
  const projectDir = findProjectDir(flags.cwd ?? process.cwd());
  const estateFile = path.resolve(flags.cwd ?? process.cwd(), flags.estate);
  if (!fs.existsSync(estateFile)) throw new ValidationError("command line", [`--estate = ${JSON.stringify(flags.estate)}: no such file (${estateFile})`]);
  const estate = readEstate(estateFile);
  const shards = shardNames(estate.stackPrefix, estate.shardCount);
  const dir = stackConfigDirOf(projectDir);
  // Where every domain is now, in any stack of the project: a shard, a shard of another prefix, or a stack of its own.
  const current = currentPlacement(projectDir, dir);
  let assignment: ShardAssignment;
  try {
    // Parked domains take part too: one joins its parent or subdomains' unit, else it is a unit of its own.
    assignment = assignShards([...estate.domains, ...estate.parkedDomains], estate.mailHosts, shards, { current, rebalance: flags["allow-moves"] });
  } catch (error) {
    throw new ValidationError(`estate ${flags.estate}`, [(error as Error).message]);
  }
  const where = (domain: string) => [...(current.get(domain) ?? [])].join("+");
  const moves = [...assignment.domainShard].filter(([domain, shard]) => current.has(domain) && !current.get(domain)!.has(shard));
  if (moves.length > 0 && !flags["allow-moves"]) {
    throw new ValidationError(`estate ${flags.estate}`, [
      `${moves.length} domain(s) would change stack: ${moves
        .slice(0, 20)
        .map(([d, s]) => `${d} (${where(d)} -> ${s})`)
        .join(", ")}${moves.length > 20 ? ", ..." : ""}. Deployed as it is, a move deletes a domain's records from one stack and creates them in the other (a gap in DNS; managed DKIM keys are made anew). Pass --allow-moves and first move each domain's resources between the stacks' states (pulumi state move --source FROM --dest TO URN...), so nothing is deleted or created`,
    ]);
  }

  const files = renderShardFiles(estate, assignment);
  if (flags.list) {
    // The shards that have domains, as a GitHub Actions matrix takes them: fromJSON(...).
    io.stdout(`${JSON.stringify(shards.filter((s) => files.has(s)))}\n`);
    return 0;
  }
  const stale: string[] = [];
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const s of assignment.domainShard.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  const hostOf = new Map([...assignment.hostShard].map(([host, shard]) => [shard, host]));
  for (const shard of shards) {
    const file = path.join(dir, `Pulumi.${shard}.yaml`);
    const text = files.get(shard);
    const count = counts.get(shard) ?? 0;
    const host = hostOf.get(shard);
    if (text === undefined) {
      // A shard whose domains all left the estate: its file still deploys them; the stack is to be destroyed.
      if (fs.existsSync(file)) {
        stale.push(path.relative(projectDir, file));
        lines.push(`  ${shard}  no domains left: destroy the stack (pulumi destroy --stack ${shard}), then remove ${path.relative(projectDir, file)}`);
      } else {
        lines.push(`  ${shard}  no domains (no stack file written)`);
      }
      continue;
    }
    const before = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    const state = before === text ? "unchanged" : before === undefined ? "new" : "changed";
    if (state !== "unchanged") stale.push(path.relative(projectDir, file));
    if (!flags.check && state !== "unchanged") {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(file, text);
    }
    lines.push(`  ${shard}  ${String(count).padStart(6)} domains${host !== undefined ? `, mail host ${estate.mailHosts[host].hostname}` : ""}  ${state}`);
  }
  // A unit is never split: one that outgrows its share (every domain reporting to one estate
  // domain, say) makes its shard larger than the rest. Said here, before a plan hits the size limit.
  const share = Math.ceil(assignment.domainShard.size / shards.length);
  const large = shards.length > 1 ? assignment.units.filter((u) => u.length > Math.max(1.5 * share, share + 10)) : [];
  const leftover = listStacks(projectDir).filter((s) => isShardOf(s, estate.stackPrefix) && !shards.includes(s));
  io.stdout(`Estate ${flags.estate}: ${assignment.domainShard.size} domains in ${shards.length} shards (${assignment.units.length} units kept together)\n${lines.join("\n")}\n`);
  for (const unit of large) {
    io.stdout(
      `${unit.length} domains (${unit.slice(0, 3).join(", ")}, ...) reference each other (MX hosts, SPF a:, report addresses, a mail host) and stay in ${assignment.domainShard.get(unit[0])}, over its share of ${share}; send their reports to a domain outside the estate to let them spread.\n`,
    );
  }
  if (moves.length > 0) {
    io.stdout(
      `${moves.length} domain(s) change stack (--allow-moves): ${moves.slice(0, 20).map(([d, s]) => `${d} (${where(d)} -> ${s})`).join(", ")}${moves.length > 20 ? ", ..." : ""}; move their resources with \`pulumi state move --source FROM --dest TO URN...\` before deploying, or they are deleted and created anew. The stacks they leave list them until you remove them there.\n`,
    );
  }
  if (leftover.length > 0) io.stdout(`No longer shards of the estate: ${leftover.join(", ")}; destroy each (pulumi destroy --stack NAME) once its domains are deployed elsewhere, then remove its file.\n`);
  if (flags.check) {
    if (stale.length > 0) io.stdout(`Out of date: ${stale.join(", ")}; run \`postforge shard --estate ${flags.estate}\`\n`);
    return stale.length > 0 ? 1 : 0;
  }
  return 0;
}

function isShardOf(stack: string, prefix: string): boolean {
  return stack.startsWith(`${prefix}-`) && /^\d+$/.test(stack.slice(prefix.length + 1));
}

/** Domain (canonical) → every stack whose file lists it now, whatever the stack's name. */
function currentPlacement(projectDir: string, dir: string): Map<string, Set<string>> {
  const current = new Map<string, Set<string>>();
  for (const stack of listStacks(projectDir)) {
    const parsed = readYamlFile(path.join(dir, `Pulumi.${stack}.yaml`)) as { config?: Record<string, unknown> } | null;
    for (const key of ["postforge:domains", "postforge:parkedDomains"]) {
      const list = parsed?.config?.[key];
      if (!Array.isArray(list)) continue;
      for (const d of list) {
        if (!d || typeof (d as { name?: unknown }).name !== "string") continue;
        const name = canonicalName((d as { name: string }).name);
        const stacks = current.get(name) ?? new Set<string>();
        stacks.add(stack);
        current.set(name, stacks);
      }
    }
  }
  return current;
}

/** Each shard's stack file text (shards without a domain have none), domains in the estate's order. */
function renderShardFiles(estate: Estate, assignment: ShardAssignment): Map<string, string> {
  const files = new Map<string, string>();
  const hostOf = new Map([...assignment.hostShard].map(([host, shard]) => [shard, host]));
  const shardOf = (name: string) => assignment.domainShard.get(canonicalName(name));
  for (const shard of assignment.shards) {
    const domains = estate.domains.filter((d) => shardOf(d.name) === shard);
    const parked = estate.parkedDomains.filter((d) => shardOf(d.name) === shard);
    if (domains.length + parked.length === 0) continue;
    const host = hostOf.get(shard);
    const config: Record<string, unknown> = {
      ...estate.config,
      ...(domains.length > 0 ? { "postforge:domains": domains } : {}),
      ...(parked.length > 0 ? { "postforge:parkedDomains": parked } : {}),
      ...(host !== undefined ? { "postforge:mailHost": estate.mailHosts[host] } : {}),
    };
    files.set(shard, GENERATED + dump({ config }, { lineWidth: -1, noRefs: true }));
  }
  return files;
}
