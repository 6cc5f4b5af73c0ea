// The floor of `postforge diff`: two plan files read, every record keyed by zone, name, type and
// value, and the added and removed ones printed as Markdown table rows. No meaning, no checks.
"use strict";
const fs = require("node:fs");

const [baseFile, headFile] = process.argv.slice(2);
const keys = (file) => {
  const set = new Set();
  for (const d of JSON.parse(fs.readFileSync(file, "utf8")).domains) for (const r of d.records) set.add(`${d.domain}\t${r.name}\t${r.type}\t${r.value}`);
  return set;
};
const [base, head] = [keys(baseFile), keys(headFile)];
const rows = [];
for (const k of base) if (!head.has(k)) rows.push(`| removed | ${k.split("\t").join(" | ")} |`);
for (const k of head) if (!base.has(k)) rows.push(`| added | ${k.split("\t").join(" | ")} |`);
process.stdout.write(`| change | zone | name | type | value |\n|---|---|---|---|---|\n${rows.join("\n")}\n`);
