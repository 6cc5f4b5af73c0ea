import { isIPv4 } from "node:net";

/**
 * DNS blocklists: whether receivers see a sending address as listed, read
 * with the care the lists ask for. Pure: the query names and the reading of
 * answers; callers ask the questions (verify --dnsbl; the host's daily check
 * builds on the same functions).
 *
 * A list's own error answers are "cannot tell", never "listed": Spamhaus
 * answers 127.255.255.254 to queries through public resolvers (Google,
 * Cloudflare, Quad9...) and 127.255.255.255 over its free quota, and a
 * resolver that cannot reach a list answers nothing. Only a 127.0.0.x
 * answer is a listing.
 */

/** One list: its zone, what it is, why receivers use it, and what its return codes mean. */
export interface Dnsbl {
  zone: string;
  name: string;
  /** Why this list: who queries it. */
  why: string;
  /** Meanings of its 127.0.0.x answers (others are a listing of a kind it does not document). */
  codes: Record<string, string>;
}

/**
 * The lists checked. Each is queried by SpamAssassin 4's default rules
 * (RCVD_IN_ZEN_*, RCVD_IN_BL_SPAMCOP_NET, RCVD_IN_PSBL, RCVD_IN_MSPIKE_BL) or,
 * for Barracuda, by Barracuda's appliances and many MTAs' defaults: a listing
 * on any of them costs deliveries. SORBS is gone (closed in 2024); UCEPROTECT
 * level 2/3 list whole networks for a neighbour's mail and are left out.
 */
export const DNSBLS: readonly Dnsbl[] = [
  {
    zone: "zen.spamhaus.org",
    name: "Spamhaus ZEN",
    why: "the most used list; Gmail, Microsoft and most filters consult Spamhaus",
    codes: {
      "127.0.0.2": "SBL: a spam source or spam operation",
      "127.0.0.3": "SBL CSS: low-reputation mail from this address",
      "127.0.0.4": "XBL: an exploited or infected host (CBL)",
      "127.0.0.5": "XBL: an exploited or infected host",
      "127.0.0.6": "XBL: an exploited or infected host",
      "127.0.0.7": "XBL: an exploited or infected host",
      "127.0.0.9": "DROP: a hijacked or criminal network",
      "127.0.0.10": "PBL (ISP): end-user address space that should not send mail directly",
      "127.0.0.11": "PBL (Spamhaus): end-user address space that should not send mail directly",
    },
  },
  { zone: "b.barracudacentral.org", name: "Barracuda BRBL", why: "queried by Barracuda's filters and many MTAs", codes: { "127.0.0.2": "listed for sending spam" } },
  { zone: "bl.spamcop.net", name: "SpamCop", why: "fed by user reports; queried by SpamAssassin's default rules", codes: { "127.0.0.2": "listed for reported spam" } },
  { zone: "psbl.surriel.com", name: "PSBL", why: "spam traps; queried by SpamAssassin's default rules", codes: { "127.0.0.2": "listed for mail to spam traps" } },
  { zone: "bl.mailspike.net", name: "Mailspike BL", why: "reputation from large receivers' traffic; queried by SpamAssassin's default rules", codes: { "127.0.0.2": "listed for poor reputation" } },
];

/** Spamhaus's (and Spamhaus-run lists') error answers: the query was not judged. */
const CANNOT_TELL: Record<string, string> = {
  "127.255.255.252": "the list says the query was malformed (a typing error in the list's name)",
  "127.255.255.254": "the list refuses queries through public or open resolvers (Google, Cloudflare, Quad9...): ask through your own resolver",
  "127.255.255.255": "the list says its free query quota is exceeded: use your own resolver, or a data-feed key",
};

/** The name to ask for an IPv4 address on a list: its octets reversed under the zone. */
export function dnsblQueryName(ip: string, zone: string): string | undefined {
  if (!isIPv4(ip)) return undefined;
  return `${ip.split(".").reverse().join(".")}.${zone}`;
}

/** What a list's answer says: listed (with what), clear, or cannot tell (and why). */
export type DnsblVerdict = { state: "listed" | "clear" | "unknown"; detail: string };

/** A list's answer read: `addresses` when the name resolved, `nxdomain` when it does not exist, `failure` otherwise. */
export function judgeDnsblAnswer(list: Dnsbl, answer: { addresses: string[] } | { nxdomain: true } | { failure: string }): DnsblVerdict {
  if ("nxdomain" in answer) return { state: "clear", detail: "not listed" };
  if ("failure" in answer) return { state: "unknown", detail: `no answer (${answer.failure}); cannot tell` };
  const errors = answer.addresses.filter((a) => CANNOT_TELL[a]);
  if (errors.length > 0) return { state: "unknown", detail: `${errors[0]}: ${CANNOT_TELL[errors[0]]}; cannot tell` };
  const listings = answer.addresses.filter((a) => a.startsWith("127.0.0."));
  if (listings.length > 0) return { state: "listed", detail: listings.map((a) => `${a} ${list.codes[a] ?? "listed (a code the list does not document)"}`).join("; ") };
  // Anything else (a wildcard, a dead zone's parking page) is no answer of the list's.
  return { state: "unknown", detail: `answered ${answer.addresses.join(", ")}, which is no answer of the list's (outside 127.0.0.0/24); cannot tell` };
}

/**
 * Public resolvers, by address: blocklists refuse them (Spamhaus) or ration them, so a check through
 * one says little. Google, Cloudflare, Quad9, OpenDNS, AdGuard, Cisco and Level3's well-known addresses.
 */
export const PUBLIC_RESOLVERS: readonly string[] = [
  "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844",
  "1.1.1.1", "1.0.0.1", "2606:4700:4700::1111", "2606:4700:4700::1001",
  "9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9",
  "208.67.222.222", "208.67.220.220",
  "94.140.14.14", "94.140.15.15",
  "4.2.2.1", "4.2.2.2",
];

/** True when a resolver address ("HOST" or "HOST:PORT", "[v6]:PORT") is a public one. */
export function isPublicResolver(server: string): boolean {
  const host = server.startsWith("[") ? server.slice(1, server.indexOf("]")) : server.split(":").length === 2 ? server.split(":")[0] : server;
  return PUBLIC_RESOLVERS.includes(host.toLowerCase());
}
