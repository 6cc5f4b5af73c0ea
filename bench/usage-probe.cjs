// Preloaded into every measured process (`node --require bench/usage-probe.cjs ...`):
// on exit, writes the process's own CPU time (user + system, µs) and peak RSS (KiB)
// to $BENCH_USAGE_FILE. The parent times the wall clock around the whole process.
"use strict";
const fs = require("node:fs");
const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    fs.writeFileSync(file, JSON.stringify({ cpuMicros: u.userCPUTime + u.systemCPUTime, maxRssKiB: u.maxRSS }));
  });
}
