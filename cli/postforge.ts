import * as fs from "node:fs";
import * as path from "node:path";
import { ValidationError } from "../components/validation-error";
import { parseCommandLine } from "./flag-check";
import type { OfflineRunError } from "./plan/engine";
import type { PlanFlags } from "./plan/flags";
import { BOUNCES_USAGE, DIFF_USAGE, PLAN_USAGE, REPORT_USAGE, REPORTS_USAGE, SHARD_USAGE, VERIFY_USAGE } from "./usage";

/*
 * Each command's modules load when it runs (help texts are in ./usage.ts), and
 * the Pulumi SDK and the cloud providers only for the commands that run a
 * stack program (plan, verify --stack): `verify --domain` and `diff` start in
 * a fraction of the time (see README, "Fast commands").
 */
const stackFiles = () => require("./plan/stack-files") as typeof import("./plan/stack-files");
/** Whether a --stack value names several stacks (a `*` pattern; see ./fan-out.ts). */
const isStackPattern = (stack: string) => stack.includes("*");

const planModules = () => ({
  policies: require("./plan/policies") as typeof import("./plan/policies"),
  plan: require("./plan/plan") as typeof import("./plan/plan"),
  report: require("./plan/report") as typeof import("./plan/report"),
});

/**
 * `postforge` command line. Exit codes: 0 success, 1 a check failed,
 * 2 invalid input (flags or stack config), 3 an unexpected error.
 */


const USAGE = `Usage:
${PLAN_USAGE}${DIFF_USAGE.replace(/^Usage:\n/, "")}${VERIFY_USAGE}${SHARD_USAGE}${BOUNCES_USAGE}${REPORT_USAGE}${REPORTS_USAGE}  postforge --version
      Print the version.
  postforge COMMAND --help
      Print that command's help.
`;

/** Each command's own help, printed by `postforge COMMAND --help` (or -h). */
const COMMAND_USAGE: Record<string, string> = {
  plan: `Usage:\n${PLAN_USAGE}`,
  diff: DIFF_USAGE,
  verify: `Usage:\n${VERIFY_USAGE}`,
  shard: `Usage:\n${SHARD_USAGE}`,
  bounces: `Usage:\n${BOUNCES_USAGE}`,
  report: `Usage:\n${REPORT_USAGE}`,
  reports: `Usage:\n${REPORTS_USAGE}`,
};

/** The version of the package this CLI belongs to, from its package.json (found upward from here: source or dist). */
export function postforgeVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "postforge" && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}

