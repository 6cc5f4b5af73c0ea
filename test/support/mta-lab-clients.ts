/**
 * Clients of the lab's mail host, standing where users and attackers stand:
 * an application on LAB.APPLICATION submitting on 587/465, a stranger on
 * LAB.STRANGER speaking to port 25. Each call opens a fresh session, so
 * every probe meets the host's connect-time checks and limits.
 */
import { randomBytes } from "node:crypto";
import { LAB } from "./lab";
import { SmtpClient, type SmtpReply } from "./mta-e2e-smtp";
import type { Credential } from "./mta-e2e-fixture";

export interface MessageFields {
  from: string;
  to: string;
  subject?: string;
  id?: string;
  /** Extra header lines, as written. */
  headers?: string[];
  body?: string;
}

/** A message with the headers a bulk sender's mail carries (RFC 8058 one-click unsubscribe, Feedback-ID). */
export function message(fields: MessageFields): { text: string; id: string } {
  const id = fields.id ?? `lab-${randomBytes(8).toString("hex")}@${LAB.APPLICATION}`;
  const headers = [
    ...(fields.from === "" ? [] : [`From: ${fields.from}`]),
    `To: ${fields.to}`,
    `Subject: ${fields.subject ?? "From the Postforge mail lab"}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Transfer-Encoding: 7bit",
    ...(fields.headers ?? []),
  ];
  return { text: [...headers, "", fields.body ?? "Hello from the Postforge mail lab.\r\n.a line that starts with a dot", ""].join("\r\n"), id };
}

export interface Transaction {
  /** The reply that ended it: the DATA reply when the message was taken, else the first refusal. */
  final: SmtpReply;
  /** Which step gave the final reply. */
  step: "connect" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt" | "data";
  accepted: boolean;
}

export interface SubmitOptions {
  credential?: Credential;
  envelopeFrom: string;
  recipients: string[];
  data: string;
  port?: 587 | 465;
  from?: string;
  host?: string;
}

/** One submission session from the application's address: EHLO, STARTTLS (or implicit TLS on 465), AUTH PLAIN, MAIL, RCPT, DATA. */
export async function submit(o: SubmitOptions): Promise<Transaction> {
  const port = o.port ?? 587;
  const { client, greeting } = await SmtpClient.connect(port, { host: o.host ?? LAB.MAIL_HOST, localAddress: o.from ?? LAB.APPLICATION, implicitTls: port === 465 });
  try {
    if (greeting.code !== 220) return { final: greeting, step: "connect", accepted: false };
    let reply = await client.command("EHLO app.lab.example");
    if (reply.code !== 250) return { final: reply, step: "ehlo", accepted: false };
    if (port === 587) {
      reply = await client.starttls("mail.example.com");
      if (reply.code !== 220) return { final: reply, step: "starttls", accepted: false };
      reply = await client.command("EHLO app.lab.example");
      if (reply.code !== 250) return { final: reply, step: "ehlo", accepted: false };
    }
    if (o.credential) {
      reply = await client.authPlain(o.credential.login, o.credential.password);
      if (reply.code !== 235) return { final: reply, step: "auth", accepted: false };
    }
    return await transaction(client, o.envelopeFrom, o.recipients, o.data);
  } finally {
    await client.quit();
  }
}

/** One port-25 session from `from` (default: the stranger), as another MTA delivers. */
export async function deliver(o: { envelopeFrom: string; recipients: string[]; data: string; helo?: string; from?: string }): Promise<Transaction> {
  const { client, greeting } = await SmtpClient.connect(25, { host: LAB.MAIL_HOST, localAddress: o.from ?? LAB.STRANGER });
  try {
    if (greeting.code !== 220) return { final: greeting, step: "connect", accepted: false };
    const reply = await client.command(`EHLO ${o.helo ?? "mx.reporter.example"}`);
    if (reply.code !== 250) return { final: reply, step: "ehlo", accepted: false };
    return await transaction(client, o.envelopeFrom, o.recipients, o.data);
  } finally {
    await client.quit();
  }
}

async function transaction(client: SmtpClient, envelopeFrom: string, recipients: string[], data: string): Promise<Transaction> {
  const mail = await client.command(`MAIL FROM:<${envelopeFrom}>`);
  if (mail.code !== 250) return { final: mail, step: "mail", accepted: false };
  let anyRecipient = false;
  let refusal: SmtpReply | undefined;
  for (const to of recipients) {
    const rcpt = await client.command(`RCPT TO:<${to}>`);
    if (rcpt.code === 250) anyRecipient = true;
    else refusal ??= rcpt;
  }
  if (!anyRecipient) return { final: refusal!, step: "rcpt", accepted: false };
  const sent = await client.data(data);
  return { final: sent, step: "data", accepted: sent.code === 250 };
}
