import * as fs from "node:fs";
import { complaintAuthenticated, FEEDBACK_LOOP_DOMAINS, parseComplaint } from "../../components/sending/arf";
import { parseDeliveryLog, type DeliveryResult } from "../../components/sending/delivery-log";
import { parseBounce } from "../../components/sending/dsn";
import { bounceEvents, complaintEvents, deliveryEvents, messageDate } from "../../components/sending/sending-events";
import { PLAIN_ADDRESS } from "../../components/mta-host/suppression-address";
import { decideSuppressions, type SendingEvent, type SuppressionDecision } from "../../components/sending/suppression-policy";
import { FlagProblems, parseCommandLine } from "../flag-check";
import type { Io } from "../postforge";
import { BOUNCES_USAGE } from "../usage";

/**
 * `postforge bounces`: the sending-operations readers over files an
 * operator has (the host's Postfix log, saved bounces and complaint
 * reports): every result judged, and the suppressions they call for, as the
 * host tool's commands. Reads files only; changes nothing.
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export async function bouncesCommand(args: string[], io: Io): Promise<number> {
  const values = parseCommandLine(
    args,
    {
      log: { type: "string", multiple: true },
      dsn: { type: "string", multiple: true },
      arf: { type: "string", multiple: true },
      "authserv-id": { type: "string" },
      reporter: { type: "string", multiple: true },
      year: { type: "string" },
      json: { type: "boolean" },
    },
    `Usage:\n${BOUNCES_USAGE}`,
  );
  const problems = new FlagProblems();
  const logs = (values.log as string[] | undefined) ?? [];
  const dsns = (values.dsn as string[] | undefined) ?? [];
  const arfs = (values.arf as string[] | undefined) ?? [];
  if (logs.length + dsns.length + arfs.length === 0) problems.add(["--log"], undefined, "give at least one file to read: --log /var/log/postfix.log, --dsn FILE or --arf FILE");
  const year = values.year as string | undefined;
  if (year !== undefined && !/^\d{4}$/.test(year)) problems.add(["--year"], year, "must be a year such as 2026");
  if (arfs.length > 0 && values["authserv-id"] === undefined) problems.add(["--authserv-id"], undefined, "is required with --arf: the host name whose Authentication-Results to trust, such as mail.example.com");
  const read = (flag: string, file: string, i: number) => {
    try {
      return fs.readFileSync(file, "latin1");
    } catch (error) {
      problems.add([flag, i], file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return "";
    }
  };
  /**
   * The messages a --dsn or --arf names: a file, or a directory of them (a Maildir: its new/ and cur/,
   * such as the fbl@ mailbox's on the host), each message one file.
   */
  const messages = (flag: string, given: string[]) =>
    given.flatMap((path, i) => {
      let files = [path];
      try {
        if (fs.statSync(path).isDirectory()) {
          const dirs = ["new", "cur"].map((d) => `${path}/${d}`).filter((d) => fs.existsSync(d));
          files = (dirs.length > 0 ? dirs : [path]).flatMap((d) => fs.readdirSync(d).filter((f) => !f.startsWith(".")).sort().map((f) => `${d}/${f}`)).filter((f) => fs.statSync(f).isFile());
        }
      } catch {
        // read() below names the path that cannot be read.
      }
      return files.map((file) => ({ file, text: read(flag, file, i) }));
    });
  const logTexts = logs.map((f, i) => read("--log", f, i));
  const dsnMessages = messages("--dsn", dsns);
  const arfMessages = messages("--arf", arfs);
  problems.throwIfAny();

  const today = new Date().toISOString().slice(0, 10);
  const thisYear = Number(year ?? today.slice(0, 4));
  // Syslog dates carry no year: a December line read in January is last year's, not a future day.
  const dateOf = (time: string): string | undefined => {
    const iso = /^\d{4}-\d{2}-\d{2}/.exec(time)?.[0];
    if (iso) return iso;
    const m = /^([A-Z][a-z]{2})\s+(\d{1,2})\b/.exec(time);
    if (!m || !MONTHS.includes(m[1])) return undefined;
    const date = (y: number) => `${y}-${String(MONTHS.indexOf(m[1]) + 1).padStart(2, "0")}-${m[2].padStart(2, "0")}`;
    return year === undefined && date(thisYear) > today ? date(thisYear - 1) : date(thisYear);
  };
  const results: DeliveryResult[] = logTexts.flatMap((text) => parseDeliveryLog(text));
  const events: SendingEvent[] = deliveryEvents(results, (r) => dateOf(r.time));
  const bounces = dsnMessages.map(({ file, text }) => ({ file, parsed: parseBounce(text), date: messageDate(text, today) }));
  for (const b of bounces) events.push(...bounceEvents(b.parsed, b.date));
  const reporters = [...FEEDBACK_LOOP_DOMAINS, ...((values.reporter as string[] | undefined) ?? []).map((d) => d.toLowerCase())];
  const complaints = arfMessages.map(({ file, text }) => ({ file, report: parseComplaint(text), authenticated: complaintAuthenticated(text, String(values["authserv-id"]), reporters), date: messageDate(text, today) }));
  for (const c of complaints) events.push(...complaintEvents(c.report, c.authenticated, c.date));
  const outcome = decideSuppressions(events);
  const notDelivered = results.filter((r) => r.verdict);
  if (values.json) {
    io.stdout(`${JSON.stringify({ deliveries: results, bounces, complaints: complaints.map(({ file, report, authenticated }) => ({ file, report, authenticated })), ...outcome }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `Delivery log: ${results.length} results, ${results.filter((r) => r.status === "sent").length} delivered, ${notDelivered.filter((r) => r.verdict!.kind === "hard").length} hard and ${notDelivered.filter((r) => r.verdict!.kind === "soft").length} soft`,
    ...notDelivered.map((r) => `  ${r.time}  ${r.recipient}  ${r.status} ${r.dsn}  ${r.verdict!.kind} ${r.verdict!.reason}  ${r.text}`),
    `Bounce messages: ${bounces.length} (${bounces.filter((b) => !b.parsed).length} not read as bounces)`,
    `Complaints: ${complaints.length} (${outcome.forgedComplaints} recipients in reports that did not authenticate: counted, not acted on)`,
    ...suppressionLines(outcome.suppress),
  ];
  io.stdout(`${lines.join("\n")}\n`);
  return 0;
}


/**
 * The suppressions as one `postforge-suppress import` of JSON lines (with the dates decided), fed by a
 * quoted here-document: nothing in it is read by the shell, whatever a bounce's sender put in the text.
 * A recipient that is no plain address is named apart, never in a command.
 */
function suppressionLines(decisions: SuppressionDecision[]): string[] {
  const plain = decisions.filter((d) => PLAIN_ADDRESS.test(d.recipient));
  const odd = decisions.filter((d) => !PLAIN_ADDRESS.test(d.recipient));
  const lines = plain.length === 0 ? ["Nothing to suppress."] : [`To suppress (${plain.length}), on the host:`, "  postforge-suppress import <<'POSTFORGE_EOF'"];
  for (const d of plain) lines.push(`  ${JSON.stringify({ address: d.recipient, reason: d.reason, since: d.since, detail: d.detail.replace(/[^\x20-\x7e]/g, " ") })}`);
  if (plain.length > 0) lines.push("  POSTFORGE_EOF");
  if (odd.length > 0) lines.push(`Not plain addresses, left out (${odd.length}): ${odd.map((d) => JSON.stringify(d.recipient)).join(", ")}`);
  return lines;
}
