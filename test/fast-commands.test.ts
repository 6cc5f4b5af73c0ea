/**
 * `verify --domain` and `diff` never run a stack program, so they must not
 * load the Pulumi SDK or a cloud provider SDK (about 0.3 s of start-up in
 * all), nor zod (they check their flags and plan files by hand: zod takes
 * 20 ms to load); `diff` does not load the Public Suffix List either. The
 * compiled CLI is run in a child process, and the modules it loaded are read
 * from its require cache.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_DIR } from "./support/offline";

function loadedBy(args: string[]): string[] {
  const script = `
    const { main } = require(${JSON.stringify(path.join(PROJECT_DIR, "dist", "cli", "postforge.js"))});
    const io = { stdout: () => {}, stderr: () => {} };
    main(${JSON.stringify(args)}, io).then(() => {
      const heavy = Object.keys(require.cache).filter((f) => /node_modules\\/(@pulumi\\/(pulumi|aws|cloudflare|random)|zod|tldts)\\//.test(f));
      process.stdout.write(JSON.stringify([...new Set(heavy.map((f) => f.replace(/.*node_modules\\/(@pulumi\\/[^/]+|zod|tldts)\\/.*/, "$1")))].sort()));
    });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 }));
}

describe("commands that run no stack program start without the Pulumi SDKs", () => {
  it("verify --domain loads neither @pulumi/pulumi nor a provider, nor zod", () => {
    // The Public Suffix List may load: DMARC policy discovery asks for the organizational domain when it needs one.
    const loaded = loadedBy(["verify", "--domain", "example.com", "--resolver", "127.0.0.1:9", "--timeout", "200"]);
    assert.deepEqual(loaded.filter((m) => m !== "tldts"), []);
  });

  it("diff loads neither; plan does (it runs the program)", () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-fast-"));
    try {
      const plan = JSON.stringify({ formatVersion: 1, project: "p", stack: "s", domains: [] });
      fs.writeFileSync(path.join(dir, "a.json"), plan);
      fs.writeFileSync(path.join(dir, "b.json"), plan);
      assert.deepEqual(loadedBy(["diff", "--base", path.join(dir, "a.json"), "--head", path.join(dir, "b.json")]), []);
      const byPlan = loadedBy(["plan", "--stack", "dev", "--cwd", PROJECT_DIR]);
      for (const module of ["@pulumi/pulumi", "zod", "tldts"]) assert.ok(byPlan.includes(module), `the check has teeth: plan loads ${module}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
