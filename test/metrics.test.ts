/**
 * The host's counts from its Postfix log, and what it publishes of them
 * (components/monitoring): pure functions over log lines in the exact shape
 * Postfix 3.7 writes them (taken from the mail lab's runs), so each rule of
 * the accounting is pinned here and the end-to-end test proves the whole.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressInRanges } from "../components/address-ranges";
import { accountEvents, accountLogLines, accountReports, countKey, emptyAccounting, parseCountKey, pruneAccounting, refusalReason } from "../components/monitoring/log-accounting";
import type { ReportMail } from "../components/reports/report-mail";
import { METRICS, prometheusLabel, prometheusName } from "../components/monitoring/metrics";
import { grafanaDashboard, grafanaQueries } from "../components/monitoring/grafana";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cloudWatchDatums, datumBatches, prometheusText, rateReadings, windowCounts } from "../components/monitoring/publish";

const CONTEXT = { domains: ["example.com", "example.org"], extraDomains: { microsoft: ["contoso-mail.example"] } };
const at = (process: string, text: string) => `Dec 01 20:42:21 mail ${process}[123]: ${text}`;

/** One submitted message as Postfix logs it: smtpd's client line, qmgr's from line, the deliveries, removal. */
function submitted(id: string, from: string, deliveries: string[], nrcpt = deliveries.length): string[] {
  return [
    at("postfix/submission/smtpd", `${id}: client=unknown[198.18.0.2], sasl_method=PLAIN, sasl_username=webapp`),
    at("postfix/cleanup", `${id}: message-id=<${id}@lab>`),
    at("postfix/qmgr", `${id}: from=<${from}>, size=1234, nrcpt=${nrcpt} (queue active)`),
    ...deliveries,
    at("postfix/qmgr", `${id}: removed`),
  ];
}

const sent = (id: string, to: string) => at("postfix/smtp", `${id}: to=<${to}>, relay=mx.gmail.com[198.18.0.27]:25, delay=0.1, delays=0.01/0/0.05/0.04, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)`);
const bounced = (id: string, to: string) =>
  at("postfix/smtp", `${id}: to=<${to}>, relay=mx.outlook.com[198.18.0.28]:25, delay=0.06, delays=0.01/0/0.05/0.01, dsn=5.1.1, status=bounced (host mx.outlook.com[198.18.0.28] said: 550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup (in reply to RCPT TO command))`);
const deferred = (id: string, to: string) =>
  at("postfix/smtp", `${id}: to=<${to}>, relay=mx.outlook.com[198.18.0.28]:25, delay=0.06, delays=0.01/0/0.05/0.01, dsn=4.7.0, status=deferred (host mx.outlook.com[198.18.0.28] said: 452 4.7.0 Temporarily rate limited due to IP reputation (in reply to RCPT TO command))`);

