import * as fs from "node:fs";
import { FlagProblems, parseCommandLine } from "../flag-check";
import { isDomainName, isSelector } from "../../components/dns/protocols/common";
import type { DmarcMode } from "../../components/dns/protocols/dmarc";
// Stack files and the fan-out load only with --stack: verify --domain starts without them (and js-yaml).
const stackFiles = () => require("../plan/stack-files") as typeof import("../plan/stack-files");
const fanOut = () => require("../fan-out") as typeof import("../fan-out");
import type { Check } from "./checks/check";
import { createDnsLookup, isResolverAddress, type DnsLookup, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "./dns";
import { renderChecklist, renderJson } from "./report";
import { verifyDomains, verifyPlan, type VerifyOptions } from "./run";

/**
 * `postforge verify`: check what DNS (and the MX hosts) publish, against a
 * stack's plan (--stack) or against the standards alone (--domain).
 * Exit 0 when nothing failed (warnings allowed), 1 when a check failed,
 * 2 on bad flags; the caller (cli/postforge.ts) maps thrown ValidationErrors to 2.
 */

import { VERIFY_USAGE } from "../usage";

export { VERIFY_USAGE };

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** For tests: where SMTP probes and policy fetches go. */
export type VerifyOverrides = Partial<Pick<VerifyOptions, "smtp" | "policyUrl">>;

const TIMEOUT_MAX_MS = 60_000;

interface VerifyFlags {
  "--stack"?: string;
  "--domain"?: string[];
  "--dkim-selector"?: string[];
  "--dmarc-mode"?: DmarcMode;
  "--resolver"?: string;
  "--timeout"?: number;
  "--tls": boolean;
  "--dnsbl": boolean;
  "--json": boolean;
  "--cwd"?: string;
}

/** The flags parseArgs read, each checked; every problem is reported at once (exit 2). */
function checkVerifyFlags(values: Record<string, unknown>): VerifyFlags {
  const problems = new FlagProblems();
  const stack = values["--stack"] as string | undefined;
  const domains = values["--domain"] as string[] | undefined;
  const selectors = values["--dkim-selector"] as string[] | undefined;
  const dmarcMode = values["--dmarc-mode"] as string | undefined;
  const resolver = values["--resolver"] as string | undefined;
  const timeout = values["--timeout"] as string | undefined;
  if (stack !== undefined && !/^[A-Za-z0-9_.*-]+$/.test(stack)) {
    problems.add(["--stack"], stack, "must be a stack name of letters, digits, '.', '_' or '-' (or a pattern with *), e.g. --stack prod");
  }
  domains?.forEach((d, i) => isDomainName(d) || problems.add(["--domain", i], d, "must be a domain name such as example.com (ASCII; IDNs in xn-- form)"));
  selectors?.forEach((s, i) => isSelector(s) || problems.add(["--dkim-selector", i], s, "must be a DKIM selector: letters, digits and hyphens in dot-separated labels, e.g. s2026a"));
  if (dmarcMode !== undefined && dmarcMode !== "rfc9989" && dmarcMode !== "rfc7489") problems.add(["--dmarc-mode"], dmarcMode, "must be rfc9989 (DMARCbis) or rfc7489 (the original)");
  if (resolver !== undefined && !isResolverAddress(resolver)) {
    problems.add(["--resolver"], resolver, "must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53 (host names cannot be used)");
  }
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    if (!/^[0-9]+$/.test(timeout)) problems.add(["--timeout"], timeout, `must be whole milliseconds, e.g. --timeout ${DEFAULT_TIMEOUT_MS}`);
    else if (Number(timeout) < 1 || Number(timeout) > TIMEOUT_MAX_MS) problems.add(["--timeout"], Number(timeout), `must be from 1 to ${TIMEOUT_MAX_MS} milliseconds, e.g. ${DEFAULT_TIMEOUT_MS}`);
    else timeoutMs = Number(timeout);
  }
  // What the flags mean together is judged once each flag is right.
  if (problems.count === 0) {
    const byDomain = (domains?.length ?? 0) > 0;
    if ((stack !== undefined) === byDomain) {
      problems.add(
        ["--stack"],
        stack,
        stack !== undefined
          ? "give either --stack NAME (check a stack's plan) or --domain NAME (check published records), not both"
          : "give exactly one of --stack NAME (check a stack's plan) or --domain NAME (check published records)",
      );
    }
    if (stack !== undefined && selectors) problems.add(["--dkim-selector"], selectors, "applies to --domain only; with --stack the selectors come from the plan");
    if (stack !== undefined && dmarcMode) problems.add(["--dmarc-mode"], dmarcMode, "applies to --domain only; with --stack the mode is the stack's postforge:dmarcMode");
  }
  problems.throwIfAny();
  return {
    ...(stack !== undefined ? { "--stack": stack } : {}),
    ...(domains ? { "--domain": domains } : {}),
    ...(selectors ? { "--dkim-selector": selectors } : {}),
    ...(dmarcMode !== undefined ? { "--dmarc-mode": dmarcMode as DmarcMode } : {}),
    ...(resolver !== undefined ? { "--resolver": resolver } : {}),
    ...(timeoutMs !== undefined ? { "--timeout": timeoutMs } : {}),
    "--tls": values["--tls"] === true,
    "--dnsbl": values["--dnsbl"] === true,
    "--json": values["--json"] === true,
    ...(values["--cwd"] !== undefined ? { "--cwd": values["--cwd"] as string } : {}),
  };
}

