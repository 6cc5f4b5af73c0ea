#!/usr/bin/env node
// The postforge command: the compiled CLI (`npm run build`, which npm runs on install from a checkout).
const { main } = require("../dist/cli/postforge.js");
main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain before the process ends, whatever it is (file, pipe): exitCode, not exit().
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 3;
  },
);
