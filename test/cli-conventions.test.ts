/**
 * The command line follows the conventions of git and npm: every subcommand
 * has --help and -h (its own help, on stdout, exit 0, whatever else is on the
 * line), `postforge --version` prints the package's version, and a usage
 * error goes to stderr with exit 2.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import { EXIT, main } from "../cli/postforge";
import { captureIo } from "./support/io";

const pkg = require("../package.json") as { version: string };

describe("postforge command-line conventions", () => {
  for (const command of ["plan", "diff", "verify", "report"]) {
    for (const flag of ["--help", "-h"]) {
      it(`${command} ${flag} prints ${command}'s help on stdout and exits 0`, async () => {
        const io = captureIo();
        // With other flags on the line too, even a wrong one: help wins.
        assert.equal(await main([command, "--stack", "dev", flag, "--bogus"], io), EXIT.ok);
        assert.equal(io.err, "");
        assert.match(io.out, new RegExp(`^Usage:\\n  postforge ${command} `));
        for (const other of ["plan", "diff", "verify", "report"].filter((c) => c !== command)) assert.doesNotMatch(io.out, new RegExp(`^  postforge ${other} `, "m"));
      });
    }
  }

  it("--version prints the package's version", async () => {
    for (const flag of ["--version", "-V"]) {
      const io = captureIo();
      assert.equal(await main([flag], io), EXIT.ok);
      assert.equal(io.out, `postforge ${pkg.version}\n`);
    }
  });

  it("postforge --help lists every command; no command is a usage error", async () => {
    const io = captureIo();
    assert.equal(await main(["--help"], io), EXIT.ok);
    for (const command of ["plan", "diff", "verify"]) assert.match(io.out, new RegExp(`postforge ${command} `));
    const none = captureIo();
    assert.equal(await main([], none), EXIT.invalid);
  });

  it("a usage error goes to stderr, with exit 2", async () => {
    for (const argv of [["plan", "--bogus"], ["diff", "--nope"], ["verify", "--wat"], ["frobnicate"]]) {
      const io = captureIo();
      assert.equal(await main(argv, io), EXIT.invalid, argv.join(" "));
      assert.equal(io.out, "", argv.join(" "));
      assert.match(io.err, /^postforge: /, argv.join(" "));
    }
  });

  it("the installed bin behaves the same: help on stdout with exit 0, a usage error with exit 2", () => {
    const bin = path.join(__dirname, "..", "bin", "postforge.js");
    const help = execFileSync(process.execPath, [bin, "diff", "-h"], { encoding: "utf8" });
    assert.match(help, /^Usage:\n  postforge diff /);
    const bad = spawnSync(process.execPath, [bin, "diff", "--nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /Unknown option '--nope'/);
  });
});
