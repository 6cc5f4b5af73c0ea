/**
 * Hard or soft: whether a delivery result says the recipient cannot receive
 * (suppress it) or that this attempt failed for a reason that may pass
 * (retry; never suppress). Read from the enhanced status code (RFC 3463,
 * and RFC 7505 for null MX), the reply text when the code is vague or wrong,
 * and the DSN's Action. The remote text is kept whole beside the verdict.
 *
 * Soft though permanent in code, as Amazon SES and the bounce classifiers
 * (Sisimai) treat them: a full mailbox (the owner may empty it), a message
 * too large (the next one may fit), a refusal for the sender's reputation or
 * content (spam, blocklists, policy), a protocol error, and a permanent
 * failure whose reason cannot be read: those say nothing sure about the
 * recipient, and suppressing them would drop good addresses.
 */

export type BounceReason =
  | "unknown-user"
  | "no-such-domain"
  | "null-mx"
  | "mailbox-disabled"
  | "mailbox-full"
  | "message-too-large"
  | "greylisted"
  | "rate-limited"
  | "policy-block"
  | "protocol-error"
  | "expired"
  | "network"
  | "other";

/** One result judged: hard (the recipient cannot receive) or soft, and why. */
export interface BounceVerdict {
  kind: "hard" | "soft";
  reason: BounceReason;
}

/** Reasons that say the recipient cannot receive: the ones a suppression list keeps. */
export const HARD_REASONS: readonly BounceReason[] = ["unknown-user", "no-such-domain", "null-mx", "mailbox-disabled"];

