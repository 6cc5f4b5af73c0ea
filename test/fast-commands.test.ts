/**
 * `verify --domain` and `diff` never run a stack program, so they must not
 * load the Pulumi SDK or a cloud provider SDK (about 0.3 s of start-up in
 * all), nor zod (they check their flags and plan files by hand: zod takes
 * 20 ms to load); `diff` does not load the Public Suffix List either. And
 * they load the CLI as one bundled file, not as its module tree. The real
 * command (bin/postforge.js) is run in a child process, and the files it
 * loaded are read from its require cache as it exits.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { PROJECT_DIR } from "./support/offline";

const BIN = path.join(PROJECT_DIR, "bin", "postforge.js");
const dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-fast-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What `postforge ARGS` loads: the heavy packages by name, and which build of the CLI. */
function loadedBy(args: string[]): { packages: string[]; cli: string[] } {
  const listing = path.join(dir, "loaded.json");
  const probe = path.join(dir, "probe.cjs");
  fs.writeFileSync(probe, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(listing)}, JSON.stringify(Object.keys(require.cache))));\n`);
  spawnSync(process.execPath, ["--require", probe, BIN, ...args], { stdio: "ignore", timeout: 60_000 });
  const files = JSON.parse(fs.readFileSync(listing, "utf8")) as string[];
  const packages = files.flatMap((f) => /node_modules\/(@pulumi\/(?:pulumi|aws|cloudflare|random)|zod|tldts)\//.exec(f)?.[1] ?? []);
  const cli = files.filter((f) => f.startsWith(path.join(PROJECT_DIR, "dist", "cli"))).map((f) => path.relative(PROJECT_DIR, f));
  return { packages: [...new Set(packages)].sort(), cli };
}

describe("commands that run no stack program start without the Pulumi SDKs", () => {
  it("verify --domain loads neither @pulumi/pulumi nor a provider, nor zod, and the CLI as one file", () => {
    const loaded = loadedBy(["verify", "--domain", "example.com", "--resolver", "127.0.0.1:9", "--timeout", "200"]);
    // The Public Suffix List may load: DMARC policy discovery asks for the organizational domain when it needs one.
    assert.deepEqual(loaded.packages.filter((m) => m !== "tldts"), []);
    assert.deepEqual(loaded.cli, [path.join("dist", "cli", "commands.bundle.js")]);
  });

  it("diff loads neither, nor the Public Suffix List; plan and verify --stack load the module tree", () => {
    const plan = JSON.stringify({ formatVersion: 1, project: "p", stack: "s", domains: [] });
    fs.writeFileSync(path.join(dir, "a.json"), plan);
    fs.writeFileSync(path.join(dir, "b.json"), plan);
    const diff = loadedBy(["diff", "--base", path.join(dir, "a.json"), "--head", path.join(dir, "b.json")]);
    assert.deepEqual(diff.packages, []);
    assert.deepEqual(diff.cli, [path.join("dist", "cli", "commands.bundle.js")]);
    const byPlan = loadedBy(["plan", "--stack", "dev", "--cwd", PROJECT_DIR]);
    for (const module of ["@pulumi/pulumi", "zod", "tldts"]) assert.ok(byPlan.packages.includes(module), `the check has teeth: plan loads ${module}`);
    assert.ok(byPlan.cli.includes(path.join("dist", "cli", "postforge.js")) && !byPlan.cli.some((f) => f.endsWith(".bundle.js")), "plan runs the module tree");
    const byStack = loadedBy(["verify", "--stack", "dev", "--cwd", PROJECT_DIR, "--resolver", "127.0.0.1:9", "--timeout", "200"]);
    assert.ok(!byStack.cli.some((f) => f.endsWith(".bundle.js")), "verify --stack runs the module tree");
  });

  it("the bundled CLI writes what the module tree writes", () => {
    // The same diff through bin (the bundle) and through dist/cli/postforge.js, byte for byte.
    const planJson = execFileSync(process.execPath, [BIN, "plan", "--stack", "dev", "--cwd", PROJECT_DIR, "--json"], { maxBuffer: 1 << 26 }).toString();
    fs.writeFileSync(path.join(dir, "dev.json"), planJson);
    fs.writeFileSync(path.join(dir, "dev-head.json"), planJson.replaceAll("p=reject", "p=none"));
    const args = ["diff", "--base", path.join(dir, "dev.json"), "--head", path.join(dir, "dev-head.json")];
    const bundled = execFileSync(process.execPath, [BIN, ...args]).toString();
    const tree = execFileSync(process.execPath, ["-e", `require(${JSON.stringify(path.join(PROJECT_DIR, "dist", "cli", "postforge.js"))}).main(${JSON.stringify(args)})`]).toString();
    assert.match(bundled, /p: reject → none/);
    assert.equal(bundled, tree);
  });
});
