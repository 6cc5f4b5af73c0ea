import { parseDeliveryLine, REMOTE_DELIVERY_AGENTS, type DeliveryResult } from "../sending/delivery-log";
import { receiverGroupOf, type ReceiverGroup } from "../sending/receiver-groups";
import type { SendingEvent } from "../sending/suppression-policy";
import { passedDmarc } from "../reports/dmarc-aggregate";
import { reportIdentity, type ReportMail } from "../reports/report-mail";
import type { DimensionName, MetricName } from "./metrics";

/**
 * The host's counts, from what Postfix logs and the intake reads: pure (lines
 * and events in, counts out), so the host's postforge-mailops and the tests
 * run the same code. Counts are kept at their finest labels (a delivery by
 * sending domain and receiver group); the rollups each metric is published
 * with are sums over them (./publish.ts).
 */

/** One count's labels: the dimensions below Host. */
export type Labels = Partial<Record<Exclude<DimensionName, "Host">, string>>;

/** What the counts are about: the host's own sending domains (a sender outside them is not the host's mail). */
export interface AccountingContext {
  domains: readonly string[];
  /** mailHost.warmup.extraDomains: receivers' other domains, placed in their groups. */
  extraDomains?: Partial<Record<ReceiverGroup, readonly string[]>>;
}

/** The state kept between runs (one JSON file on the host). */
export interface AccountingState {
  /** Cumulative counts since the host began, by `countKey`. */
  totals: Record<string, number>;
  /** Each day's counts (UTC), by `countKey`: the report's table and the rates' window. */
  days: Record<string, Record<string, number>>;
  /** Queue IDs that came in through submission, not yet seen by the queue manager. */
  submitting: Record<string, true>;
  /** Queue IDs of the host's mail in the queue, with the sending domain their deliveries count for. */
  queued: Record<string, string>;
  /** Queue IDs in the queue that are not the applications' mail (inbound, the host's own notices): their results are not counted. */
  foreign: Record<string, true>;
  /**
   * Recipients of the host's queued mail whose last result was a deferral, with their receiver group:
   * when Postfix gives the message up (one `status=expired` line for the message, none per recipient), they are its soft bounces.
   */
  pending: Record<string, Record<string, string>>;
  /** Report messages already counted, by Maildir file name (its unique part, before any ":2," flags). */
  reportsSeen: Record<string, true>;
  /** Reports already counted, by reporter and report id, with the day: a report resent, or sent to two of our mailboxes, counts once. */
  reportIds?: Record<string, string>;
  /** The Maildirs whose reports at their first look were taken as seen: an upgraded host, or a mailbox added with a domain, does not count its archive as today's. */
  reportsBaselinedMaildirs?: string[];
}

/** A new host's state. */
export function emptyAccounting(): AccountingState {
  return { totals: {}, days: {}, submitting: {}, queued: {}, foreign: {}, pending: {}, reportsSeen: {} };
}

/** A count's key: the metric and its labels in a fixed order, `Delivered{Domain=example.com,ReceiverGroup=gmail}`. */
export function countKey(metric: MetricName, labels: Labels = {}): string {
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? metric : `${metric}{${parts.join(",")}}`;
}

/** A key read back: the metric and its labels. */
export function parseCountKey(key: string): { metric: string; labels: Labels } {
  const brace = key.indexOf("{");
  if (brace < 0) return { metric: key, labels: {} };
  const labels: Labels = {};
  for (const pair of key.slice(brace + 1, -1).split(",")) {
    const eq = pair.indexOf("=");
    labels[pair.slice(0, eq) as keyof Labels] = pair.slice(eq + 1);
  }
  return { metric: key.slice(0, brace), labels };
}

function add(state: AccountingState, date: string, metric: MetricName, labels: Labels, n = 1): void {
  if (n === 0) return;
  const key = countKey(metric, labels);
  state.totals[key] = (state.totals[key] ?? 0) + n;
  const day = (state.days[date] ??= {});
  day[key] = (day[key] ?? 0) + n;
}

/** The process part of a Postfix log line: `postfix/submission/smtpd`, and the text after `[pid]: `. */
const PROCESS = /^\S+\s+\S+\s+\S+\s+\S+\s+(postfix(?:-[\w-]+)?\/[\w/.-]+)\[\d+\]:\s(.*)$/;
const QUEUE_ID = /^([0-9A-Za-z]+):\s/;
const SUBMISSION = /\/submissions?\/smtpd$/;
const TLS_SESSION = /^(Verified|Trusted|Untrusted|Anonymous) TLS connection established to /;
const RATE_LIMIT = /^warning: (?:Connection|Message delivery request|Recipient address|New TLS session) rate limit exceeded: .* for service submissions?$/;