export const EXIT = { ok: 0, failed: 1, invalid: 2, crashed: 3 } as const;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  // Help wins over every other flag, as in git and npm: `plan --stack x --help` prints help.
  if (command !== undefined && COMMAND_USAGE[command] && rest.some((a) => a === "--help" || a === "-h")) {
    io.stdout(COMMAND_USAGE[command]);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case "--version":
      case "-V":
      case "version":
        io.stdout(`postforge ${postforgeVersion()}\n`);
        return EXIT.ok;
      case "plan":
        return await planCommand(rest, io);
      case "diff":
        return await (require("./diff/command") as typeof import("./diff/command")).diffCommand(rest, io);
      case "verify":
        return await (require("./verify/command") as typeof import("./verify/command")).verifyCommand(rest, io);
      case "shard":
        return await (require("./shard/command") as typeof import("./shard/command")).shardCommand(rest, io);
      case "bounces":
        return await (require("./bounces/command") as typeof import("./bounces/command")).bouncesCommand(rest, io);
      case "report":
        return await (require("./report/command") as typeof import("./report/command")).reportCommand(rest, io);
      case "reports":
        return await (require("./reports/command") as typeof import("./reports/command")).reportsCommand(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(USAGE);
        return command === undefined ? EXIT.invalid : EXIT.ok;
      default:
        io.stderr(`postforge: unknown command "${command}"\n\n${USAGE}`);
        return EXIT.invalid;
    }
  } catch (thrown) {
    // By name: the engine (and its class) is loaded only by the commands that run a program.
    const error = (thrown as Error)?.name === "OfflineRunError" ? (thrown as OfflineRunError).cause : thrown;
    if (isValidationError(error)) {
      io.stderr(`postforge: ${error.message}\n`);
      return EXIT.invalid;
    }
    io.stderr(`postforge: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    if (!process.env.POSTFORGE_STACK_FRAMES) io.stderr("(rerun with POSTFORGE_STACK_FRAMES=50 for a full stack trace)\n");
    return EXIT.crashed;
  }
}

/** `plan --stack PATTERN`: every matching stack planned in its own process, the results put together. */
async function planStacks(flags: PlanFlags, io: Io): Promise<number> {
  if (flags.out) prepareOutDir(flags.out);
  const projectDir = stackFiles().findProjectDir(flags.cwd ?? process.cwd());
  const { defaultJobs, runPerStack, stacksMatching, worstStatus } = require("./fan-out") as typeof import("./fan-out");
  const stacks = stacksMatching(projectDir, flags.stack);
  const pass = [
    "--json",
    "--cwd",
    projectDir,
    ...(flags["policy-config"] ? ["--policy-config", path.resolve(flags["policy-config"])] : []),
    ...(flags.profile ? ["--profile", flags.profile] : []),
  ];
  const runs = await runPerStack("plan", stacks, pass, flags.jobs ?? defaultJobs(), (stack) => (flags.out ? ["--out", path.join(path.resolve(flags.out), stack)] : []));
  const plans = runs.map((run) => (run.status <= EXIT.failed ? (JSON.parse(run.stdout) as { domains: { records: unknown[] }[]; resourceCount: number; policyViolations: { enforcementLevel: string; rule: string; message: string }[] }) : undefined));
  const failed = runs.filter((r) => r.status > EXIT.failed);
  if (flags.json && failed.length > 0) {
    // No partial estate plan: a diff would read the missing stacks' domains as removed.
    io.stderr(`postforge: no plan written: ${failed.map((r) => `${r.stack} (exit ${r.status})`).join(", ")} did not plan\n`);
  } else if (flags.json) {
    // Each plan's own text, put together as written: the estate plan \`postforge diff\` reads.
    io.stdout(`{"formatVersion":1,"stacks":[${runs.filter((_, i) => plans[i]).map((r) => r.stdout.trim()).join(",\n")}]}\n`);
  } else {
    const violationLines: string[] = [];
    const rows = runs.map((run, i) => {
      const plan = plans[i];
      if (!plan) return `  ${run.stack}  failed (exit ${run.status})`;
      const mandatory = plan.policyViolations.filter((v) => v.enforcementLevel === "mandatory").length;
      for (const v of plan.policyViolations.filter((x) => x.enforcementLevel === "mandatory").slice(0, 10)) violationLines.push(`  [${run.stack}] ${v.rule}: ${v.message}`);
      const records = plan.domains.reduce((n, d) => n + d.records.length, 0);
      return `  ${run.stack}  ${plan.domains.length} domains, ${records} records, ${plan.resourceCount} resources, ${mandatory} mandatory and ${plan.policyViolations.length - mandatory} advisory violations`;
    });
    io.stdout(`Plans of ${stacks.length} stacks (${flags.stack}):\n${rows.join("\n")}\n`);
    if (violationLines.length > 0) io.stdout(`Mandatory violations (up to 10 a stack; plan a stack alone for all):\n${violationLines.join("\n")}\n`);
    if (flags.out) io.stdout(`Zone files: under ${flags.out}/<stack>/\n`);
  }
  for (const run of runs) if (run.status > EXIT.failed || run.stderr) io.stderr(run.stderr.replace(/^(?=.)/gm, `[${run.stack}] `));
  return worstStatus(runs.map((r) => r.status));
}

/** The real path of `target`, resolving symlinks in the part of it that exists. */
function realPathOfNearestExisting(target: string): string {
  let existing = target;
  const rest: string[] = [];
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  return path.join(fs.realpathSync(existing), ...rest);
}

/** Make `--out` a writable directory, or refuse it naming why (and never write into /proc, /sys or /dev). */
function prepareOutDir(out: string): void {
  const resolved = path.resolve(out);
  const refuse = (why: string) => {
    throw new ValidationError("command line", [`--out = ${JSON.stringify(out)}: ${why}; name a directory you can write, such as plan-out/`]);
  };
  // Judged where it really lands: a symlink into /proc is /proc. /dev/shm is an ordinary tmpfs.
  const real = realPathOfNearestExisting(resolved);
  if (/^\/(proc|sys)(\/|$)|^\/dev(\/(?!shm(\/|$))|$)/.test(real)) refuse(`${real === resolved ? resolved : `${resolved} (really ${real})`} is a kernel file system, not a place for zone files`);
  try {
    fs.mkdirSync(resolved, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    refuse(
      code === "EEXIST" || code === "ENOTDIR"
        ? "a file is in the way (the path, or a directory above it, is a file, not a directory)"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : `cannot be created (${code ?? (error as Error).message})`,
    );
  }
  try {
    fs.accessSync(resolved, fs.constants.W_OK);
  } catch {
    refuse("is not writable");
  }
}

// The program may load its own copy of a module in odd setups; match by name as well.
function isValidationError(error: unknown): error is ValidationError {
  return error instanceof ValidationError || (error as Error)?.name === "ValidationError";
}


async function planCommand(args: string[], io: Io): Promise<number> {
  // zod loads with plan, which runs a program anyway; diff and verify --domain check their flags by hand.
  const { parseOrThrow } = require("../components/validation") as typeof import("../components/validation");
  const { planFlags } = require("./plan/flags") as typeof import("./plan/flags");
  const flags = parseOrThrow(
    planFlags,
    parseCommandLine(args, {
      stack: { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      "policy-config": { type: "string" },
      profile: { type: "string" },
      cwd: { type: "string" },
      jobs: { type: "string" },
      reports: { type: "string" },
    }, USAGE),
    "command line",
  );
  if (isStackPattern(flags.stack)) return planStacks(flags, io);
  if (flags.jobs !== undefined) throw new ValidationError("command line", ["--jobs: applies to a pattern of stacks (--stack 'estate-*'), not to one stack"]);
  // A directory that cannot be written is refused before the plan runs, not after.
  if (flags.out) prepareOutDir(flags.out);
  const { findProjectDir, loadProjectStack } = stackFiles();
  const projectDir = findProjectDir(flags.cwd ?? process.cwd());
  const project = loadProjectStack(projectDir, flags.stack);
  // A large stack is planned by a child node with a larger young generation (./plan/young-generation.ts),
  // when this is the command itself: the child's output is the process's own.
  if (io === processIo) {
    const youngGeneration = require("./plan/young-generation") as typeof import("./plan/young-generation");
    if (youngGeneration.wantsLargeYoungGeneration(project)) {
      const { postforgeBin } = require("./fan-out") as typeof import("./fan-out");
      return youngGeneration.runWithLargeYoungGeneration(postforgeBin(), ["plan", ...args]);
    }
  }
  const { policies, plan: planModule, report } = planModules();
  const policyConfig = policies.readPolicyConfig(projectDir, flags["policy-config"], flags.profile);
  // With --reports, the DMARC evidence is read first (a bad file is refused before the program runs), and the
  // dmarc-enforcement rule names it in its messages, as the plan's warnings do.
  const evidenceModule = flags.reports ? (require("./plan/evidence") as typeof import("./plan/evidence")) : undefined;
  const reportedDays = evidenceModule && flags.reports ? evidenceModule.readReportsSummary(flags.reports) : undefined;
  const rawDomains = project.config["postforge:domains"];
  const stackDomains = (typeof rawDomains === "string" ? JSON.parse(rawDomains) : (rawDomains ?? [])) as { name?: string }[];
  let evidence: import("./plan/evidence").PlannedEvidence[] | undefined;
  const plan = await policies.planWithPolicies(project, policyConfig, (planned): Record<string, Record<string, unknown>> => {
    if (!evidenceModule || !reportedDays) return {};
    evidence = evidenceModule.planEvidence(planned, reportedDays, stackDomains, flags.stack);
    return { "dmarc-enforcement": { evidence: evidenceModule.evidenceSentences(evidence) } };
  });
  if (evidence && evidenceModule) {
    plan.dmarcEvidence = evidence;
    plan.warnings = evidenceModule.warningsWithEvidence(plan.warnings, evidence, stackDomains);
  }
  if (flags.out) {
    const zonefile = require("../components/dns/zonefile") as typeof import("../components/dns/zonefile");
    // prepareOutDir made the directory before the plan ran.
    for (const domain of plan.domains) {
      fs.writeFileSync(path.join(flags.out, zonefile.zoneFileName(domain.domain)), zonefile.renderZoneFile(domain.domain, domain.records.map(planModule.modelRecord)));
    }
    for (const [domain, policy] of Object.entries(plan.mtaStsPolicies)) {
      // The path it is served under, so the folder can be copied to the policy host as it is.
      const dir = path.join(flags.out, `mta-sts.${domain}`, ".well-known");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "mta-sts.txt"), policy);
    }
    // The exact user-data each host boots with and the configuration it applies, for review (no secret in either).
    for (const host of plan.mailHosts) {
      fs.writeFileSync(path.join(flags.out, `${host.hostname}.cloud-init.yaml`), host.userData);
      fs.writeFileSync(path.join(flags.out, `${host.hostname}.config.json`), host.config);
    }
  }
  io.stdout(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : report.renderPlanTable(plan));
  if (flags.out && !flags.json) io.stdout(`Zone files: ${plan.domains.length} written to ${flags.out}\n`);
  return plan.policyViolations.some((v) => v.enforcementLevel === "mandatory") ? EXIT.failed : EXIT.ok;
}
