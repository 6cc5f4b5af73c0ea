/**
 * The mail lab: the network the mail-host tests run in. As root, `npm test`
 * (and `npm run bench:mta`) runs the whole suite inside a private network and
 * mount namespace made by test/support/lab-run.ts, so nothing a test starts is
 * reachable from, or reaches, anything outside it. In there, the loopback
 * interface carries these addresses too, from 198.18.0.0/15 (RFC 2544's range
 * for benchmark networks, never routed), and /etc/resolv.conf names the lab's
 * DNS server, so Postfix finds MX hosts by DNS exactly as on the internet:
 *
 * - the mail host listens on MAIL_HOST (its A record in the lab's zones);
 * - an application submits from APPLICATION, an ordinary address of the
 *   submission network: not loopback, not in mynetworks, exempt from nothing;
 * - a stranger connects from STRANGER, in none of the host's networks, and a
 *   TLS scanner from SCANNER;
 * - knotd answers on DNS_SERVER:53 (the resolver in the lab's resolv.conf), and
 *   as the root on every ROOT_SERVERS address, port 53, for resolvers that recurse themselves;
 * - receiving MTAs that play mailbox providers listen on RECEIVERS[n]:25.
 */
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** The root servers' addresses in dns-root-data's root.hints (a dependency of libunbound, so of OpenDKIM). */
function rootServerAddresses(): string[] {
  let hints = "";
  try {
    hints = readFileSync("/usr/share/dns/root.hints", "utf8");
  } catch {
    // No dns-root-data: the lab then has no root, and tests that need one say so.
  }
  return [...hints.matchAll(/^\S+\s+\d+\s+(?:A|AAAA)\s+(\S+)$/gm)].map((m) => m[1]);
}

export const LAB = {
  MAIL_HOST: "198.18.0.1",
  APPLICATION: "198.18.0.2",
  STRANGER: "198.18.0.3",
  /** A TLS scanner somewhere on the internet (its own address, so its many handshakes meet their own limits). */
  SCANNER: "198.18.0.4",
  DNS_SERVER: "198.18.0.53",
  /**
   * Every root server's address (IPv4 and IPv6, from dns-root-data's root.hints, the list
   * libunbound is built with): a resolver that recurses from the root itself (OpenDKIM's
   * libunbound does, not reading resolv.conf) finds the lab's root at whichever it asks first,
   * and that root delegates every lab top-level domain to DNS_SERVER.
   */
  ROOT_SERVERS: rootServerAddresses(),
  RECEIVERS: ["198.18.0.25", "198.18.0.26", "198.18.0.27", "198.18.0.28"],
} as const;

/** Every address lab-run.ts puts on the lab's loopback interface. */
export const LAB_ADDRESSES: readonly string[] = [LAB.MAIL_HOST, LAB.APPLICATION, LAB.STRANGER, LAB.SCANNER, LAB.DNS_SERVER, ...LAB.ROOT_SERVERS, ...LAB.RECEIVERS];

/** Set by lab-run.ts inside the lab. */
export const LAB_ENV = "POSTFORGE_LAB";

/** True inside the lab: the environment says so and the lab's addresses are this machine's. */
export function inLab(): boolean {
  if (process.env[LAB_ENV] !== "1") return false;
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  return LAB_ADDRESSES.every((a) => local.has(a));
}

/** Fails with what to do when a test that needs the lab runs outside it. */
export function requireLab(what: string): void {
  if (!inLab()) {
    throw new Error(
      `${what} runs in the mail lab (a private network namespace with the addresses of test/support/lab.ts): run it as root through \`npm test\` or \`npm run test:lab -- <file>\``,
    );
  }
}
