// The floor of a sharded plan: ./process.cjs for each shard's records (files named on the command
// line), as many at once as `postforge plan --stack PATTERN` runs ($BENCH_JOBS), their JSON put together;
// each with the node flags in $BENCH_FLOOR_NODE_FLAGS (those Postforge plans a shard of that size with).
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");

const files = process.argv.slice(2);
const jobs = Number(process.env.BENCH_JOBS ?? 2);
const flags = (process.env.BENCH_FLOOR_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const outputs = new Array(files.length);
let next = 0;
const one = (i) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, path.join(__dirname, "process.cjs")], { env: { ...process.env, BENCH_FLOOR_RECORDS: files[i] }, stdio: ["ignore", "pipe", "inherit"] });
    const chunks = [];
    child.stdout.on("data", (c) => chunks.push(c));
    child.on("close", (code) => (code === 0 ? resolve((outputs[i] = Buffer.concat(chunks).toString())) : reject(new Error(`floor shard ${files[i]} exited ${code}`))));
  });
const worker = async () => {
  while (next < files.length) await one(next++);
};
Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker)).then(() => process.stdout.write(`[${outputs.join(",")}]`));
