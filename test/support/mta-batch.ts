/**
 * A batch of submissions as an application sends it: N messages from the
 * lab's application address, C sessions at a time, one fresh session
 * (STARTTLS, AUTH, MAIL, RCPT, DATA) per message; and the check of what the
 * receiving MTA got. Shared by the load benchmark and the fault test.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Credential } from "./mta-e2e-fixture";
import { message, submit } from "./mta-lab-clients";
import type { ReceivedMessage, SmtpReceiver } from "./mta-e2e-smtp";

export interface BatchOptions {
  count: number;
  concurrency: number;
  credential: Credential;
  envelopeFrom: string;
  recipient: string;
  /**
   * Retry a message whose session failed temporarily (a 4xx, or the
   * connection refused or dropped), as an application's mail library does,
   * up to this many milliseconds after its first try. Default 0: no retry.
   */
  retryForMs?: number;
  /** Called after every session, with the message index and whether it was accepted. */
  onAttempt?: (index: number, accepted: boolean, at: number) => void;
  /** Stop taking new messages once this returns true (messages already started still finish). */
  stopWhen?: () => boolean;
}

export interface BatchResult {
  /** The Message-IDs of every message started. */
  ids: string[];
  /** Message-IDs the host answered 250 to. */
  accepted: Set<string>;
  /** Refusals that were not retried (5xx, or retries ran out). */
  failures: string[];
  attempts: number;
  startedAt: number;
  endedAt: number;
}

export async function submitBatch(o: BatchOptions): Promise<BatchResult> {
  const run = randomBytes(4).toString("hex");
  const ids = Array.from({ length: o.count }, (_, i) => `batch-${run}-${i}@${o.envelopeFrom.split("@")[1]}`);
  const accepted = new Set<string>();
  const failures: string[] = [];
  let attempts = 0;
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency, o.count) }, async () => {
      while (next < o.count && !o.stopWhen?.()) {
        const i = next++;
        const first = performance.now();
        for (;;) {
          attempts++;
          const m = message({ from: `App <${o.envelopeFrom}>`, to: `Bob <${o.recipient}>`, subject: `Batch ${i}`, id: ids[i] });
          let outcome: { accepted: boolean; temporary: boolean; why: string };
          try {
            const t = await submit({ credential: o.credential, envelopeFrom: o.envelopeFrom, recipients: [o.recipient], data: m.text });
            outcome = { accepted: t.accepted, temporary: t.final.code >= 400 && t.final.code < 500, why: `${t.step}: ${t.final.text}` };
          } catch (error) {
            outcome = { accepted: false, temporary: true, why: (error as Error).message };
          }
          o.onAttempt?.(i, outcome.accepted, performance.now());
          if (outcome.accepted) {
            accepted.add(ids[i]);
            break;
          }
          if (!outcome.temporary || performance.now() - first > (o.retryForMs ?? 0)) {
            failures.push(`#${i}: ${outcome.why}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
  return { ids: ids.slice(0, next), accepted, failures, attempts, startedAt, endedAt: performance.now() };
}

export const messageIdOf = (data: string): string | undefined => /^Message-ID:[ \t]*<([^>\r\n]*)>/im.exec(data)?.[1];

/** DKIM-Signature header fields of a message (the header section only). */
export function dkimSignatureCount(data: string): number {
  const headerEnd = data.indexOf("\r\n\r\n");
  return (headerEnd < 0 ? data : data.slice(0, headerEnd)).match(/^DKIM-Signature:/gim)?.length ?? 0;
}

export interface Arrivals {
  /** Message-ID → copies received. */
  copies: Map<string, number>;
  /** Messages of the batch with fewer DKIM signatures than expected. */
  underSigned: string[];
  lost: string[];
  duplicates: number;
  lastArrival: number;
}

/** Wait (bounded) until the receiver has every accepted message, then count copies and signatures. */
export async function collectArrivals(receiver: SmtpReceiver, batch: BatchResult, expectedSignatures: number, waitMs: number, arrivalTimes?: Map<ReceivedMessage, number>): Promise<Arrivals> {
  const wanted = new Set(batch.ids);
  const ofBatch = () => receiver.messages.filter((m) => wanted.has(messageIdOf(m.data) ?? ""));
  const deadline = performance.now() + waitMs;
  while (new Set(ofBatch().map((m) => messageIdOf(m.data))).size < batch.accepted.size && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // A short grace period, so a late duplicate would still be seen.
  await new Promise((r) => setTimeout(r, 500));
  const copies = new Map<string, number>();
  const underSigned: string[] = [];
  let lastArrival = batch.startedAt;
  for (const m of ofBatch()) {
    const id = messageIdOf(m.data)!;
    copies.set(id, (copies.get(id) ?? 0) + 1);
    if (dkimSignatureCount(m.data) < expectedSignatures) underSigned.push(`${id}: ${dkimSignatureCount(m.data)} DKIM-Signature header(s)`);
    lastArrival = Math.max(lastArrival, arrivalTimes?.get(m) ?? lastArrival);
  }
  return {
    copies,
    underSigned,
    lost: [...batch.accepted].filter((id) => !copies.has(id)),
    duplicates: [...copies.values()].reduce((n, c) => n + c - 1, 0),
    lastArrival,
  };
}

/** Stamp each message the receiver records with its arrival time. */
export function stampArrivals(receiver: SmtpReceiver): Map<ReceivedMessage, number> {
  const times = new Map<ReceivedMessage, number>();
  const push = receiver.messages.push.bind(receiver.messages);
  receiver.messages.push = (...items: ReceivedMessage[]) => {
    for (const item of items) times.set(item, performance.now());
    return push(...items);
  };
  return times;
}
