/**
 * Yahoo's feedback loop as the mail lab plays it, for the tests that need a
 * complaint to arrive as it does from Yahoo (test/mta-sending-ops.test.ts,
 * test/mta-monitoring.test.ts).
 */
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth/lib/dkim/sign";
import type { DKIMSignOptions } from "mailauth";
import { dkimKeyRecord } from "../../components/dkim/records";
import { LAB } from "./lab";

/**
 * Yahoo's feedback loop as the lab plays it: a yahoo.com zone with the MTA that sends the
 * reports and the key they are signed with (a fresh one; the real reports are signed d=yahoo.com).
 */
export const YAHOO_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const YAHOO_SELECTOR = "s2048";
export const YAHOO_ZONE = {
  apex: "yahoo.com",
  records: [
    { name: "yahoo.com", type: "MX" as const, ttl: 300, purpose: "mx" as const, priority: 10, exchange: "mta.yahoo.com" },
    { name: "mta.yahoo.com", type: "A" as const, ttl: 300, purpose: "host-address" as const, address: LAB.RECEIVERS[1] },
    { name: "arf.mail.yahoo.com", type: "A" as const, ttl: 300, purpose: "host-address" as const, address: LAB.RECEIVERS[1] },
    dkimKeyRecord("yahoo.com", YAHOO_SELECTOR, `v=DKIM1; k=rsa; p=${YAHOO_KEY.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`, 300),
  ],
};

/** An ARF report (RFC 5965) in Yahoo's shape about one recipient, as its feedback loop sends it to fbl@. */
export function yahooReport(recipient: string): string {
  return [
    "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>",
    "To: fbl@example.com",
    "Subject: Email Feedback Report for IP 198.18.0.1",
    "Date: Thu, 03 Dec 2026 10:00:00 +0000",
    "Message-ID: <arf-" + recipient.replace(/[^a-z0-9]/g, "") + "@arf.mail.yahoo.com>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"',
    "",
    "--b2",
    "Content-Type: text/plain",
    "",
    "This is an email abuse report for an email message from example.com.",
    "--b2",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: Yahoo!-Mail-Feedback/2.0",
    "Version: 1",
    `Original-Rcpt-To: ${recipient}`,
    "Source-IP: 198.18.0.1",
    "--b2",
    "Content-Type: text/rfc822-headers",
    "",
    "From: noreply@example.com",
    `To: ${recipient}`,
    "Subject: Your order",
    "--b2--",
    "",
  ].join("\r\n");
}


/** The report signed d=yahoo.com with the lab's Yahoo key, as the real feedback loop signs it: the signature fields, then the report. */
export async function signedYahooReport(recipient: string): Promise<string> {
  return signedByYahoo(yahooReport(recipient));
}

/** Any message signed d=yahoo.com with the lab's Yahoo key (its DMARC reports, say): the signature fields, then the message. */
export async function signedByYahoo(message: string): Promise<string> {
  const options = { strict: true, canonicalization: "relaxed/relaxed", signatureData: [{ signingDomain: "yahoo.com", selector: YAHOO_SELECTOR, privateKey: YAHOO_KEY.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), algorithm: "rsa-sha256" }] };
  const { signatures } = await dkimSign(message, options as Partial<DKIMSignOptions> as DKIMSignOptions);
  return signatures + message;
}