describe("the host's counts from its Postfix log", () => {
  it("counts submissions by sending domain and each delivery result by domain and receiver group", () => {
    const state = emptyAccounting();
    accountLogLines(
      state,
      [
        ...submitted("A1", "noreply@example.com", [sent("A1", "ann@gmail.com"), sent("A1", "bob@googlemail.com")]),
        ...submitted("B1", "billing@Example.ORG", [bounced("B1", "gone@outlook.com"), deferred("B1", "busy@contoso-mail.example")]).slice(0, -1),
        // Given up on, as Postfix logs it: one line for the message, none per recipient; the recipient still deferred is a soft bounce.
        at("postfix/qmgr", "B1: from=<billing@Example.ORG>, status=expired, returned to sender"),
        at("postfix/bounce", "B1: sender non-delivery notification: B2"),
        at("postfix/qmgr", "B1: removed"),
      ],
      "2026-12-01",
      CONTEXT,
    );
    assert.deepEqual(state.totals, {
      [countKey("Submitted", { Domain: "example.com" })]: 2,
      [countKey("Submitted", { Domain: "example.org" })]: 2,
      [countKey("Delivered", { Domain: "example.com", ReceiverGroup: "gmail" })]: 2,
      [countKey("HardBounced", { Domain: "example.org", ReceiverGroup: "microsoft" })]: 1,
      [countKey("Deferred", { Domain: "example.org", ReceiverGroup: "microsoft" })]: 1,
      [countKey("SoftBounced", { Domain: "example.org", ReceiverGroup: "microsoft" })]: 1,
    });
    assert.deepEqual([state.queued, state.pending, state.foreign, state.submitting], [{}, {}, {}, {}]);
    assert.deepEqual(state.days["2026-12-01"], state.totals);
  });

  it("attributes a delivery logged in a later run to the domain seen earlier, and keeps what it does not know out of the breakdown", () => {
    const state = emptyAccounting();
    accountLogLines(state, submitted("C1", "noreply@example.com", [deferred("C1", "busy@outlook.com")]).slice(0, 4), "2026-12-01", CONTEXT);
    accountLogLines(state, [sent("C1", "busy@outlook.com"), at("postfix/qmgr", "C1: removed")], "2026-12-02", CONTEXT);
    assert.equal(state.days["2026-12-02"][countKey("Delivered", { Domain: "example.com", ReceiverGroup: "microsoft" })], 1);
    // A queue ID never seen (the state was lost): counted for the host and its group, with no domain.
    accountLogLines(state, [sent("Z9", "x@yahoo.com")], "2026-12-02", CONTEXT);
    assert.equal(state.totals[countKey("Delivered", { ReceiverGroup: "yahoo" })], 1);
  });

  it("counts held mail once, when the warm-up releases it through pickup under a new queue ID", () => {
    const state = emptyAccounting();
    accountLogLines(
      state,
      [
        at("postfix/submission/smtpd", "H1: client=unknown[198.18.0.2], sasl_method=PLAIN, sasl_username=webapp"),
        at("postfix/submission/smtpd", "H1: hold: RCPT from unknown[198.18.0.2]: <u4@gmail.com>: Recipient address held by the warm-up; from=<noreply@example.com> to=<u4@gmail.com> proto=ESMTP helo=<app>"),
        at("postfix/cleanup", "H1: message-id=<h1@lab>"),
        at("postfix/postsuper", "H1: requeued"),
        at("postfix/pickup", "H2: uid=102 from=<noreply@example.com> orig_id=H1"),
        // cron's own mail through sendmail(1): not the applications'.
        at("postfix/pickup", "K1: uid=0 from=<root>"),
        at("postfix/qmgr", "K1: from=<root@mail.example.com>, size=300, nrcpt=1 (queue active)"),
        at("postfix/qmgr", "H2: from=<noreply@example.com>, size=900, nrcpt=1 (queue active)"),
        sent("H2", "u4@gmail.com"),
        at("postfix/qmgr", "H2: removed"),
      ],
      "2026-12-02",
      CONTEXT,
    );
    assert.equal(state.totals[countKey("Submitted", { Domain: "example.com" })], 1);
    assert.equal(state.totals[countKey("Delivered", { Domain: "example.com", ReceiverGroup: "gmail" })], 1);
  });

  it("counts a message an operator requeues (postsuper -r ALL) once, and keeps what it still waits for", () => {
    const state = emptyAccounting();
    accountLogLines(
      state,
      [
        ...submitted("R1", "noreply@example.com", [deferred("R1", "busy@outlook.com")]).slice(0, -1),
        at("postfix/postsuper", "R1: requeued"),
        at("postfix/pickup", "R2: uid=0 from=<noreply@example.com> orig_id=R1"),
        at("postfix/qmgr", "R2: from=<noreply@example.com>, size=900, nrcpt=1 (queue active)"),
        at("postfix/qmgr", "R2: from=<noreply@example.com>, status=expired, returned to sender"),
        at("postfix/qmgr", "R2: removed"),
      ],
      "2026-12-01",
      CONTEXT,
    );
    assert.deepEqual(state.totals, {
      [countKey("Submitted", { Domain: "example.com" })]: 1,
      [countKey("Deferred", { Domain: "example.com", ReceiverGroup: "microsoft" })]: 1,
      [countKey("SoftBounced", { Domain: "example.com", ReceiverGroup: "microsoft" })]: 1,
    });
    assert.deepEqual([state.queued, state.pending], [{}, {}]);
  });

  it("does not count inbound mail, the host's own DSNs, local deliveries, or senders outside its domains", () => {
    const state = emptyAccounting();
    accountLogLines(
      state,
      [
        at("postfix/smtpd", "I1: client=mx.provider.example[198.18.0.25]"),
        at("postfix/qmgr", "I1: from=<MAILER-DAEMON@mx.provider.example>, size=2000, nrcpt=1 (queue active)"),
        at("postfix/pipe", "I1: to=<noreply+x=provider.example@example.com>, relay=postforge-bounce, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered via postforge-bounce service)"),
        at("postfix/lmtp", "I2: to=<fbl@example.com>, relay=mail.example.com[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <fbl@example.com> Saved)"),
        // A submission login's mail in a domain the host does not sign (refused later at the header check, say) is not the host's.
        ...submitted("S1", "someone@elsewhere.example", [sent("S1", "a@gmail.com")]),
        // The host's own notice to an outside sender (inbound mail it could not deliver), relayed out: not the applications'.
        at("postfix/qmgr", "N1: from=<>, size=2000, nrcpt=1 (queue active)"),
        bounced("N1", "sender@outlook.com"),
        deferred("N1", "sender@outlook.com"),
      ],
      "2026-12-01",
      CONTEXT,
    );
    assert.deepEqual(state.totals, {});
  });

  it("counts refusals at submission by reason, once each, and signing failures", () => {
    const lines = [
      "NOQUEUE: reject: RCPT from unknown[198.18.0.2]: 550 5.7.1 <user1@gmail.com>: Recipient address rejected: suppressed since 2026-12-03 (complaint: abuse report); from=<noreply@example.com> to=<user1@gmail.com> proto=ESMTP helo=<app>",
      "NOQUEUE: reject: MAIL from unknown[198.18.0.2]: 553 5.7.1 <billing@example.com>: Sender address rejected: not owned by user webapp; from=<billing@example.com> proto=ESMTP helo=<app>",
      "NOQUEUE: reject: CONNECT from unknown[198.18.0.1]: 554 5.7.1 <unknown[198.18.0.1]>: Client host rejected: Access denied; proto=SMTP",
      "NOQUEUE: reject: DATA from unknown[198.18.0.2]: 554 5.5.1 Error: no valid recipients; from=<noreply@example.com> to=<user1@gmail.com> proto=ESMTP helo=<app>",
      "warning: Message delivery request rate limit exceeded: 7 from unknown[198.18.0.2] for service submission",
      "M1: milter-reject: END-OF-MESSAGE from unknown[198.18.0.2]: 4.7.1 Service unavailable - try again later; from=<noreply@example.com> to=<a@gmail.com> proto=ESMTP helo=<app>",
      "NOQUEUE: reject: RCPT from unknown[198.18.0.2]: 504 5.5.2 <x>: Recipient address rejected: need fully-qualified address; from=<noreply@example.com> to=<x> proto=ESMTP helo=<app>",
    ].map((t) => at("postfix/submission/smtpd", t));
    const state = emptyAccounting();
    accountLogLines(state, [...lines, at("postfix/cleanup", "Q1: reject: header From: Bad <bad@elsewhere.example> from unknown[198.18.0.2]; from=<noreply@example.com> to=<a@gmail.com> proto=ESMTP helo=<app>: 5.7.1 header From is not yours")], "2026-12-01", CONTEXT);
    assert.deepEqual(state.totals, {
      [countKey("Refused", { Reason: "suppressed" })]: 1,
      [countKey("Refused", { Reason: "sender-not-allowed" })]: 2,
      [countKey("Refused", { Reason: "client-not-allowed" })]: 1,
      [countKey("Refused", { Reason: "rate-limited" })]: 1,
      [countKey("Refused", { Reason: "signing-failed" })]: 1,
      [countKey("Refused", { Reason: "other" })]: 1,
      [countKey("DkimSigningFailures")]: 1,
    });
    // Port 25's refusals are not submission's.
    const port25 = emptyAccounting();
    accountLogLines(port25, [at("postfix/smtpd", "NOQUEUE: reject: RCPT from x[192.0.2.9]: 554 5.7.1 <a@example.com>: Relay access denied; from=<s@x> to=<a@example.com> proto=ESMTP helo=<x>")], "2026-12-01", CONTEXT);
    assert.deepEqual(port25.totals, {});
    assert.equal(refusalReason("Recipient address rejected: suppressed since 2026-12-01 (hard-bounce: x)"), "suppressed");
  });

  it("counts outbound TLS sessions by level, and complaints and unproven reports from the intake", () => {
    const state = emptyAccounting();
    accountLogLines(
      state,
      [
        at("postfix/smtp", "Untrusted TLS connection established to mx.gmail.com[198.18.0.27]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
        at("postfix/smtp", "Verified TLS connection established to mx.outlook.com[198.18.0.28]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
        // Inbound TLS is not outbound.
        at("postfix/smtpd", "Anonymous TLS connection established from x[192.0.2.1]: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"),
      ],
      "2026-12-01",
      CONTEXT,
    );
    accountEvents(
      state,
      [
        { kind: "complaint", recipient: "a@yahoo.com", date: "2026-12-01", authenticated: true, detail: "abuse" },
        { kind: "complaint", recipient: "b@gmail.com", date: "2026-12-01", authenticated: false, detail: "abuse" },
        { kind: "unsubscribe", recipient: "c@gmail.com", date: "2026-12-01", detail: "one-click" },
      ],
      2,
      "2026-12-01",
      CONTEXT,
    );
    assert.deepEqual(state.totals, {
      [countKey("OutboundTlsSessions", { TlsLevel: "Untrusted" })]: 1,
      [countKey("OutboundTlsSessions", { TlsLevel: "Verified" })]: 1,
      [countKey("Complaints", { ReceiverGroup: "yahoo" })]: 1,
      [countKey("UnauthenticatedReports")]: 3,
    });
  });

  it("reads its keys back, and forgets days past the kept window and queue IDs past 10,000", () => {
    assert.deepEqual(parseCountKey(countKey("Delivered", { ReceiverGroup: "gmail", Domain: "example.com" })), { metric: "Delivered", labels: { Domain: "example.com", ReceiverGroup: "gmail" } });
    assert.deepEqual(parseCountKey("Complaints"), { metric: "Complaints", labels: {} });
    const state = emptyAccounting();
    state.days = { "2026-08-01": { Delivered: 1 }, "2026-12-01": { Delivered: 2 } };
    for (let i = 0; i < 10_005; i++) state.queued[`Q${i}`] = "example.com";
    pruneAccounting(state, "2026-09-01");
    assert.deepEqual(Object.keys(state.days), ["2026-12-01"]);
    assert.equal(Object.keys(state.queued).length, 10_000);
    assert.equal(state.queued.Q0, undefined);
    assert.equal(state.queued.Q10004, "example.com");
  });
});

describe("the receivers' reports the host counts", () => {
  const aggregate = (reporter: string, reportId: string, count: number): ReportMail => ({
    authenticatedAs: reporter,
    unreadable: [],
    reports: [
      {
        kind: "aggregate",
        report: {
          reporter,
          schema: "rfc7489",
          orgName: reporter,
          reportId,
          begin: "2026-12-01T00:00:00.000Z",
          end: "2026-12-01T23:59:59.000Z",
          errors: [],
          policy: { domain: "example.com", p: "none", adkim: "r", aspf: "r" },
          records: [{ sourceIp: "203.0.113.145", count, disposition: "none", dkimAligned: "pass", spfAligned: "fail", reasons: [], headerFrom: "example.com", dkim: [], spf: [] }],
        },
      },
    ],
  });

  it("counts each report once, by reporter and id, however often it arrives, and what was set apart", () => {
    const state = emptyAccounting();
    accountReports(state, [aggregate("google.com", "r1", 100), aggregate("google.com", "r1", 100), { reports: [], unreadable: [], setApart: "did not authenticate" }], "2026-12-01");
    // The same id from another reporter is another report; the same one a day later still counts once.
    accountReports(state, [aggregate("outlook.com", "r1", 7), aggregate("google.com", "r1", 100)], "2026-12-02");
    assert.deepEqual(state.totals, {
      [countKey("DmarcReportedMessages", { Domain: "example.com" })]: 107,
      [countKey("DmarcReportedPassed", { Domain: "example.com" })]: 107,
      [countKey("ReportsSetApart")]: 1,
    });
    // Ids are forgotten with the days they came on.
    pruneAccounting(state, "2026-12-02");
    assert.deepEqual(Object.keys(state.reportIds!).map((k) => k.split("\u0000")[0]), ["outlook.com"]);
  });
});

describe("what the host publishes", () => {
  const totals = {
    [countKey("Delivered", { Domain: "example.com", ReceiverGroup: "gmail" })]: 10,
    [countKey("Delivered", { Domain: "example.org", ReceiverGroup: "gmail" })]: 5,
    [countKey("Delivered", { ReceiverGroup: "yahoo" })]: 1,
    [countKey("Refused", { Reason: "suppressed" })]: 2,
  };

  it("sends each counter's growth since the last good call, rolled up by each dimension set, Host's even at zero", () => {
    const datums = cloudWatchDatums("mail.example.com", totals, { [countKey("Delivered", { Domain: "example.com", ReceiverGroup: "gmail" })]: 4 }, []);
    const value = (name: string, dims: Record<string, string>) =>
      datums.find((d) => d.MetricName === name && JSON.stringify(Object.fromEntries(d.Dimensions.map((x) => [x.Name, x.Value]))) === JSON.stringify({ Host: "mail.example.com", ...dims }))?.Value;
    assert.equal(value("Delivered", {}), 6 + 5 + 1);
    assert.equal(value("Delivered", { Domain: "example.com" }), 6);
    assert.equal(value("Delivered", { Domain: "example.org" }), 5);
    assert.equal(value("Delivered", { ReceiverGroup: "gmail" }), 11);
    assert.equal(value("Delivered", { ReceiverGroup: "yahoo" }), 1);
    assert.equal(value("Refused", { Reason: "suppressed" }), 2);
    // A quiet counter is zero at Host, and absent in the breakdowns (no series per idle value).
    assert.equal(value("HardBounced", {}), 0);
    assert.equal(value("HardBounced", { ReceiverGroup: "gmail" }), undefined);
    for (const d of datums) assert.equal(d.Unit, METRICS.find((m) => m.name === d.MetricName)!.unit);
    // Published in full: nothing grows.
    assert.ok(cloudWatchDatums("mail.example.com", totals, totals, []).every((d) => d.Value === 0));
  });

  it("publishes a reading with its labels, and the Host sum where the catalogue asks for it", () => {
    const datums = cloudWatchDatums("h", {}, {}, [
      { metric: "DnsblListed", labels: { Blocklist: "SpamCop" }, value: 1 },
      { metric: "DnsblListed", labels: { Blocklist: "Spamhaus ZEN" }, value: 0 },
      { metric: "WarmupCap", labels: { ReceiverGroup: "gmail" }, value: 480 },
    ]);
    const dnsbl = datums.filter((d) => d.MetricName === "DnsblListed").map((d) => [d.Dimensions.map((x) => x.Value).join("/"), d.Value]);
    assert.deepEqual(dnsbl, [["h/SpamCop", 1], ["h/Spamhaus ZEN", 0], ["h", 1]]);
    // WarmupCap has no Host-only set: no sum of caps.
    assert.deepEqual(datums.filter((d) => d.MetricName === "WarmupCap").map((d) => d.Dimensions.length), [2]);
  });

  it("splits a publication into PutMetricData's 1,000-datum calls", () => {
    const many = Array.from({ length: 2345 }, (_, i) => ({ MetricName: "Delivered", Dimensions: [{ Name: "Host" as const, Value: `h${i}` }], Value: 1, Unit: "Count" }));
    assert.deepEqual(datumBatches(many).map((b) => b.length), [1000, 1000, 345]);
  });

  it("computes the rates over the last 14 days as SES does, and only from 100 messages", () => {
    const state = emptyAccounting();
    state.days = {
      // Outside the window (15 days before): not counted.
      "2026-11-17": { [countKey("HardBounced", { ReceiverGroup: "gmail" })]: 50 },
      "2026-11-18": { [countKey("Delivered", { ReceiverGroup: "gmail" })]: 90, [countKey("HardBounced", { ReceiverGroup: "gmail" })]: 6 },
      "2026-12-01": { [countKey("Delivered", { ReceiverGroup: "yahoo" })]: 8, [countKey("SoftBounced", { ReceiverGroup: "other" })]: 4, [countKey("Complaints", { ReceiverGroup: "yahoo" })]: 1 },
    };
    assert.deepEqual(windowCounts(state, "2026-12-01"), { sent: 108, delivered: 98, hardBounces: 6, complaints: 1 });
    // 6/108 = 5.5556%; 98 deliveries are under 100: no complaint rate.
    assert.deepEqual(rateReadings(state, "2026-12-01"), [{ metric: "BounceRate", value: 5.5556 }]);
    state.days["2026-12-01"][countKey("Delivered", { ReceiverGroup: "yahoo" })] = 10;
    assert.deepEqual(rateReadings(state, "2026-12-01"), [
      { metric: "BounceRate", value: 5.4545 },
      { metric: "ComplaintRate", value: 1 },
    ]);
  });

  it("writes the Prometheus text format: HELP and TYPE for every metric, counters cumulative at their finest labels, quoted values escaped", () => {
    const text = prometheusText('mail."x"', totals, [{ metric: "QueueSize", value: 3 }]);
    const lines = text.trimEnd().split("\n");
    for (const metric of METRICS) {
      assert.ok(lines.includes(`# TYPE ${prometheusName(metric)} ${metric.kind}`), metric.name);
      assert.ok(lines.some((l) => l.startsWith(`# HELP ${prometheusName(metric)} `)), metric.name);
    }
    assert.ok(lines.includes('postforge_delivered_total{host="mail.\\"x\\"",domain="example.com",receiver_group="gmail"} 10'));
    assert.ok(lines.includes('postforge_delivered_total{host="mail.\\"x\\"",receiver_group="yahoo"} 1'));
    assert.ok(lines.includes('postforge_refused_total{host="mail.\\"x\\"",reason="suppressed"} 2'));
    // A counter with nothing yet is 0 (a rate() over it is 0, not absent); a gauge not read has no series.
    assert.ok(lines.includes('postforge_hard_bounced_total{host="mail.\\"x\\""} 0'));
    assert.ok(lines.includes('postforge_queue_size{host="mail.\\"x\\""} 3'));
    assert.ok(!lines.some((l) => l.startsWith("postforge_certificate_days_left{")));
    assert.equal(prometheusName(METRICS.find((m) => m.name === "OldestQueuedAge")!), "postforge_oldest_queued_age_seconds");
    assert.equal(prometheusName(METRICS.find((m) => m.name === "BounceRate")!), "postforge_bounce_rate_percent");
  });
});

describe("addressInRanges (the exporter's client check)", () => {
  it("holds an address in a CIDR range or equal to a bare one, of its own family only", () => {
    assert.equal(addressInRanges("198.18.0.2", ["198.18.0.2/32"]), true);
    assert.equal(addressInRanges("10.0.1.77", ["10.0.1.0/24"]), true);
    assert.equal(addressInRanges("10.0.2.1", ["10.0.1.0/24"]), false);
    assert.equal(addressInRanges("198.51.100.7", ["198.51.100.7"]), true);
    assert.equal(addressInRanges("2001:db8::5", ["2001:db8::/32"]), true);
    assert.equal(addressInRanges("2001:db9::5", ["2001:db8::/32", "0.0.0.0/0"]), false);
    assert.equal(addressInRanges("not-an-address", ["0.0.0.0/0"]), false);
    assert.equal(addressInRanges("198.18.0.3", []), false);
  });
});

describe("the Grafana dashboard shipped with the package", () => {
  it("is the builder's, and queries only the exporter's metrics by their own labels", () => {
    const shipped = JSON.parse(readFileSync(join(__dirname, "..", "dist", "grafana", "postforge-mail-host.json"), "utf8"));
    assert.deepEqual(shipped, grafanaDashboard());
    const queries = grafanaQueries(shipped);
    assert.ok(queries.length >= 20);
    for (const q of queries) {
      const metric = METRICS.find((m) => prometheusName(m) === q.metric);
      assert.ok(metric, `${q.metric} is no metric of the exporter`);
      const labels = new Set(["host", ...metric.dimensions.flat().map((d) => prometheusLabel(d))]);
      for (const label of q.labels) assert.ok(labels.has(label), `${q.metric} has no label ${label}`);
    }
    // Every metric is on it.
    assert.deepEqual([...new Set(queries.map((q) => q.metric))].sort(), METRICS.map((m) => prometheusName(m)).sort());
    // Imported with a data source chosen at import, and a host picker.
    assert.equal((shipped.__inputs as { name: string }[])[0].name, "DS_PROMETHEUS");
    assert.equal((shipped.templating as { list: { name: string }[] }).list[0].name, "host");
  });
});
