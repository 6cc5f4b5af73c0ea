/**
 * postforge-mailops: the mail host's own reader of bounces, complaints and
 * its delivery log, built by `npm run build` into one file for Debian 12's
 * nodejs (dist/host/postforge-mailops.js; shipped in the config manifest as
 * /usr/local/sbin/postforge-mailops). It runs the same readers and the same
 * suppression policy as `postforge bounces`, so what the tests prove of them
 * is what the host does.
 *
 *   postforge-mailops intake-bounce RECIPIENT       pipe(8), as HOST_TOOL_USER: a message to a bounce address on stdin
 *   postforge-mailops intake-complaint AUTHSERV-ID  pipe(8), as HOST_TOOL_USER: a message to the feedback-loop address on stdin
 *   postforge-mailops apply                         cron, root, every minute: new delivery-log lines and intake events
 *                                                   decided, the suppressions added with postforge-suppress import,
 *                                                   the counts kept and published (CloudWatch, Prometheus text)
 *   postforge-mailops publish                       the figures published again (apply does it every minute)
 *   postforge-mailops dnsbl [ADDRESS]               cron, root, daily: the host's address against the blocklists
 *   postforge-mailops summary                       the counts by day, as JSON (for `postforge report`)
 *   postforge-mailops serve-metrics                 the Prometheus exporter (systemd, as HOST_TOOL_USER)
 *
 * Intake only writes what it read as small event files into a spool
 * (unprivileged, never a list it could corrupt); apply, as root, is the
 * only writer of the history and, through postforge-suppress, of the list.
 * Intake never fails a delivery: a message it cannot read is logged and
 * dropped, so a bounce never bounces.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { log, readJson, writeAtomically } from "./host-files";
import { HOST_TOOL_USER, PATHS } from "../mta-host/layout";
import { complaintAuthenticated, FEEDBACK_LOOP_DOMAINS, parseComplaint } from "./arf";
import { parseDeliveryLine, REMOTE_DELIVERY_AGENTS } from "./delivery-log";
import { MAX_BOUNCE_BYTES, parseBounce } from "./dsn";
import { bounceEvents, complaintEvents, deliveryEvents, messageDate } from "./sending-events";
import { PLAIN_ADDRESS } from "../mta-host/suppression-address";
import { decideSuppressions, SOFT_BOUNCE_WINDOW_DAYS, type SendingEvent, type SuppressionDecision } from "./suppression-policy";
import { addDays, todayUtc } from "./warmup-schedule";
import { accountEvents, accountLogLines, accountReports, DAYS_KEPT, pruneAccounting } from "../monitoring/log-accounting";
import { dnsbl, ensurePublishedBaseline, newReportMails, publish, readAccounting, readSettings, saveAccounting, serveMetrics, summary } from "../monitoring/host-monitor";

/** EX_TEMPFAIL: Postfix's pipe(8) retries later (a spool it cannot write is the host's fault, not the message's). */
const TEMPFAIL = 75;

function today(): string {
  return todayUtc(process.env);
}

function readStdin(): string {
  const chunks: Buffer[] = [];
  let size = 0;
  const buffer = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((error as NodeJS.ErrnoException).code === "EOF") break;
      throw error;
    }
    if (n === 0) break;
    // What is past the readers' limit is not read (a DSN's status comes first), only drained.
    if (size < MAX_BOUNCE_BYTES) chunks.push(Buffer.from(buffer.subarray(0, Math.min(n, MAX_BOUNCE_BYTES - size))));
    size += n;
  }
  return Buffer.concat(chunks).toString("latin1");
}

