/**
 * A stack of LARGE_PLAN_DOMAINS or more is planned by a child node with a
 * larger V8 young generation (cli/plan/young-generation.ts): the same plan,
 * byte for byte, its output and exit status the command's own; a smaller
 * stack, a NODE_OPTIONS that sets the semi-space already, and an in-process
 * caller (tests, with their own io) are planned in the process. Which node
 * ran what is read from a probe every node loads (through NODE_OPTIONS).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { writeBenchProject } from "../bench/bench-project";
import {
  LARGE_PLAN_DOMAINS,
  YOUNG_GENERATION_FLAG,
  declaredDomainCount,
  hasYoungGenerationSetting,
} from "../cli/plan/young-generation";
import { PROJECT_DIR } from "./support/offline";

const BIN = path.join(PROJECT_DIR, "bin", "postforge.js");
const dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-young-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `postforge ARGS` as a user runs it, and the execArgv of every node process it took. */
function run(args: string[], nodeOptions = "") {
  const log = path.join(dir, `nodes-${Math.random().toString(36).slice(2)}.txt`);
  const probe = path.join(dir, "probe.cjs");
  fs.writeFileSync(probe, `require("node:fs").appendFileSync(process.env.YOUNG_PROBE_LOG, JSON.stringify(process.execArgv) + "\\n");\n`);
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, YOUNG_PROBE_LOG: log, NODE_OPTIONS: `${nodeOptions} --require ${probe}`.trim() },
  });
  const nodes = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, nodes };
}

describe("a large plan runs with a larger young generation", () => {
  it("reads the domain count from the stack config, and sees a semi-space set by flag or NODE_OPTIONS", () => {
    assert.equal(declaredDomainCount({ project: "postforge", config: { "postforge:domains": JSON.stringify([{}, {}, {}]) } }), 3);
    assert.equal(declaredDomainCount({ project: "postforge", config: { "postforge:domains": "not json" } }), 0);
    assert.equal(declaredDomainCount({ project: "other", config: { "postforge:domains": "[{}]" } }), 0);
    assert.equal(hasYoungGenerationSetting([YOUNG_GENERATION_FLAG], ""), true);
    assert.equal(hasYoungGenerationSetting([], "--require x --max-semi-space-size=32"), true);
    assert.equal(hasYoungGenerationSetting(["--max-old-space-size=8000"], "--require x"), false);
  });

  it(`plans ${LARGE_PLAN_DOMAINS} domains in a child node given ${YOUNG_GENERATION_FLAG}: the same plan, the same exit status`, () => {
    const project = writeBenchProject(path.join(dir, "large"), "large", LARGE_PLAN_DOMAINS);
    const args = ["plan", "--stack", "large", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile];
    const child = run(args);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(child.nodes.map((argv) => argv.includes(YOUNG_GENERATION_FLAG)), [false, true], "the command, then its child with the flag");
    // With the semi-space already set, the same stack is planned in the process.
    const inProcess = run(args, "--max-semi-space-size=16");
    assert.equal(inProcess.nodes.length, 1);
    assert.equal(child.stdout, inProcess.stdout);
    assert.equal(JSON.parse(child.stdout).domains.length, LARGE_PLAN_DOMAINS);

    // A refusal in the child is the command's: exit 2, its message on stderr, nothing on stdout.
    const stackFile = path.join(project.projectDir, "stacks", "Pulumi.large.yaml");
    fs.writeFileSync(path.join(project.projectDir, "stacks", "Pulumi.broken.yaml"), fs.readFileSync(stackFile, "utf8").replace("priority: 10", "priority: 70000"));
    const refused = run(["plan", "--stack", "broken", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile]);
    assert.equal(refused.nodes.length, 2);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /^postforge: .*invalid:\n.*priority = 70000/m);
    assert.doesNotMatch(refused.stderr, /\n    at /, "no stack trace");
    assert.equal(refused.stdout, "");
  });

  it("plans a smaller stack in the process", () => {
    const project = writeBenchProject(path.join(dir, "small"), "small", LARGE_PLAN_DOMAINS - 1);
    const small = run(["plan", "--stack", "small", "--json", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile]);
    assert.equal(small.status, 0, small.stderr);
    assert.equal(small.nodes.length, 1);
  });
});
