/**
 * `npm run bench:reports`: DMARC aggregate reports read per second, on a
 * corpus of 1,000 (BENCH_REPORTS) made from the real samples in
 * test/fixtures/reports/parsedmarc/: each sample in turn, its rows repeated
 * to a size drawn from what receivers send (1 to 200 rows: most reports
 * are small, Google's and Microsoft's daily ones run to hundreds), half of
 * them gzip-packed as they arrive.
 *
 * Against a floor in the same run, interleaved rounds, medians: the floor
 * unpacks the same bytes and finds every element's name with one pattern
 * (what any XML reader must at least do), nothing built, nothing checked.
 * Peak memory: the largest RSS seen while reading. Exits 1 if reading is
 * slower than 1,000 reports a second.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseAggregateReport, unpackReport } from "../components/reports";
import { median } from "./stats";

const CORPUS = path.join(__dirname, "..", "test", "fixtures", "reports", "parsedmarc");
const REPORTS = Number(process.env.BENCH_REPORTS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const samples = fs
  .readdirSync(CORPUS)
  .filter((f) => /\.xml(\.gz|\.zip)?$/.test(f))
  .sort()
  .map((f) => unpackReport(fs.readFileSync(path.join(CORPUS, f))).text)
  .filter((text) => {
    try {
      return parseAggregateReport(text).records.length > 0;
    } catch {
      return false;
    }
  });

/** A deterministic spread of sizes: mostly a few rows, a long tail to 200. */
function rowsFor(i: number): number {
  const u = ((i * 2654435761) % 1000) / 1000;
  return Math.max(1, Math.round(200 * u ** 4));
}

function corpus(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const text = samples[i % samples.length];
    const start = text.indexOf("<record>");
    const end = text.lastIndexOf("</record>") + "</record>".length;
    const records = text.slice(start, end);
    const grown = text.slice(0, start) + Array.from({ length: rowsFor(i) }, () => records).join("\n") + text.slice(end);
    return i % 2 === 0 ? gzipSync(grown) : Buffer.from(grown);
  });
}

function floor(files: Buffer[]): number {
  let names = 0;
  for (const bytes of files) {
    const text = (bytes[0] === 0x1f ? gunzipSync(bytes) : bytes).toString("utf8");
    for (const _ of text.matchAll(/<\/?([A-Za-z_][\w.:-]*)/g)) names++;
  }
  return names;
}

function postforge(files: Buffer[]): number {
  let rows = 0;
  for (const bytes of files) rows += parseAggregateReport(unpackReport(bytes).text).records.length;
  return rows;
}

function main(): number {
  const files = corpus(REPORTS);
  const megabytes = files.reduce((n, b) => n + (b[0] === 0x1f ? gunzipSync(b).length : b.length), 0) / 2 ** 20;
  const rows = postforge(files);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const ours: number[] = [];
  const base: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [run, into] of (round % 2 === 0 ? [[postforge, ours], [floor, base]] : [[floor, base], [postforge, ours]]) as [(f: Buffer[]) => number, number[]][]) {
      const started = process.hrtime.bigint();
      run(files);
      into.push(Number(process.hrtime.bigint() - started) / 1e6);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  clearInterval(timer);
  const ms = median(ours);
  const floorMs = median(base);
  const rate = REPORTS / (ms / 1000);
  console.log(`${REPORTS} DMARC aggregate reports from ${samples.length} real samples (${rows} rows, ${megabytes.toFixed(1)} MB of XML, half gzip-packed), median of ${ROUNDS} interleaved rounds:`);
  console.log(`  postforge: ${ms.toFixed(0)} ms, ${rate.toFixed(0)} reports/s (${(rows / (ms / 1000)).toFixed(0)} rows/s)`);
  console.log(`  floor (unpack + find every element name): ${floorMs.toFixed(0)} ms; ratio ${(ms / floorMs).toFixed(2)}x`);
  console.log(`  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (corpus held in memory), node ${process.version}`);
  return rate >= 1000 ? 0 : 1;
}

process.exitCode = main();