/** Why submission refused: the Reason dimension's values. */
export const REFUSAL_REASONS = ["suppressed", "sender-not-allowed", "client-not-allowed", "rate-limited", "signing-failed", "other"] as const;

/** Why submission refused, from its reject text. */
export function refusalReason(text: string): (typeof REFUSAL_REASONS)[number] {
  if (/Recipient address rejected: suppressed since /.test(text)) return "suppressed";
  if (/Client host rejected: Access denied/.test(text)) return "client-not-allowed";
  if (/Sender address rejected: not owned by user|header From: /.test(text)) return "sender-not-allowed";
  if (/rate limit|too many/i.test(text)) return "rate-limited";
  return "other";
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}


/**
 * Counts the log lines of one run into the state, on `date` (the run's day: a line is read within a
 * minute of being written, and syslog's timestamps have no year).
 */
export function accountLogLines(
  state: AccountingState,
  lines: readonly string[],
  date: string,
  context: AccountingContext,
  /** The lines' parseDeliveryLine results, when the caller has them already (apply does), in the same order. */
  deliveries?: readonly (DeliveryResult | undefined)[],
): void {
  const ours = new Set(context.domains.map((d) => d.toLowerCase()));
  for (const [i, line] of lines.entries()) {
    const m = PROCESS.exec(line);
    if (!m) continue;
    const [, process, text] = m;
    const delivery = deliveries ? deliveries[i] : parseDeliveryLine(line);
    if (delivery) {
      // Not the applications' mail (the host's notices to outside senders, say): not theirs to count.
      if (!REMOTE_DELIVERY_AGENTS.includes(delivery.agent) || state.foreign[delivery.queueId]) continue;
      const recipient = delivery.originalRecipient ?? delivery.recipient;
      const group = receiverGroupOf(recipient, context.extraDomains);
      const labels: Labels = { ReceiverGroup: group };
      // A queue ID never seen (the state was lost) counts for the host and the group, with no domain.
      const domain = state.queued[delivery.queueId];
      if (domain) labels.Domain = domain;
      const pending = (state.pending[delivery.queueId] ??= {});
      if (delivery.status === "deferred") pending[recipient] = group;
      else delete pending[recipient];
      if (Object.keys(pending).length === 0) delete state.pending[delivery.queueId];
      if (delivery.status === "sent") add(state, date, "Delivered", labels);
      else if (delivery.status === "deferred") add(state, date, "Deferred", labels);
      else add(state, date, delivery.verdict?.kind === "hard" ? "HardBounced" : "SoftBounced", labels);
      continue;
    }
    if (process.endsWith("/smtp")) {
      const tls = TLS_SESSION.exec(text);
      if (tls) add(state, date, "OutboundTlsSessions", { TlsLevel: tls[1] });
      continue;
    }
    if (SUBMISSION.test(process)) {
      if (RATE_LIMIT.test(text)) {
        add(state, date, "Refused", { Reason: "rate-limited" });
        continue;
      }
      const reject = /^(?:NOQUEUE|[0-9A-Za-z]+): (reject|milter-reject): (.*)$/.exec(text);
      // A client that goes on to DATA after every recipient was refused hears "no valid recipients": the refusal was counted at RCPT.
      if (reject && /^DATA from .*: 554 5\.5\.1 Error: no valid recipients/.test(reject[2])) continue;
      if (reject) {
        const reason = reject[1] === "milter-reject" ? "signing-failed" : refusalReason(reject[2]);
        add(state, date, "Refused", { Reason: reason });
        if (reason === "signing-failed") add(state, date, "DkimSigningFailures", {});
        continue;
      }
      const client = QUEUE_ID.exec(text);
      if (client && text.slice(client[0].length).startsWith("client=")) state.submitting[client[1]] = true;
      continue;
    }
    const id = QUEUE_ID.exec(text);
    if (!id) continue;
    const rest = text.slice(id[0].length);
    if (process.endsWith("/cleanup") && rest.startsWith("reject: header From: ")) {
      // Submission's header checks (the From must be a signing domain's); port 25 has none.
      add(state, date, "Refused", { Reason: "sender-not-allowed" });
      delete state.submitting[id[1]];
    } else if (process.endsWith("/pickup")) {
      // postsuper -r requeues through pickup under a new queue ID, naming the old one. Held mail (the warm-up's, held
      // before the queue manager saw it) is submitted now; mail already counted (an operator's `postsuper -r ALL`) keeps
      // its domain and what it waits for, and is not counted again. Mail from sendmail(1) on the host (cron's) has no orig_id.
      const old = /^uid=\d+ from=<[^>]*> orig_id=([0-9A-Za-z]+)$/.exec(rest)?.[1];
      if (old === undefined) continue;
      const moved = id[1];
      if (state.submitting[old]) state.submitting[moved] = true;
      else if (state.queued[old]) {
        state.queued[moved] = state.queued[old];
        if (state.pending[old]) state.pending[moved] = state.pending[old];
      } else if (state.foreign[old]) state.foreign[moved] = true;
      forget(state, old);
    } else if (process.endsWith("/qmgr")) {
      const from = /^from=<([^>]*)>, size=\d+, nrcpt=(\d+) \(queue active\)$/.exec(rest);
      if (from) {
        if (state.submitting[id[1]]) {
          delete state.submitting[id[1]];
          const domain = domainOf(from[1]);
          if (ours.has(domain)) {
            state.queued[id[1]] = domain;
            add(state, date, "Submitted", { Domain: domain }, Number(from[2]));
          } else state.foreign[id[1]] = true;
        } else if (!state.queued[id[1]]) state.foreign[id[1]] = true;
      } else if (/^from=<[^>]*>, status=expired, returned to sender$/.test(rest)) {
        // Given up on: each recipient still deferred is a soft bounce (the host's DSN goes to its VERP address).
        const domain = state.queued[id[1]];
        for (const group of Object.values(state.pending[id[1]] ?? {})) add(state, date, "SoftBounced", domain ? { Domain: domain, ReceiverGroup: group } : { ReceiverGroup: group });
        delete state.pending[id[1]];
      } else if (rest === "removed") forget(state, id[1]);
    }
  }
}

