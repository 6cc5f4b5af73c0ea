import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { complaintAuthenticated, parseComplaint } from "../../components/sending/arf";
import { classifyBounce } from "../../components/sending/bounce-class";
import { parseDeliveryLog, type DeliveryResult } from "../../components/sending/delivery-log";
import { parseBounce } from "../../components/sending/dsn";
import { decideSuppressions, type SendingEvent } from "../../components/sending/suppression-policy";
import { ValidationError } from "../../components/validation-error";
import { FlagProblems } from "../flag-check";
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
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { log: { type: "string", multiple: true }, dsn: { type: "string", multiple: true }, arf: { type: "string", multiple: true }, "authserv-id": { type: "string" }, year: { type: "string" }, json: { type: "boolean" } },
    }).values;
  } catch (error) {
    throw new ValidationError("command line", [`${(error as Error).message}\n\nUsage:\n${BOUNCES_USAGE}`]);
  }
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
  const logTexts = logs.map((f, i) => read("--log", f, i));
  const dsnTexts = dsns.map((f, i) => read("--dsn", f, i));
  const arfTexts = arfs.map((f, i) => read("--arf", f, i));
  problems.throwIfAny();

  const thisYear = year ?? new Date().toISOString().slice(0, 4);
  const dateOf = (time: string) => {
    const m = /^([A-Z][a-z]{2})\s+(\d{1,2})/.exec(time) ?? undefined;
    if (m && MONTHS.includes(m[1])) return `${thisYear}-${String(MONTHS.indexOf(m[1]) + 1).padStart(2, "0")}-${m[2].padStart(2, "0")}`;
    return /^\d{4}-\d{2}-\d{2}/.exec(time)?.[0] ?? `${thisYear}-01-01`;
  };
  const results: DeliveryResult[] = logTexts.flatMap((text) => parseDeliveryLog(text));
  const events: SendingEvent[] = [];
  for (const r of results) if (r.verdict) events.push({ kind: "bounce", recipient: r.recipient, date: dateOf(r.time), verdict: r.verdict, detail: `${r.dsn} ${r.text}`.slice(0, 300) });
  const today = new Date().toISOString().slice(0, 10);
  const bounces = dsnTexts.map((text, i) => ({ file: dsns[i], parsed: parseBounce(text) }));
  for (const b of bounces) {
    for (const r of b.parsed?.recipients ?? []) {
      if (r.action === "delivered" || r.action === "relayed" || r.action === "expanded") continue;
      events.push({ kind: "bounce", recipient: r.recipient, date: today, verdict: classifyBounce(r), detail: `${r.status ?? ""} ${r.diagnostic ?? ""}`.trim().slice(0, 300) });
    }
  }
  const complaints = arfTexts.map((text, i) => ({ file: arfs[i], report: parseComplaint(text), authenticated: complaintAuthenticated(text, String(values["authserv-id"])) }));
  for (const c of complaints) {
    for (const recipient of c.report?.recipients ?? []) {
      events.push({ kind: "complaint", recipient, date: today, authenticated: c.authenticated, detail: `${c.report!.feedbackType} report from ${c.report!.userAgent ?? "a feedback loop"}` });
    }
  }
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
    outcome.suppress.length === 0 ? "Nothing to suppress." : `To suppress (${outcome.suppress.length}), on the host:`,
    ...outcome.suppress.map((d) => `  postforge-suppress add ${d.recipient} ${d.reason} ${shellQuote(d.detail)}`),
  ];
  io.stdout(`${lines.join("\n")}\n`);
  return 0;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}
