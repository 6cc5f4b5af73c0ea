import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

/**
 * `pulumi up` compiles index.ts with the ts-node that @pulumi/pulumi vendors
 * and the project's own `typescript`, type-checking it. TypeScript 7 has no
 * compiler API, so a drifted pin breaks every deploy; this runs that exact
 * compile (in a child process, so its require hook stays out of this one).
 */
const root = path.resolve(__dirname, "..");

describe("the program under Pulumi's Node runtime", () => {
  it("pins typescript to ~5.9", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const range = pkg.devDependencies?.typescript ?? pkg.dependencies?.typescript;
    assert.equal(range, "~5.9.3");
    assert.match(require("typescript/package.json").version, /^5\.9\./);
  });

  it("compiles and loads index.ts through the vendored ts-node with type checking", () => {
    const vendored = fs.readdirSync(path.join(root, "node_modules/@pulumi/pulumi/vendor")).find((d) => d.startsWith("ts-node@"));
    assert.ok(vendored, "@pulumi/pulumi vendors ts-node");
    const script = `
      process.chdir(${JSON.stringify(root)});
      require(${JSON.stringify(path.join(root, "node_modules/@pulumi/pulumi/vendor", vendored!, "index.js"))}).register({
        compiler: require.resolve("typescript", { paths: [${JSON.stringify(root)}] }),
        transpileOnly: false,
        project: ${JSON.stringify(path.join(root, "tsconfig.json"))},
        compilerOptions: {},
      });
      try {
        require(${JSON.stringify(path.join(root, "index.ts"))});
      } catch (error) {
        // Outside an engine the program sees no config, which it refuses (an empty stack would delete every record);
        // a type error would have thrown TSxxxx before it ran.
        if (error.name !== "ValidationError" || !/parkedDomains are both empty/.test(error.message)) throw error;
      }
      console.log("compiled");`;
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", cwd: root, timeout: 240_000 });
    assert.match(out, /compiled/);
  });
});
