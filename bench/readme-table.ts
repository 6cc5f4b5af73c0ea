/** The README's benchmark tables, rewritten between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` by the benches. */
import * as fs from "node:fs";
import type { Comparison } from "./measure";

export interface BenchRow extends Comparison {
  label: string;
}

export function renderTable(rows: BenchRow[], note: string): string {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const lines = [
    "| case | wall | floor | ratio | CPU | floor | ratio | peak RSS | floor | ratio |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ...rows.map(({ label, subject: s, floor: f }) =>
      [
        label,
        `${(s.wallMs / 1000).toFixed(2)} s`,
        `${(f.wallMs / 1000).toFixed(2)} s`,
        ratio(s.wallMs, f.wallMs),
        `${(s.cpuMs / 1000).toFixed(2)} s`,
        `${(f.cpuMs / 1000).toFixed(2)} s`,
        ratio(s.cpuMs, f.cpuMs),
        `${s.peakRssMiB.toFixed(0)} MiB`,
        `${f.peakRssMiB.toFixed(0)} MiB`,
        ratio(s.peakRssMiB, f.peakRssMiB),
      ].join(" | "),
    ).map((l) => `| ${l} |`),
    "",
    `Measured ${new Date().toISOString().slice(0, 10)}: ${note}.`,
  ];
  return lines.join("\n");
}

/** Replace the table between the markers named `name`; the markers must be there. */
export function updateReadmeTable(readme: string, name: string, rows: BenchRow[], note: string): void {
  const text = fs.readFileSync(readme, "utf8");
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${readme} has no ${start} ... ${end} block for the table`);
  fs.writeFileSync(readme, `${text.slice(0, i + start.length)}\n${renderTable(rows, note)}\n${text.slice(j)}`);
}
