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
const { main } = require("../dist/cli/postforge.js");
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
