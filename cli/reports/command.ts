import * as fs from "node:fs";
import * as path from "node:path";
import { unpackReport } from "../../components/reports/archive";
import { ReportRefused, type AggregateReport } from "../../components/reports/dmarc-aggregate";
import { parseReportText, readReportMail, reportIdentity } from "../../components/reports/report-mail";
import { summarizeAggregate, summarizeTls, withReverseNames, type DomainDay, type ReverseNames, type TlsDomainDay } from "../../components/reports/summary";
import { createDnsLookup, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, isResolverAddress } from "../verify/dns";
import type { TlsReport } from "../../components/reports/tls-rpt";
import { addressInRanges } from "../../components/address-ranges";
import type { FailureReport } from "../../components/reports/failure";
import { FlagProblems, parseCommandLine } from "../flag-check";
import type { Io } from "../postforge";
import { table } from "../text-table";
import { REPORTS_USAGE } from "../usage";

/**
 * `postforge reports`: DMARC aggregate and SMTP TLS reports, read from the
 * role mailboxes' Maildirs (each message judged: authenticated on arrival,
 * about one of our domains; the rest set apart with the reason) or from
 * report files an operator vouches for, and summed per domain and day.
 * Reads files only.
 */
export async function reportsCommand(args: string[], io: Io): Promise<number> {
  const values = parseCommandLine(
    args,
    {
      maildir: { type: "string", multiple: true },
      file: { type: "string", multiple: true },
      "authserv-id": { type: "string" },
      domain: { type: "string", multiple: true },
      "our-source": { type: "string", multiple: true },
      resolver: { type: "string" },
      "no-ptr": { type: "boolean" },
      "ours-from-spf": { type: "boolean" },
      json: { type: "boolean" },
    },
    `Usage:\n${REPORTS_USAGE}`,
  );
  const problems = new FlagProblems();
  const maildirs = (values.maildir as string[] | undefined) ?? [];
  const files = (values.file as string[] | undefined) ?? [];
  const domains = ((values.domain as string[] | undefined) ?? []).map((d) => d.toLowerCase());
  const authservId = values["authserv-id"] as string | undefined;
  const resolver = values.resolver as string | undefined;
  if (resolver !== undefined && !isResolverAddress(resolver)) {
    problems.add(["--resolver"], resolver, "must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53 (host names cannot be used)");
  }
  if (maildirs.length + files.length === 0) problems.add(["--maildir"], undefined, "give the mailboxes or files to read: --maildir /var/mail/vhosts/example.com/dmarc-rua/Maildir, or --file REPORT.xml.gz");
  if (maildirs.length > 0 && !authservId) problems.add(["--authserv-id"], undefined, "is required with --maildir: the host name whose Authentication-Results to trust, such as mail.example.com");
  if (maildirs.length > 0 && domains.length === 0) problems.add(["--domain"], undefined, "is required with --maildir: the domains whose reports count, such as --domain example.com");
  // Listed now, read one at a time after the flags are checked: a mailbox is never held whole in memory.
  const messages: string[] = [];
  maildirs.forEach((dir, i) => {
    const subdirs = ["new", "cur"].map((d) => path.join(dir, d)).filter((d) => fs.existsSync(d));
    if (subdirs.length === 0) return problems.add(["--maildir", i], dir, "is no Maildir (no new/ or cur/ in it)");
    // A message is known by its name's unique part: one moved from new/ to cur/ while listing is read once; one gone meanwhile, not at all.
    const seen = new Set<string>();
    for (const sub of subdirs)
      for (const f of fs.readdirSync(sub).filter((n) => !n.startsWith(".")).sort()) {
        if (seen.has(f.split(":")[0])) continue;
        seen.add(f.split(":")[0]);
        messages.push(path.join(sub, f));
      }
  });
  const given: { file: string; bytes: Buffer }[] = [];
  files.forEach((file, i) => {
    try {
      given.push({ file, bytes: fs.readFileSync(file) });
    } catch (error) {
      problems.add(["--file", i], file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  });
  problems.throwIfAny();

  const aggregate: AggregateReport[] = [];
  const tls: TlsReport[] = [];
  const failures: FailureReport[] = [];
  const setApart: { file: string; reason: string }[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const file of messages) {
    const raw = readMaildirMessage(file);
    if (raw === undefined) continue;
    const mail = readReportMail(raw, { authservId: authservId!, domains });
    for (const u of mail.unreadable) unreadable.push({ file: `${file} (${u.part})`, reason: u.reason });
    if (mail.setApart) {
      setApart.push({ file, reason: mail.setApart });
      continue;
    }
    for (const r of mail.reports) (r.kind === "aggregate" ? aggregate : r.kind === "tls" ? tls : failures).push(r.report as never);
  }
  for (const g of given) {
    try {
      const read = parseReportText(unpackReport(g.bytes).text);
      if (read.kind === "tls") tls.push(read.report);
      else aggregate.push(read.report);
    } catch (error) {
      if (!(error instanceof ReportRefused)) throw error;
      unreadable.push({ file: g.file, reason: error.message });
    }
  }
  // The same report twice (resent, sent to two of our mailboxes, or given both ways) counts once: by reporter and report id.
  const once = <T extends { orgName: string; reportId: string; reporter?: string }>(list: T[]): T[] => {
    const ids = new Set<string>();
    return list.filter((r) => {
      const id = reportIdentity(r);
      if (ids.has(id)) return false;
      ids.add(id);
      return true;
    });
  };
  const aggregateOnce = once(aggregate);
  const tlsOnce = once(tls);
  const ourSources = (values["our-source"] as string[] | undefined) ?? [];
  const summed = summarizeAggregate(aggregateOnce, values["ours-from-spf"] ? await oursBySpf(aggregateOnce, ourSources, resolver) : ourSources);
  const dmarc = values["no-ptr"] ? summed : withReverseNames(summed, await reverseNames(summed, resolver));
  const summary: ReportsSummary = { dmarc, tls: summarizeTls(tlsOnce), failures, setApart, unreadable };
  if (values.json) {
    io.stdout(reportsSummaryJson(summary));
    return 0;
  }
  io.stdout(renderReportsTable(summary.dmarc, summary.tls, setApart, unreadable, aggregateOnce.length, tlsOnce.length, failures));
  return 0;
}

/** What `postforge reports --json` prints, and `plan`, `diff` and `report --reports` read. */
export interface ReportsSummary {
  dmarc: DomainDay[];
  tls: TlsDomainDay[];
  failures: FailureReport[];
  setApart: { file: string; reason: string }[];
  unreadable: { file: string; reason: string }[];
}

/** The summary as `--json` prints it. */
export function reportsSummaryJson(summary: ReportsSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/**
 * A listed Maildir message, or undefined when it is gone: one a mail reader
 * moved from new/ to cur/ since the listing is read under its new name
 * (same unique part, flags after ":"); one expunged, not at all.
 */
function readMaildirMessage(file: string): string | undefined {
  const read = (candidate: string): string | undefined => {
    try {
      return fs.readFileSync(candidate, "latin1");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return undefined;
    }
  };
  const text = read(file);
  if (text !== undefined || path.basename(path.dirname(file)) !== "new") return text;
  // Only for a message gone from new/: where did it move?
  const cur = path.join(path.dirname(path.dirname(file)), "cur");
  const unique = path.basename(file).split(":")[0];
  const moved = fs.existsSync(cur) ? fs.readdirSync(cur).find((n) => n.split(":")[0] === unique) : undefined;
  return moved === undefined ? undefined : read(path.join(cur, moved));
}

/**
 * --ours-from-spf: a source is ours when it is in --our-source or the From
 * domain's published SPF record authorizes it (check_host over live DNS:
 * the hosts it names, the includes it declares). Each address and domain is
 * evaluated once; DNS answers are shared.
 */
async function oursBySpf(reports: readonly AggregateReport[], ranges: readonly string[], server: string | undefined): Promise<(ip: string, domain: string) => boolean> {
  const { evaluateSpf } = require("../verify/spf-eval") as typeof import("../verify/spf-eval");
  const dns = createDnsLookup({ ...(server ? { server } : {}), timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY });
  // Addresses already ours by range need no SPF evaluation.
  const pairs = [...new Set(reports.flatMap((r) => r.records.filter((x) => !addressInRanges(x.sourceIp, ranges)).map((x) => `${x.headerFrom}\u0000${x.sourceIp}`)))];
  const authorized = new Set<string>();
  await Promise.all(
    pairs.map(async (pair) => {
      const [domain, ip] = pair.split("\u0000");
      if ((await evaluateSpf(ip, domain, dns)).result === "pass") authorized.add(pair);
    }),
  );
  return (ip, domain) => addressInRanges(ip, ranges) || authorized.has(`${domain}\u0000${ip}`);
}

/** Each source's PTR names through `server` (the system's resolvers when absent): no PTR is [], a failed lookup says why. */
async function reverseNames(days: readonly DomainDay[], server: string | undefined): Promise<Map<string, ReverseNames>> {
  const dns = createDnsLookup({ ...(server ? { server } : {}), timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY });
  const addresses = [...new Set(days.flatMap((d) => d.sources.map((s) => s.sourceIp)))];
  const answers = await Promise.all(
    addresses.map(async (ip): Promise<[string, ReverseNames]> => {
      const answer = await dns.ptr(ip);
      if (answer.ok) return [ip, { names: answer.value }];
      return [ip, answer.failure === "nxdomain" || answer.failure === "nodata" ? { names: [] } : { unknown: answer.message }];
    }),
  );
  return new Map(answers);
}

function renderReportsTable(dmarc: DomainDay[], tls: TlsDomainDay[], setApart: { file: string; reason: string }[], unreadable: { file: string; reason: string }[], aggregateCount: number, tlsCount: number, failures: FailureReport[] = []): string {
  const lines = [`DMARC aggregate reports: ${aggregateCount}; SMTP TLS reports: ${tlsCount}; failure reports: ${failures.length}; set apart: ${setApart.length}; unreadable: ${unreadable.length}`];
  for (const d of dmarc) {
    const share = d.messages === 0 ? "-" : `${((d.dmarcPass / d.messages) * 100).toFixed(1)}%`;
    lines.push(
      "",
      `${d.domain} on ${d.day}: ${d.messages} messages, ${share} passed DMARC${d.oursAligned !== undefined ? `; ours ${d.oursAligned}% aligned` : ""}; unknown sources ${d.unknownMessages} (${d.unknownDelivered} let through)`,
      ...table(["SOURCE", "PTR", "OURS", "MESSAGES", "DMARC PASS", "DKIM ALIGNED", "SPF ALIGNED", "DISPOSITIONS", "REPORTERS"], [
        ...d.sources.map((s) => [
          s.sourceIp,
          // "-": none published; "?": not known (the lookup failed); blank: not looked up (--no-ptr).
          s.ptr ? (s.ptr.length > 0 ? s.ptr.join(", ") : "-") : s.ptrUnknown !== undefined ? "?" : "",
          s.ours ? "yes" : "no",
          String(s.messages),
          String(s.dmarcPass),
          String(s.dkimAligned),
          String(s.spfAligned),
          Object.entries(s.dispositions).map(([k, v]) => `${k} ${v}`).join(", "),
          s.reporters.join(", "),
        ]),
      ]).map((l) => `  ${l}`),
    );
  }
  for (const t of tls) {
    lines.push("", `${t.domain} on ${t.day} (TLS, ${t.policyTypes.join(", ")}): ${t.successful} sessions succeeded, ${t.failed} failed`);
    if (t.failures.length > 0) lines.push(...table(["FAILURE", "RECEIVING MX", "SESSIONS", "REPORTERS"], [...t.failures.map((f) => [f.resultType, f.receivingMx, String(f.sessions), f.reporters.join(", ")])]).map((l) => `  ${l}`));
  }
  if (failures.length > 0) {
    lines.push(
      "",
      "DMARC failure reports (one message each):",
      ...table(["DOMAIN", "SOURCE", "FAILED", "RESULT", "ARRIVED", "SUBJECT"], [
        ...failures.map((f) => [f.reportedDomain ?? "?", f.sourceIp ?? "?", f.authFailure.join(",") || "-", f.deliveryResult ?? "-", f.arrivalDate ?? "-", (f.subject ?? "").slice(0, 60)]),
      ]).map((l) => `  ${l}`),
    );
  }
  if (setApart.length > 0) lines.push("", "Set apart (not counted):", ...setApart.map((s) => `  ${s.file}: ${s.reason}`));
  if (unreadable.length > 0) lines.push("", "Unreadable:", ...unreadable.map((u) => `  ${u.file}: ${u.reason}`));
  return `${lines.join("\n")}\n`;
}