function forget(state: AccountingState, queueId: string): void {
  delete state.queued[queueId];
  delete state.submitting[queueId];
  delete state.foreign[queueId];
  delete state.pending[queueId];
}

/** Counts the intake's events of one run: authenticated complaints by group, and the reports that proved nothing. */
export function accountEvents(state: AccountingState, fresh: readonly SendingEvent[], unverifiedBounces: number, date: string, context: AccountingContext): void {
  for (const event of fresh) {
    if (event.kind !== "complaint") continue;
    if (event.authenticated) add(state, date, "Complaints", { ReceiverGroup: receiverGroupOf(event.recipient, context.extraDomains) });
    else add(state, date, "UnauthenticatedReports", {});
  }
  add(state, date, "UnauthenticatedReports", {}, unverifiedBounces);
}

/** Counts the receivers' reports that reached the role mailboxes this run: what counted, and what was set apart. */
export function accountReports(state: AccountingState, mails: readonly ReportMail[], date: string): void {
  const ids = (state.reportIds ??= {});
  for (const mail of mails) {
    if (mail.setApart) {
      add(state, date, "ReportsSetApart", {});
      continue;
    }
    for (const r of mail.reports) {
      if (r.kind !== "failure") {
        const id = reportIdentity(r.report);
        if (ids[id]) continue;
        ids[id] = date;
      }
      if (r.kind === "aggregate") {
        for (const record of r.report.records) {
          add(state, date, "DmarcReportedMessages", { Domain: record.headerFrom }, record.count);
          if (passedDmarc(record)) add(state, date, "DmarcReportedPassed", { Domain: record.headerFrom }, record.count);
        }
      } else if (r.kind === "tls") {
        for (const p of r.report.policies) add(state, date, "TlsReportedFailures", { Domain: p.domain }, p.failedSessions);
      }
    }
  }
}

/** Days kept: long enough for a quarter's report, short enough to stay a small file. */
export const DAYS_KEPT = 92;

/** Forgets days older than DAYS_KEPT before `date`, and queue IDs the log never closed after a lost line (kept at most 10,000). */
export function pruneAccounting(state: AccountingState, oldestDay: string): void {
  for (const day of Object.keys(state.days)) if (day < oldestDay) delete state.days[day];
  // A report is resent within days, not months: its id is kept as long as the days are.
  for (const [id, day] of Object.entries(state.reportIds ?? {})) if (day < oldestDay) delete state.reportIds![id];
  for (const map of [state.queued, state.submitting, state.foreign, state.pending] as Record<string, unknown>[]) {
    const ids = Object.keys(map);
    for (const id of ids.slice(0, Math.max(0, ids.length - 10_000))) delete map[id];
  }
}