/** One event file in the spool: written whole under a temporary name, then renamed, so apply never reads half of one. */
function spool(events: SendingEvent[], source: string): void {
  if (events.length === 0) return;
  const name = `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const tmp = path.join(PATHS.intakeSpool, `.${name}`);
  fs.writeFileSync(tmp, `${JSON.stringify({ source, events })}\n`, { mode: 0o640 });
  fs.renameSync(tmp, path.join(PATHS.intakeSpool, `${name}.json`));
}

function intakeBounce(recipientArg: string | undefined): number {
  const raw = readStdin();
  const events = bounceEvents(parseBounce(raw), messageDate(raw, today()), recipientArg);
  if (events.length === 0) log(`a message to ${recipientArg ?? "the bounce address"} read as no failed delivery; dropped`);
  spool(events, `bounce to ${recipientArg ?? "?"}`);
  return 0;
}

function intakeComplaint(authservId: string | undefined): number {
  if (!authservId) {
    log("intake-complaint needs the host name whose Authentication-Results to trust");
    return TEMPFAIL;
  }
  const raw = readStdin();
  const events = complaintEvents(parseComplaint(raw), complaintAuthenticated(raw, authservId, FEEDBACK_LOOP_DOMAINS), messageDate(raw, today()));
  spool(events, "complaint");
  return 0;
}

interface LogPosition {
  inode: number;
  offset: number;
}

/** The Postfix log's lines since the last run (a rotated or truncated log is read from its start). */
function newLogLines(): { lines: string[]; position: LogPosition } {
  const saved = readJson<LogPosition>(path.join(PATHS.mailopsState, "log-position.json"), { inode: 0, offset: 0 });
  let stat: fs.Stats;
  try {
    stat = fs.statSync(PATHS.postfixLog);
  } catch {
    return { lines: [], position: saved };
  }
  const from = stat.ino === saved.inode && stat.size >= saved.offset ? saved.offset : 0;
  const fd = fs.openSync(PATHS.postfixLog, "r");
  try {
    const length = stat.size - from;
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, from);
    // Only whole lines: a line still being written is read next time.
    const end = buffer.lastIndexOf(0x0a) + 1;
    return { lines: buffer.subarray(0, end).toString("latin1").split("\n").filter(Boolean), position: { inode: stat.ino, offset: from + end } };
  } finally {
    fs.closeSync(fd);
  }
}

/** New intake events, and the spool files they came from (removed once applied). */
function spooledEvents(): { events: SendingEvent[]; files: string[] } {
  const names = fs.existsSync(PATHS.intakeSpool) ? fs.readdirSync(PATHS.intakeSpool).filter((f) => f.endsWith(".json")).sort() : [];
  const events: SendingEvent[] = [];
  const files: string[] = [];
  for (const name of names) {
    const file = path.join(PATHS.intakeSpool, name);
    files.push(file);
    // The spool is the unprivileged user's: read regular files only, never through a link.
    if (!fs.lstatSync(file).isFile()) continue;
    const parsed = readJson<{ events?: SendingEvent[] }>(file, {});
    for (const e of parsed.events ?? []) if (e && typeof e.recipient === "string" && typeof e.date === "string" && typeof e.kind === "string") events.push({ ...e, recipient: e.recipient.toLowerCase() });
  }
  return { events, files };
}

/** A recipient as the attempted-recipients files keep it: not the address, a 16-hex-digit digest of it. */
function digest(recipient: string): string {
  return createHash("sha256").update(recipient.toLowerCase()).digest("hex").slice(0, 16);
}

/**
 * The recipients the host tried to deliver to (any result) in the suppression window, one file a day:
 * a bounce report counts only for one of them, so nobody can suppress an address by mailing a made-up
 * DSN to its VERP address. Records today's new attempts, drops files older than the window, and returns the reader of the set.
 */
function recordAttempts(date: string, attemptedToday: string[]): () => Set<string> {
  const dir = path.join(PATHS.mailopsState, "attempted");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (attemptedToday.length > 0) fs.appendFileSync(path.join(dir, date), attemptedToday.map((r) => `${digest(r)}\n`).join(""));
  const oldest = addDays(date, -SOFT_BOUNCE_WINDOW_DAYS);
  for (const day of fs.readdirSync(dir)) if (day < oldest) fs.rmSync(path.join(dir, day), { force: true });
  // Read only when a bounce report needs checking: most minutes bring none, and the files hold two weeks of recipients.
  return () => {
    const seen = new Set<string>();
    for (const day of fs.readdirSync(dir)) for (const line of fs.readFileSync(path.join(dir, day), "utf8").split("\n")) if (line) seen.add(line);
    return seen;
  };
}

/**
 * Of a batch, the recipients whose suppression a new event decides: one that decides alone (a hard
 * bounce, an authenticated complaint, an unsubscribe), or a soft bounce that completes the threshold
 * today. A recipient an operator removed stays removed until such an event comes again.
 */
function freshlyDecided(all: readonly SuppressionDecision[], fresh: SendingEvent[]): Set<string> {
  const decided = new Set<string>();
  for (const recipient of new Set(fresh.map((e) => e.recipient))) {
    const mine = fresh.filter((e) => e.recipient === recipient);
    if (mine.some((e) => decideSuppressions([e]).suppress.length > 0)) decided.add(recipient);
    const soft = all.find((d) => d.recipient === recipient && d.reason === "soft-bounces");
    if (soft && mine.some((e) => e.date === soft.since)) decided.add(recipient);
  }
  return decided;
}

function apply(): number {
  fs.mkdirSync(PATHS.mailopsState, { recursive: true, mode: 0o700 });
  // Read first: a host without its monitoring settings fails here, before any state moves.
  const settings = readSettings();
  const accounting = readAccounting();
  const totalsBefore = { ...accounting.totals };
  const date = today();
  const { lines, position } = newLogLines();
  // A log line is judged on the day it is read (within a minute of being written): the tool's clock, not syslog's yearless date.
  // Each line parsed once, for the suppression decisions here and the counts below.
  const deliveries = lines.map(parseDeliveryLine);
  const results = deliveries.filter((r) => r !== undefined).filter((r) => REMOTE_DELIVERY_AGENTS.includes(r.agent));
  const fromLog = deliveryEvents(results, () => date).map((e) => ({ ...e, recipient: e.recipient.toLowerCase() }));
  const attemptedSoFar = recordAttempts(date, results.map((r) => r.recipient));
  const { events: spooled, files } = spooledEvents();
  // A bounce report for a recipient the host never tried is made up (or far too late): counted, not acted on.
  const attempted = spooled.some((e) => e.kind === "bounce") ? attemptedSoFar() : new Set<string>();
  const fromIntake = spooled.filter((e) => e.kind !== "bounce" || attempted.has(digest(e.recipient)));
  const unverified = spooled.length - fromIntake.length;
  if (unverified > 0) log(`${unverified} bounce report(s) about recipients this host did not send to in ${SOFT_BOUNCE_WINDOW_DAYS} days: counted, not acted on`);
  const fresh = [...fromLog, ...fromIntake];

  const historyFile = path.join(PATHS.mailopsState, "events.jsonl");
  const oldest = addDays(date, -SOFT_BOUNCE_WINDOW_DAYS);
  const history = fs.existsSync(historyFile)
    ? fs.readFileSync(historyFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SendingEvent).filter((e) => e.date >= oldest)
    : [];
  // Decided over the window, acted on only where a new event decides (freshlyDecided).
  const outcome = decideSuppressions([...history, ...fresh]);
  const decidedNow = freshlyDecided(outcome.suppress, fresh);
  const candidates = outcome.suppress.filter((d) => decidedNow.has(d.recipient));
  // What the list cannot hold (no plain address: a Postfix table key must be one) is named and left out; it never blocks the rest.
  const decisions = candidates.filter((d) => PLAIN_ADDRESS.test(d.recipient));
  const odd = candidates.filter((d) => !PLAIN_ADDRESS.test(d.recipient));
  if (odd.length > 0) log(`not plain addresses, left off the list: ${odd.map((d) => JSON.stringify(d.recipient)).join(", ")}`);
  if (decisions.length > 0) {
    const input = decisions.map((d) => JSON.stringify({ address: d.recipient, reason: d.reason, since: d.since, detail: d.detail })).join("\n") + "\n";
    const done = spawnSync(PATHS.suppressTool, ["import"], { input, encoding: "utf8" });
    if (done.status !== 0) {
      // Nothing is marked done: the same events are decided again next minute.
      log(`postforge-suppress import failed (${done.status}): ${(done.stderr || done.stdout).trim()}`);
      return 1;
    }
    log(`suppressed ${decisions.map((d) => `${d.recipient} (${d.reason})`).join(", ")}`);
  }
  const forged = fresh.filter((e) => e.kind === "complaint" && !e.authenticated).length;
  if (forged > 0) log(`${forged} complaint(s) that did not authenticate on arrival: counted, not acted on`);
  writeAtomically(historyFile, [...history, ...fresh].map((e) => JSON.stringify(e)).join("\n") + (history.length + fresh.length > 0 ? "\n" : ""));
  const counts = readJson<Record<string, number>>(path.join(PATHS.mailopsState, "counts.json"), {});
  counts.forgedComplaints = (counts.forgedComplaints ?? 0) + forged;
  counts.unverifiedBounces = (counts.unverifiedBounces ?? 0) + unverified;
  writeAtomically(path.join(PATHS.mailopsState, "counts.json"), JSON.stringify(counts));
  // The monitoring counts (pure, in memory until here), saved just before the log position and the spool's removal:
  // a run that fails before them counts its lines and events again next time, once.
  const context = { domains: settings.domains, extraDomains: settings.extraDomains };
  accountLogLines(accounting, lines, date, context, deliveries);
  accountEvents(accounting, fresh, unverified, date, context);
  // Receivers' reports new in the role mailboxes, counted beside the host's own figures.
  accountReports(accounting, newReportMails(settings, accounting), date);
  pruneAccounting(accounting, addDays(date, -DAYS_KEPT));
  saveAccounting(accounting);
  ensurePublishedBaseline(totalsBefore);
  writeAtomically(path.join(PATHS.mailopsState, "log-position.json"), JSON.stringify(position));
  for (const file of files) fs.rmSync(file, { force: true });
  return 0;
}


/** Where apply and publish take turns: two at once would read the same log position and publish the same growth. */
const LOCK = PATHS.mailopsLock;

/**
 * Runs apply or publish under flock(1) (util-linux, in every Debian image), waiting up to a minute for the
 * run before it (cron's next minute, or an operator's publish), so none overlaps another.
 */
function locked(argv: string[]): number | undefined {
  if (process.env.POSTFORGE_MAILOPS_LOCKED === "1") return undefined;
  const done = spawnSync("flock", ["-w", "60", LOCK, process.execPath, process.argv[1], ...argv], { stdio: "inherit", env: { ...process.env, POSTFORGE_MAILOPS_LOCKED: "1" } });
  if (done.error) {
    log(`flock ${LOCK} could not run (${done.error.message}); running unlocked`);
    return undefined;
  }
  return done.status ?? 1;
}

export function main(argv: string[]): number {
  const [command, arg] = argv;
  if (command === "apply" || command === "publish") {
    const status = locked(argv);
    if (status !== undefined) return status;
  }
  try {
    if (command === "intake-bounce") return intakeBounce(arg);
    if (command === "intake-complaint") return intakeComplaint(arg);
    if (command === "apply") {
      // The figures are published every minute, whatever apply decided: a failing apply is itself worth seeing.
      const applied = apply();
      return Math.max(applied, publish(Date.now(), today()));
    }
    if (command === "publish") return publish(Date.now(), today());
    if (command === "dnsbl") return dnsbl(arg);
    if (command === "summary") {
      process.stdout.write(`${JSON.stringify(summary(), null, 1)}\n`);
      return 0;
    }
    if (command === "serve-metrics") {
      void serveMetrics();
      return 0;
    }
  } catch (error) {
    log(`${command} failed: ${(error as Error).message}`);
    return command === "apply" ? 1 : TEMPFAIL;
  }
  log(`usage: postforge-mailops intake-bounce RECIPIENT | intake-complaint AUTHSERV-ID | apply | publish | dnsbl [ADDRESS] | summary | serve-metrics (intake runs as ${HOST_TOOL_USER} under Postfix, apply, publish and dnsbl as root, serve-metrics as ${HOST_TOOL_USER})`);
  return 2;
}
