/**
 * From what the readers found to the events the suppression policy decides
 * on (components/sending/sending-events.ts), shared by `postforge bounces`
 * and the host's postforge-mailops: VERP addresses read back, a DSN's
 * failed recipients (and only those), complaints of the kinds that count.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseComplaint } from "../components/sending/arf";
import { parseBounce } from "../components/sending/dsn";
import { bounceEvents, complaintEvents, deliveryEvents, messageDate, verpRecipient } from "../components/sending/sending-events";
import { parseDeliveryLine } from "../components/sending/delivery-log";

const dsn = (blocks: string[]) =>
  [
    "From: MAILER-DAEMON@mx.example.net",
    "Date: Wed, 02 Dec 2026 08:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "Not delivered.",
    "--b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "",
    blocks.join("\r\n\r\n"),
    "--b--",
    "",
  ].join("\r\n");

describe("VERP bounce addresses", () => {
  it("name the recipient after the first +, with the domain after the last =", () => {
    assert.equal(verpRecipient("noreply+alice=example.org@example.com"), "alice@example.org");
    assert.equal(verpRecipient("noreply+Alice+news=Example.ORG@example.com"), "alice+news@example.org");
    assert.equal(verpRecipient("noreply+a=b=c.example@example.com"), "a=b@c.example");
  });

  it("are nothing for an address that is not one", () => {
    for (const address of ["noreply@example.com", "noreply+tag@example.com", "noreply+alice=@example.com", "+alice=example.org@example.com", "noreply+alice=localhost@example.com"]) {
      assert.equal(verpRecipient(address), undefined, address);
    }
  });
});

describe("bounce events", () => {
  const failed = "Final-Recipient: rfc822; old-name@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown";
  const delayed = "Final-Recipient: rfc822; slow@example.org\r\nAction: delayed\r\nStatus: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 mailbox full";
  const delivered = "Final-Recipient: rfc822; fine@example.org\r\nAction: delivered\r\nStatus: 2.0.0";

  it("are a DSN's failed and delayed recipients, judged, with the remote text; a delivered one is none", () => {
    const events = bounceEvents(parseBounce(dsn([failed, delayed, delivered])), "2026-12-02");
    assert.deepEqual(events, [
      { kind: "bounce", recipient: "old-name@example.org", date: "2026-12-02", verdict: { kind: "hard", reason: "unknown-user" }, detail: "5.1.1 550 5.1.1 user unknown", final: true },
      { kind: "bounce", recipient: "slow@example.org", date: "2026-12-02", verdict: { kind: "soft", reason: "mailbox-full" }, detail: "4.2.2 452 4.2.2 mailbox full", final: false },
    ]);
  });

  it("with a VERP address, are about its recipient alone: the one the report names, or the one failure of a report naming another (a forwarding address)", () => {
    const [one] = bounceEvents(parseBounce(dsn([failed])), "2026-12-02", "noreply+alice=example.org@example.com");
    assert.equal(one.recipient, "alice@example.org");
    // A sender with a "+" of its own: the report's recipient is the one the address ends with.
    const plus = bounceEvents(parseBounce(dsn([failed])), "2026-12-02", "news+weekly+old-name=example.org@example.com");
    assert.deepEqual(plus.map((e) => e.recipient), ["old-name@example.org"]);
    // A report naming several (a forger's list): only the VERP recipient, and only if the report names it.
    assert.deepEqual(bounceEvents(parseBounce(dsn([failed, delayed])), "2026-12-02", "noreply+slow=example.org@example.com").map((e) => e.recipient), ["slow@example.org"]);
    assert.deepEqual(bounceEvents(parseBounce(dsn([failed, delayed])), "2026-12-02", "noreply+alice=example.org@example.com"), []);
    assert.deepEqual(bounceEvents(undefined, "2026-12-02", "noreply+alice=example.org@example.com"), []);
  });

  it("from the delivery log: results that did not deliver, on the day given", () => {
    const line = "Dec  2 08:00:00 mail postfix/smtp[1]: ABC123: to=<gone@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command))";
    const sent = "Dec  2 08:00:00 mail postfix/smtp[1]: ABC124: to=<ok@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)";
    const events = deliveryEvents([parseDeliveryLine(line)!, parseDeliveryLine(sent)!], () => "2026-12-02");
    assert.equal(events.length, 1);
    assert.equal(events[0].recipient, "gone@example.org");
    assert.equal(events[0].kind === "bounce" && events[0].final, true);
  });

  it("are dated by the message's own Arrival-Date or Date, else the day given", () => {
    assert.equal(messageDate("Date: Wed, 02 Dec 2026 23:30:00 -0500\r\n\r\n", "2026-01-01"), "2026-12-03");
    assert.equal(messageDate("Subject: x\r\n\r\n", "2026-01-01"), "2026-01-01");
  });
});

describe("complaint events", () => {
  const arf = (type: string) =>
    parseComplaint(
      [
        "From: feedback@example.net",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="c"',
        "",
        "--c",
        "Content-Type: text/plain",
        "",
        "report",
        "--c",
        "Content-Type: message/feedback-report",
        "",
        `Feedback-Type: ${type}`,
        "User-Agent: Test/1.0",
        "Version: 1",
        "Original-Rcpt-To: someone@example.org",
        "--c--",
        "",
      ].join("\r\n"),
    );

  it("are abuse and fraud reports, with whether they authenticated; not-spam and the like are none", () => {
    assert.deepEqual(complaintEvents(arf("abuse"), true, "2026-12-02"), [
      { kind: "complaint", recipient: "someone@example.org", date: "2026-12-02", authenticated: true, detail: "abuse report from Test/1.0" },
    ]);
    assert.deepEqual(complaintEvents(arf("fraud"), false, "2026-12-02").map((e) => e.kind === "complaint" && e.authenticated), [false]);
    assert.deepEqual(complaintEvents(arf("not-spam"), true, "2026-12-02"), []);
    assert.deepEqual(complaintEvents(undefined, true, "2026-12-02"), []);
  });
});
