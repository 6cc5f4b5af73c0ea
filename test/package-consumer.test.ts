/**
 * Postforge as another team installs it: `npm pack` of this checkout (the
 * files a publish would ship), installed into a fresh project with its own
 * package.json, Pulumi.yaml, the tsconfig.json `pulumi new typescript`
 * writes, and a stack file. The install runs offline: its lockfile is this
 * project's own, restricted to what the package needs (the versions CI
 * tests), so npm takes every tarball from its cache. Then, in that project:
 *  (a) a TypeScript program that uses MailStack and MailDomain compiles
 *      through the ts-node @pulumi/pulumi vendors, type-checked with the
 *      project's typescript, and registers the expected resources under mocks;
 *  (b) plain JavaScript `require` of every `exports` subpath works;
 *  (c) `npx postforge plan` plans that program's stack;
 *  (d) importing the package registers nothing;
 *  (e) the policy pack in node_modules/postforge/dist/policies serves, started
 *      as the Pulumi CLI starts a pack for `pulumi preview --policy-pack`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { ALL_RULES } from "../policies/rules";
import { startPolicyPack } from "./support/policy-pack-process";

const root = path.resolve(__dirname, "..");
const pkg = JSON.parse(require("node:fs").readFileSync(path.join(root, "package.json"), "utf8")) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
  exports: Record<string, unknown>;
};

function run(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A lockfile for the consumer: this project's entries the package needs at run time, typescript, and the tarball itself. */
async function consumerLockfile(tarball: string): Promise<unknown> {
  const lock = JSON.parse(await readFile(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
  const integrity = `sha512-${createHash("sha512").update(await readFile(tarball)).digest("base64")}`;
  const packages: Record<string, unknown> = {
    "": { name: "consumer", version: "1.0.0", dependencies: { postforge: `file:${tarball}`, "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"] }, devDependencies: { typescript: "~5.9.3" } },
    "node_modules/postforge": { version: pkg.version, resolved: `file:${tarball}`, integrity, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key !== "" && (!entry.dev || key === "node_modules/typescript")) packages[key] = entry;
  }
  return { name: "consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

const TSCONFIG = {
  // What `pulumi new typescript` writes.
  compilerOptions: {
    strict: true, outDir: "bin", target: "es2020", module: "commonjs", moduleResolution: "node", sourceMap: true,
    experimentalDecorators: true, pretty: true, noFallthroughCasesInSwitch: true, noImplicitReturns: true, forceConsistentCasingInFileNames: true,
  },
  files: ["index.ts"],
};

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { MailStack, readStackConfig } from "postforge";
import { MailDomain, Route53Backend } from "postforge/dns";
import { buildSpfValue } from "postforge/protocols";

const mail = new MailStack("mail", { config: readStackConfig(), stackName: pulumi.getStack() });
new MailDomain("extra.example.net", {
  domain: "extra.example.net",
  // A domain that never sends: null MX, an SPF that authorizes nobody, DMARC reject (the pack checks it too).
  records: [
    { name: "extra.example.net", type: "MX", ttl: 300, purpose: "null-mx", priority: 0, exchange: "." },
    { name: "extra.example.net", type: "TXT", ttl: 300, purpose: "spf", strings: [buildSpfValue({ ip4: [], ip6: [], a: [], mx: false, includes: [], all: "-all" })] },
    { name: "_dmarc.extra.example.net", type: "TXT", ttl: 300, purpose: "dmarc", strings: ["v=DMARC1; p=reject"] },
  ],
  backend: new Route53Backend({ hostedZoneId: "Z0123456789ABCDEFGHIJ" }),
});
export const domains = mail.domains;
`;

const DOMAINS = [{ name: "example.com", dns: { provider: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ" }, nullMx: true, spf: { all: "-all" }, dmarc: { p: "reject" } }];

/** Runs under Pulumi's mocks and prints what was registered; `mode` is "program" (index.ts via Pulumi's ts-node) or "import" (every subpath). */
const MOCK_RUNNER = `const fs = require("node:fs");
const path = require("node:path");
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks({ newResource: (a) => (registered.push([a.type, a.name]), { id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs }, "consumer", "dev", true);
pulumi.runtime.setAllConfig({ "postforge:domains": ${JSON.stringify(JSON.stringify(DOMAINS))} });
if (process.argv[2] === "program") {
  const vendor = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "vendor");
  require(path.join(vendor, fs.readdirSync(vendor).find((d) => d.startsWith("ts-node@")))).register({
    compiler: require.resolve("typescript"), transpileOnly: false, project: path.resolve("tsconfig.json"), compilerOptions: {},
  });
  require("./" + (process.argv[3] || "index.ts"));
} else {
  for (const subpath of process.argv.slice(3)) require(subpath);
}
setTimeout(() => console.log(JSON.stringify(registered.sort())), 1500);
`;

describe("the package, installed into another team's project", { timeout: 600_000 }, () => {
  let work: string;
  let project: string;
  const subpaths = Object.keys(pkg.exports).filter((s) => s !== "./package.json").map((s) => (s === "." ? "postforge" : `postforge/${s.slice(2)}`));

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "postforge-consumer-"));
    const packed = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", work], root);
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = path.join(work, (await readdir(work)).find((f) => f.endsWith(".tgz"))!);
    project = path.join(work, "consumer");
    await mkdir(path.join(project, "stacks"), { recursive: true });
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, dependencies: { postforge: `file:${tarball}`, "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"] }, devDependencies: { typescript: "~5.9.3" } }, null, 2));
    await writeFile(path.join(project, "package-lock.json"), JSON.stringify(await consumerLockfile(tarball), null, 2));
    await writeFile(path.join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    await writeFile(path.join(project, "Pulumi.yaml"), "name: consumer\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\nstackConfigDir: stacks\n");
    await writeFile(path.join(project, "stacks", "Pulumi.dev.yaml"), `config:\n  postforge:domains: ${JSON.stringify(DOMAINS)}\n`);
    await writeFile(path.join(project, "index.ts"), PROGRAM);
    await writeFile(path.join(project, "run-under-mocks.js"), MOCK_RUNNER);
    const installed = await run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], project);
    assert.equal(installed.code, 0, `npm ci --offline failed:\n${installed.stderr}`);
  });

  after(() => rm(work, { recursive: true, force: true }));

  it("ships compiled JavaScript with declarations and maps, and no TypeScript source, test or stack file", async () => {
    const listed = await run("tar", ["tzf", path.join(work, (await readdir(work)).find((f) => f.endsWith(".tgz"))!)], work);
    const files = listed.stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    assert.ok(files.includes("dist/components/index.js") && files.includes("dist/components/index.d.ts") && files.includes("dist/components/index.d.ts.map"));
    assert.ok(files.includes("dist/policies/PulumiPolicy.yaml") && files.includes("dist/policies/package.json"));
    assert.deepEqual(files.filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || /^(test|bench|stacks)\//.test(f) || f === "index.js" || f === "Pulumi.yaml"), []);
  });

  it("(a) compiles a program using MailStack and MailDomain through Pulumi's ts-node, type-checked, and registers the expected resources", async () => {
    const out = await run(process.execPath, ["run-under-mocks.js", "program"], project);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), [
      ["aws:route53/record:Record", "example.com-@-mx"],
      ["aws:route53/record:Record", "example.com-@-txt"],
      ["aws:route53/record:Record", "example.com-_dmarc-txt"],
      ["aws:route53/record:Record", "extra.example.net-@-mx"],
      ["aws:route53/record:Record", "extra.example.net-@-txt"],
      ["aws:route53/record:Record", "extra.example.net-_dmarc-txt"],
      ["postforge:config:StackSettings", "postforge-settings"],
      ["postforge:dns:MailDomain", "example.com"],
      ["postforge:dns:MailDomain", "extra.example.net"],
      ["postforge:index:MailStack", "mail"],
    ]);
  });

  it("(a) has teeth: a program with a type error fails to compile on that path", async () => {
    await writeFile(path.join(project, "broken.ts"), 'import { MailStack } from "postforge";\nnew MailStack("m", { config: { domains: 42 } });\n');
    const out = await run(process.execPath, ["run-under-mocks.js", "program", "broken.ts"], project);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /broken\.ts.*TS2322/);
  });

  it("(b) loads every exports subpath with a plain require", async () => {
    const out = await run(process.execPath, ["-e", `for (const s of ${JSON.stringify(subpaths)}) { const m = require(s); if (Object.keys(m).length === 0) throw new Error(s + " exports nothing"); } console.log("ok")`], project);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), "ok");
    assert.deepEqual(subpaths, ["postforge", "postforge/dns", "postforge/protocols", "postforge/dkim", "postforge/mta-host", "postforge/config", "postforge/sending", "postforge/monitoring", "postforge/reports", "postforge/mta-sts", "postforge/grafana/postforge-mail-host.json", "postforge/stack", "postforge/policies"]);
  });

  it("(c) npx postforge plan plans the project's stack", async () => {
    const out = await run("npx", ["--offline", "postforge", "plan", "--stack", "dev"], project);
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    assert.match(out.stdout, /^Plan for stack dev \(project consumer\), offline$/m);
    assert.match(out.stdout, /^example\.com  \[route53, 3 records\]$/m);
    assert.match(out.stdout, /^extra\.example\.net  \[route53, 3 records\]$/m);
    assert.match(out.stdout, /^Policies: every rule of the postforge-email-auth pack passes\.$/m);
    const version = await run("npx", ["--offline", "postforge", "--version"], project);
    assert.equal(version.stdout, `postforge ${pkg.version}\n`);
  });

  it("(c) plans a project whose tsconfig.json asks for NodeNext modules (the @tsconfig/node22 style), as Pulumi loads it", async () => {
    const nodeNext = { ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, module: "nodenext", moduleResolution: "nodenext" } };
    await writeFile(path.join(project, "tsconfig.json"), JSON.stringify(nodeNext, null, 2));
    try {
      const out = await run("npx", ["--offline", "postforge", "plan", "--stack", "dev"], project);
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
      assert.match(out.stdout, /^example\.com  \[route53, 3 records\]$/m);
    } finally {
      await writeFile(path.join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    }
  });

  it("(d) importing the package and every subpath registers nothing", async () => {
    const out = await run(process.execPath, ["run-under-mocks.js", "import", ...subpaths], project);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), []);
  });

  it("(e) serves the policy pack from the installed package, as pulumi preview --policy-pack node_modules/postforge/dist/policies runs it", async () => {
    const packDir = path.join(project, "node_modules", "postforge", "dist", "policies");
    const runner = path.join(project, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    const pack = await startPolicyPack(packDir, runner, 60_000);
    try {
      // A client built from this checkout's copy of the analyzer protocol: any client will do.
      const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
      const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
      const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure());
      const info = await new Promise<any>((resolve, reject) => client.getAnalyzerInfo(new Empty(), (e: Error | null, r: any) => (e ? reject(e) : resolve(r.toObject()))));
      client.close();
      assert.equal(info.name, "postforge-email-auth");
      assert.deepEqual(info.policiesList.map((p: { name: string }) => p.name), ALL_RULES.map((r) => r.name));
    } finally {
      pack.stop();
    }
  });
});