function readFlags(args: string[]): Record<string, unknown> {
  const values = parseCommandLine(
    args,
    {
      stack: { type: "string" },
      domain: { type: "string", multiple: true },
      "dkim-selector": { type: "string", multiple: true },
      "dmarc-mode": { type: "string" },
      resolver: { type: "string" },
      timeout: { type: "string" },
      tls: { type: "boolean" },
      dnsbl: { type: "boolean" },
      json: { type: "boolean" },
      cwd: { type: "string" },
    },
    `Usage:\n${VERIFY_USAGE}`,
  );
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`--${k}`, v]));
}

/**
 * While a run lasts more than a few seconds, say on stderr how far it is, when
 * stderr is a terminal (a pipe or a CI log gets only the result).
 */
function reportProgress(dns: DnsLookup, stream: NodeJS.WriteStream = process.stderr): { stop(): void } {
  if (!stream.isTTY) return { stop: () => undefined };
  let shown = false;
  const tick = () => {
    shown = true;
    stream.write(`\rverify: ${dns.stats.answered} of ${dns.stats.sent} DNS queries answered${dns.stats.unreachable ? " (resolver unreachable: the rest is not run)" : ""}\x1b[K`);
  };
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    tick();
    interval = setInterval(tick, 1000);
  }, 3000);
  return {
    stop() {
      clearTimeout(first);
      clearInterval(interval);
      if (shown) stream.write("\r\x1b[K");
    },
  };
}

export async function verifyCommand(args: string[], io: Io, overrides: VerifyOverrides = {}): Promise<number> {
  const flags = checkVerifyFlags(readFlags(args));
  if (flags["--stack"] !== undefined && flags["--stack"].includes("*")) return verifyStacks(flags["--stack"], args, flags["--json"], flags["--cwd"], io);
  const timeoutMs = flags["--timeout"] ?? DEFAULT_TIMEOUT_MS;
  // POSTFORGE_DNS_TRACE=FILE: every query verify sends, one "name kind" line each (for debugging, and the benchmark's floor).
  const traceFile = process.env.POSTFORGE_DNS_TRACE;
  const trace: string[] = [];
  const dns = createDnsLookup({ server: flags["--resolver"], timeoutMs, concurrency: DEFAULT_CONCURRENCY, ...(traceFile ? { onQuery: (name: string, kind: string) => trace.push(`${name} ${kind}`) } : {}) });
  const resolverServers = flags["--resolver"] !== undefined ? [flags["--resolver"]] : (require("node:dns") as typeof import("node:dns")).getServers();
  const base = { dns, tls: flags["--tls"], dnsbl: flags["--dnsbl"], resolverServers, timeoutMs, smtp: overrides.smtp ?? { port: 25 }, policyUrl: overrides.policyUrl };
  const progress = reportProgress(dns);
  let checks: Check[];
  let title: string;
  try {
  if (flags["--stack"] !== undefined) {
    const { findProjectDir, loadProjectStack } = stackFiles();
    const project = loadProjectStack(findProjectDir(flags["--cwd"] ?? process.cwd()), flags["--stack"]);
    // The Pulumi SDK loads only here: verify --domain never runs a program.
    const { runOffline } = require("../plan/engine") as typeof import("../plan/engine");
    const { buildPlan } = require("../plan/plan") as typeof import("../plan/plan");
    const plan = buildPlan(project, await runOffline(project));
    const dmarcMode = (project.config[`${project.project}:dmarcMode`] ?? "rfc9989") as DmarcMode;
    checks = await verifyPlan(plan, { ...base, dmarcMode });
    title = `Verify stack ${plan.stack} (project ${plan.project}) against ${dns.where}`;
  } else {
    const domains = flags["--domain"]!;
    checks = await verifyDomains(domains, flags["--dkim-selector"] ?? [], { ...base, dmarcMode: flags["--dmarc-mode"] ?? "rfc9989" });
    title = `Verify ${domains.join(", ")} against ${dns.where}`;
  }
  } finally {
    progress.stop();
  }
  if (traceFile) fs.writeFileSync(traceFile, trace.map((line) => `${line}\n`).join(""));
  io.stdout(flags["--json"] ? renderJson(checks) : renderChecklist(checks, title));
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

/** `verify --stack PATTERN`: each matching stack verified by its own process, the reports one after another. */
async function verifyStacks(pattern: string, args: string[], json: boolean, cwd: string | undefined, io: Io): Promise<number> {
  const { defaultJobs, runPerStack, stacksMatching, worstStatus } = fanOut();
  const projectDir = stackFiles().findProjectDir(cwd ?? process.cwd());
  const stacks = stacksMatching(projectDir, pattern);
  const rest = withoutFlag(withoutFlag(args, "--stack"), "--cwd");
  const runs = await runPerStack("verify", stacks, [...rest, "--cwd", projectDir], defaultJobs());
  if (json) {
    io.stdout(`{"stacks":[${runs.map((r) => `{"stack":${JSON.stringify(r.stack)},"status":${r.status},"report":${r.stdout.trim() || "null"}}`).join(",\n")}]}\n`);
  } else {
    for (const run of runs) io.stdout(run.stdout.endsWith("\n") || run.stdout === "" ? run.stdout : `${run.stdout}\n`);
  }
  for (const run of runs) if (run.stderr) io.stderr(run.stderr.replace(/^(?=.)/gm, `[${run.stack}] `));
  return worstStatus(runs.map((r) => r.status));
}

/** The arguments without a flag and its value (`--flag V` or `--flag=V`). */
function withoutFlag(args: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) i++;
    else if (!args[i].startsWith(`${flag}=`)) out.push(args[i]);
  }
  return out;
}
