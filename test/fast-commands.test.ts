/**
 * `verify --domain` and `diff` never run a stack program, so they must not
 * load the Pulumi SDK or a cloud provider SDK (about 0.3 s of start-up in
 * all): the compiled CLI is run in a child process, and the modules it
 * loaded are read from its require cache.
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
      const heavy = Object.keys(require.cache).filter((f) => /node_modules\\/@pulumi\\/(pulumi|aws|cloudflare|random)\\//.test(f));
      process.stdout.write(JSON.stringify([...new Set(heavy.map((f) => f.replace(/.*node_modules\\/(@pulumi\\/[^/]+).*/, "$1")))]));
    });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 }));
}

describe("commands that run no stack program start without the Pulumi SDKs", () => {
  it("verify --domain loads neither @pulumi/pulumi nor a provider", () => {
    assert.deepEqual(loadedBy(["verify", "--domain", "example.com", "--resolver", "127.0.0.1:9", "--timeout", "200"]), []);
  });

  it("diff loads neither; plan does (it runs the program)", () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-fast-"));
    try {
      const plan = JSON.stringify({ formatVersion: 1, project: "p", stack: "s", domains: [] });
      fs.writeFileSync(path.join(dir, "a.json"), plan);
      fs.writeFileSync(path.join(dir, "b.json"), plan);
      assert.deepEqual(loadedBy(["diff", "--base", path.join(dir, "a.json"), "--head", path.join(dir, "b.json")]), []);
      assert.ok(loadedBy(["plan", "--stack", "dev", "--cwd", PROJECT_DIR]).includes("@pulumi/pulumi"), "the check has teeth: plan loads the SDK");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