const TEXT_RULES: [RegExp, BounceReason][] = [
  // Rate limits first: they are said at any stage, and mean "later", whatever the code.
  [/rate limit|too many (connections|messages|recipients|emails)|throttl|sending rate|unusual rate|at a rate that|4\.7\.28\b|try again later, closing connection/i, "rate-limited"],
  // Refused before the recipient was named, or for the message: about the sender or its mail, never the recipient.
  [/after (initial connection|MAIL FROM|end of data|DATA)\b|in reply to (MAIL FROM|end of DATA|DATA)\b|sender address rejected|domain of sender|sender (domain|address) (is )?(invalid|unknown|not)/i, "policy-block"],
  // Our reputation, address, TLS or content, before any recipient reading: "Recipient address rejected: your IP is
  // listed" is about us. A receiver's words on the sender never make a recipient hard.
  [/spam|block(ed)?\b|block ?list|black ?list|listed (at|in|on|by)|reputation|policy|not authorized|unauthenticated|dmarc|\bspf\b|dkim|reverse dns|\bptr\b|your (ip|address|host|server|domain)|client host|tls required|virus|malware|content rejected|not verified/i, "policy-block"],
  [/\bnull MX\b|5\.1\.10\b|does not accept (e-?)?mail/i, "null-mx"],
  [/mailbox (is )?full|over ?quota|quota (exceeded|full)|exceeded (the )?storage|insufficient (system )?storage|mailbox size limit|out of storage/i, "mailbox-full"],
  [/grey-?list|gray-?list|try again (later|in \d+)|temporarily deferred|please retry/i, "greylisted"],
  [/malformed or unexpected name server reply|servfail|temporary (dns|lookup) failure|dns (lookup )?(error|failure|timeout)|host not found, try again/i, "network"],
  [/failing for a long time|did not accept our requests to connect|could not be delivered within|retry timeout exceeded/i, "expired"],
  [/protocol violation|command parameter not implemented|improper sequence|syntax error|command not (recognized|implemented)|5\.5\.\d+\b/i, "protocol-error"],
  [/(message|mail) (size )?(is )?(too (big|large)|exceeds)|size limit|5\.3\.4\b|message length exceeds/i, "message-too-large"],
  // Hard reasons name the recipient: a user, mailbox, account or address that does not exist or is closed.
  [/(account|mailbox|user|address)\b[^.;]{0,40}\b(disabled|deactivated|inactive|suspended|closed|locked)|(disabled|deactivated|inactive|suspended) (account|mailbox|user)|5\.2\.1\b/i, "mailbox-disabled"],
  [
    /user (is )?unknown|unknown (user|recipient|mailbox|local part)|no such (user|mailbox|recipient|person)|(user|mailbox|recipient|address|account)( name)?( that you tried to reach)? (does not|doesn't) exist|invalid (recipient|mailbox)|not a valid (mailbox|recipient)|mailbox not found|recipient not found|user not found|undeliverable address|5\.1\.1\b/i,
    "unknown-user",
  ],
  [/host (or domain name )?not found|domain (not found|does not exist)|no such domain|unrouteable|unroutable|name service error|host unknown|unknown host|5\.1\.2\b|5\.4\.4\b/i, "no-such-domain"],
  [/expired|retry time|delivery time|4\.4\.7\b|too long/i, "expired"],
  [/connection (timed out|refused|reset)|network|4\.4\.[12]\b|lost connection/i, "network"],
];

/** Judge one recipient's result from its status code, reply text and Action. */
export function classifyBounce(result: { status?: string; diagnostic?: string; action?: string }): BounceVerdict {
  const status = result.status;
  const text = `${result.diagnostic ?? ""} ${status ?? ""}`;
  const permanent = status ? status.startsWith("5") : result.action === "failed";
  // The code's own subject and detail first, where they are precise.
  const byCode = status ? reasonOfStatus(status) : undefined;
  const byText = TEXT_RULES.find(([pattern]) => pattern.test(text))?.[1];
  const reason = pickReason(byCode, byText, permanent);
  // Hard only for what says the recipient cannot receive: a permanent failure for a reason not read
  // ("554 Transaction failed") is soft, counted and retried by the application, never suppressed.
  const kind = permanent && HARD_REASONS.includes(reason) ? "hard" : "soft";
  return { kind, reason };
}

function reasonOfStatus(status: string): BounceReason | undefined {
  const [, subject, detail] = status.split(".").map(Number);
  if (subject === 1 && detail === 10) return "null-mx";
  if (subject === 1 && (detail === 1 || detail === 3 || detail === 6)) return "unknown-user";
  // x.1.7 and x.1.8: the sender's address is bad, not the recipient's.
  if (subject === 1 && (detail === 7 || detail === 8)) return "policy-block";
  if (subject === 5) return "protocol-error";
  if (subject === 1 && detail === 2) return "no-such-domain";
  if (subject === 2 && detail === 1) return "mailbox-disabled";
  if (subject === 2 && detail === 2) return "mailbox-full";
  if ((subject === 2 || subject === 3) && detail === 4) return "message-too-large";
  if (subject === 4 && detail === 4) return "no-such-domain";
  if (subject === 4 && detail === 7) return "expired";
  if (subject === 4 && (detail === 1 || detail === 2)) return "network";
  // 4.7.28 is Gmail's "unusual rate of unsolicited mail": a rate limit.
  if (subject === 7 && detail === 28) return "rate-limited";
  if (subject === 7) return "policy-block";
  return undefined;
}

/**
 * Where code and text disagree, the text wins when the code is generic
 * (x.0.0, or no reason read from it), and for the soft reasons servers often
 * code 5.x.x anyway (a full mailbox sent as 550, greylisting as 450 4.7.1).
 */
function pickReason(byCode: BounceReason | undefined, byText: BounceReason | undefined, permanent: boolean): BounceReason {
  if (!byCode) return byText ?? "other";
  if (!byText || byText === byCode) return byCode;
  const softText: BounceReason[] = ["mailbox-full", "greylisted", "rate-limited", "message-too-large", "network", "protocol-error", "expired"];
  if (softText.includes(byText)) return byText;
  // Refused for the sender, its reputation or its mail (the text says so): never the recipient, whatever the code.
  if (byText === "policy-block") return byText;
  // A 5.7.x is a policy refusal: its text never makes it hard, so a block of our reputation cannot suppress.
  if (byCode === "policy-block") return byCode;
  // A permanent "user unknown" under a vaguer or wrong code (Microsoft's 5.4.1 "Recipient address rejected:
  // Access denied", a bare 5.0.0): the recipient is unknown.
  if (permanent && HARD_REASONS.includes(byText) && !HARD_REASONS.includes(byCode) && byCode !== "mailbox-full") return byText;
  return byCode;
}
