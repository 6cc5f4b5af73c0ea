// Preloaded into every node process of a measured run (NODE_OPTIONS=--require .../usage-probe.cjs,
// which child processes inherit): on exit, each appends its own CPU time (user + system, µs) and
// peak RSS (KiB) to $BENCH_USAGE_FILE, one JSON line per process. The parent times the wall clock.
"use strict";
const fs = require("node:fs");
const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    fs.appendFileSync(file, `${JSON.stringify({ pid: process.pid, cpuMicros: u.userCPUTime + u.systemCPUTime, maxRssKiB: u.maxRSS })}\n`);
  });
}
