/**
 * `npm run bench:bounces`: classification throughput. Two corpora, both from
 * the real samples in test/fixtures/bounces/sisimai/:
 *
 * - 10,000 Postfix log lines (BENCH_LOG_LINES): delivery lines whose
 *   replies are the corpus's real remote texts (sent, deferred and bounced
 *   mixed as a sending day mixes them), between the qmgr and smtpd lines a
 *   real log has; read by parseDeliveryLog, every result judged.
 * - 1,000 DSNs (BENCH_DSNS): the 187 samples in turn; each parsed and every
 *   recipient judged.
 *
 * Each against a floor in the same run, interleaved rounds, medians: the log
 * floor reads each delivery line's recipient, dsn, status and reply with one
 * pattern, nothing judged; the DSN floor finds each message's Status: fields
 * with one pattern, no MIME, no judging. Sisimai
 * (Debian's libsisimai-perl), the reference classifier, runs on the same
 * DSN files for scale, a process of its own. Exits 1 if Postforge reads
 * DSNs slower than Sisimai.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classifyBounce } from "../components/sending/bounce-class";
import { parseDeliveryLog } from "../components/sending/delivery-log";
import { parseBounce } from "../components/sending/dsn";
import { median } from "./stats";

const CORPUS = path.join(__dirname, "..", "test", "fixtures", "bounces", "sisimai");
const LOG_LINES = Number(process.env.BENCH_LOG_LINES ?? 10_000);
const DSNS = Number(process.env.BENCH_DSNS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const samples = fs.readdirSync(CORPUS).filter((f) => f.endsWith(".eml")).sort().map((f) => fs.readFileSync(path.join(CORPUS, f), "latin1"));

/** The corpus's real remote replies, one per recipient it reads, and their status codes. */
const replies = samples.flatMap((raw) => parseBounce(raw)?.recipients ?? []).filter((r) => r.diagnostic && r.status);

function logCorpus(lines: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    const id = (0x100000000 + i).toString(16).toUpperCase();
    const time = `Dec 01 ${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}`;
    out.push(`${time} mail postfix/qmgr[900]: ${id}: from=<noreply@example.com>, size=4821, nrcpt=1 (queue active)`);
    const kind = i % 20;
    if (kind < 14) {
      out.push(`${time} mail postfix/smtp[${1000 + (i % 50)}]: ${id}: to=<user${i}@provider.example>, relay=mx.provider.example[192.0.2.25]:25, delay=0.4, delays=0.01/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 OK ${id})`);
    } else {
      const r = replies[i % replies.length];
      const status = kind < 17 ? "deferred" : "bounced";
      const dsn = status === "deferred" ? r.status!.replace(/^5/, "4") : r.status!;
      out.push(`${time} mail postfix/smtp[${1000 + (i % 50)}]: ${id}: to=<user${i}@provider.example>, relay=mx.provider.example[192.0.2.25]:25, delay=1.2, delays=0.01/0/0.5/0.7, dsn=${dsn}, status=${status} (host mx.provider.example[192.0.2.25] said: ${r.diagnostic} (in reply to RCPT TO command))`);
    }
    out.push(`${time} mail postfix/qmgr[900]: ${id}: removed`);
  }
  return out.slice(0, lines).join("\n");
}

function time(run: () => number): { ms: number; count: number } {
  const start = process.hrtime.bigint();
  const count = run();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, count };
}

function compare(label: string, unit: string, total: number, subject: () => number, floor: () => number): { perSecond: number; floorPerSecond: number } {
  const a: number[] = [];
  const b: number[] = [];
  // Warm both, then interleave, the order swapped every round.
  subject();
  floor();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, list] of (round % 2 === 0 ? [[subject, a], [floor, b]] : [[floor, b], [subject, a]]) as [() => number, number[]][]) list.push(time(side).ms);
  }
  const perSecond = (total / median(a)) * 1000;
  const floorPerSecond = (total / median(b)) * 1000;
  console.log(`  ${label}: ${Math.round(perSecond).toLocaleString("en-US")} ${unit}/s, floor ${Math.round(floorPerSecond).toLocaleString("en-US")} ${unit}/s (${(floorPerSecond / perSecond).toFixed(2)}x the time)`);
  return { perSecond, floorPerSecond };
}

function main(): void {
  console.log(`Bounce classification, median of ${ROUNDS} interleaved rounds (node ${process.version}, ${os.availableParallelism()} cores)`);
  const log = logCorpus(LOG_LINES);
  const dsns = Array.from({ length: DSNS }, (_, i) => samples[i % samples.length]);
  let judged = 0;
  compare(`${LOG_LINES.toLocaleString("en-US")} Postfix log lines`, "lines", LOG_LINES, () => {
    const results = parseDeliveryLog(log);
    judged = results.filter((r) => r.verdict).length;
    return results.length;
  }, () => {
    // The same facts, read bare: recipient, dsn, status and reply of each delivery line, one pattern, nothing judged.
    let n = 0;
    for (const line of log.split("\n")) {
      const m = / to=<([^>]*)>,.* dsn=([^,]+), status=(\w+)(?: \((.*)\))?$/.exec(line);
      if (m && m[1] && m[2] && m[3]) n++;
    }
    return n;
  });
  console.log(`    (${judged.toLocaleString("en-US")} results not delivered, each judged)`);
  const ours = compare(`${DSNS.toLocaleString("en-US")} DSNs`, "messages", DSNS, () => {
    let n = 0;
    for (const raw of dsns) for (const r of parseBounce(raw)?.recipients ?? []) if (classifyBounce(r).kind) n++;
    return n;
  }, () => {
    let n = 0;
    for (const raw of dsns) n += raw.match(/^Status:\s*\d\.\d+\.\d+/gim)?.length ?? 0;
    return n;
  });
  // Sisimai on the same files, once per file as the DSN corpus repeats them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-bounces-"));
  try {
    const files = dsns.map((raw, i) => {
      const file = path.join(dir, `${i}.eml`);
      fs.writeFileSync(file, raw, "latin1");
      return file;
    });
    const started = process.hrtime.bigint();
    execFileSync("perl", [path.join(__dirname, "..", "test", "support", "sisimai.pl"), ...files], { maxBuffer: 1 << 28 });
    const sisimaiPerSecond = (DSNS / (Number(process.hrtime.bigint() - started) / 1e6)) * 1000;
    console.log(`  Sisimai ${execFileSync("perl", ["-MSisimai", "-e", "print $Sisimai::VERSION"], { encoding: "utf8" })} on the same ${DSNS.toLocaleString("en-US")} DSNs: ${Math.round(sisimaiPerSecond).toLocaleString("en-US")} messages/s (one process, start-up included)`);
    if (ours.perSecond < sisimaiPerSecond) {
      console.log("slower than Sisimai");
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
