// The plan's floor, as a whole process: a bare Pulumi program (./program.cjs) that
// registers the same provider resources with precomputed inputs, run under the same
// offline engine and mocks as `postforge plan`, its captured resources printed as
// JSON. No config reading, no validation, no components, no policy pack, no report:
// what any tool that produced this plan would have to pay at the least.
"use strict";
// The same V8 code cache bin/postforge.js turns on, so start-up is measured alike.
require("node:module").enableCompileCache?.();
const { runOffline } = require("../../dist/cli/plan/engine");

runOffline({ programPath: require.resolve("./program.cjs"), project: "postforge", stack: "bench", config: {} }).then((run) => {
  process.stdout.write(JSON.stringify(run.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }))));
});
