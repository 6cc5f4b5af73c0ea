#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the `postforge` command needs no build step.
require("tsx/cjs/api").register();
const { main } = require("../cli/postforge.ts");
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(3);
  },
);
