import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * RFC 8058 one-click unsubscribe, the application's half: the URL to put in
 * `List-Unsubscribe` for one recipient, which the mail host serves
 * (components/mta-host/unsubscribe.ts). The URL carries the recipient and a
 * MAC of it under the host's unsubscribe key (MailHost.unsubscribeKey, a
 * Pulumi secret), so nobody can unsubscribe an address they were not sent:
 *
 *   https://<host>/unsubscribe/<base64url(recipient)>.<base64url(HMAC-SHA256(key, recipient))[0..22]>
 *
 * The recipient is lower-cased first. A POST of `List-Unsubscribe=One-Click`
 * to it puts the recipient on the host's suppression list (reason
 * unsubscribe) within a minute; a GET shows a page with a button, and never
 * unsubscribes (link scanners fetch URLs). An application with its own
 * unsubscribe endpoint records an unsubscribe the same way: by POSTing that
 * body to this URL.
 */

/** The MAC's length in base64url characters: 22 characters, 132 bits. */
const MAC_LENGTH = 22;

function mac(key: string, recipient: string): string {
  return createHmac("sha256", key).update(recipient, "utf8").digest("base64url").slice(0, MAC_LENGTH);
}

/** The token of one recipient under the host's key. */
export function unsubscribeToken(key: string, recipient: string): string {
  const address = recipient.trim().toLowerCase();
  return `${Buffer.from(address, "utf8").toString("base64url")}.${mac(key, address)}`;
}

/** The recipient a token names, when its MAC is right under the key; undefined otherwise. */
export function recipientOfToken(key: string, token: string): string | undefined {
  const [encoded, given, ...rest] = token.split(".");
  if (!encoded || !given || rest.length > 0) return undefined;
  const address = Buffer.from(encoded, "base64url").toString("utf8");
  const expected = Buffer.from(mac(key, address));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? address : undefined;
}

/** The one-click URL of a recipient on a host. */
export function oneClickUnsubscribeUrl(hostname: string, key: string, recipient: string): string {
  return `https://${hostname}/unsubscribe/${unsubscribeToken(key, recipient)}`;
}

/**
 * The two header fields RFC 8058 asks for (the host's DKIM signs both): the URL, and the
 * one-click marker. A `mailto:` may be added to List-Unsubscribe for clients without HTTPS.
 */
export function oneClickUnsubscribeHeaders(hostname: string, key: string, recipient: string): { "List-Unsubscribe": string; "List-Unsubscribe-Post": string } {
  return { "List-Unsubscribe": `<${oneClickUnsubscribeUrl(hostname, key, recipient)}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
