/**
 * What the host's postforge-mailops (its intake, apply, and monitoring halves) does with its state files
 * and its log: one copy, so every half writes the same way.
 */
import * as fs from "node:fs";

/** A line on stderr, which cron mails and pipe(8) logs. */
export function log(message: string): void {
  process.stderr.write(`postforge-mailops: ${message}\n`);
}

/** A JSON file's value, or the fallback when it is missing or does not parse. */
export function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return fallback;
  }
}

/** A file written whole under a temporary name, then renamed: a reader never sees half of it. */
export function writeAtomically(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
