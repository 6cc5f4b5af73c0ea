#!/usr/bin/env node
// The postforge command: the compiled CLI (`npm run build`, which npm runs on install from a checkout).
// A reader that went away (`postforge plan --json | head`) ends the command quietly, as other
// command-line tools do, instead of with an EPIPE stack trace.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
// V8's code cache for the CLI's modules (Node 22.1+; NODE_DISABLE_COMPILE_CACHE=1 turns it off):
// the Pulumi SDK, the providers and TypeScript load from it, not from source, after the first run.
require("node:module").enableCompileCache?.();

const [command, ...rest] = process.argv.slice(2);
if (command === "diff" || command === "verify") {
  // These run for a fraction of a second, in which V8's optimizing compiler (TurboFan, on background
  // threads) cost a third of their CPU and repaid none of it: it starts on a function after 30,000
  // calls instead of 3,000, so a diff of 10,000 domains, long enough to repay it, still gets it.
  // `plan` runs a program for seconds and keeps V8's default. (README, "Fast commands".)
  require("node:v8").setFlagsFromString("--invocation-count-for-turbofan=30000");
}
// diff and verify --domain run no stack program: they load the CLI as one bundled file (built from the
// same dist/cli by `npm run build`) instead of some 45 modules, each resolved, read and wrapped on its
// own, a fifth of their CPU. plan, shard and verify --stack load the module tree, which the stack
// program they run shares.
const programless = command === "diff" || (command === "verify" && !rest.some((a) => a === "--stack" || a.startsWith("--stack=")));
const { main } = require(programless ? "../dist/cli/commands.bundle.js" : "../dist/cli/postforge.js");
main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain before the process ends, whatever it is (file, pipe, slow reader):
    // exitCode, not exit(), which would cut output still queued for a pipe.
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 3;
  },
);
