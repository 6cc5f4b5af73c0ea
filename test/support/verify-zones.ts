/**
 * Zones for the verify tests: the example prod stack's planned zones with the
 * DKIM placeholders replaced by real keys (what a deploy publishes), the
 * third-party zones its SPF includes and reverse DNS need, and small
 * hand-written zones, good and broken, for the --domain mode.
 */
import { generateKeyPairSync } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { quoteCharacterString, type DnsRecord } from "../../components/dns/model";
import { dkimPublicKeyBase64 } from "../../components/dns/protocols/dkim";
import { splitTxtValue } from "../../components/dns/txt";
import { renderZoneFile } from "../../components/dns/zonefile";
import { DKIM_KEY_PLACEHOLDER } from "../../components/captured-resource";
import type { Plan } from "../../cli/plan/plan";
import type { ZoneSource } from "./dns-tools";

const keyCache = new Map<string, string>();

/** A real public key for a DKIM record's k= (generated once per algorithm per test run). */
function realKey(algorithm: "rsa" | "ed25519"): string {
  let p = keyCache.get(algorithm);
  if (!p) {
    const { publicKey } =
      algorithm === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } })
        : generateKeyPairSync("ed25519", { publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    p = dkimPublicKeyBase64({ selector: "test", algorithm, publicKey });
    keyCache.set(algorithm, p);
  }
  return p;
}

/** The plan's records with every DKIM placeholder replaced by a real key of the same type. */
export function deployedRecords(records: readonly DnsRecord[]): DnsRecord[] {
  return records.map((r) => {
    if (r.type !== "TXT") return r;
    const value = r.strings.join("");
    if (!value.includes(DKIM_KEY_PLACEHOLDER)) return r;
    const algorithm = /k=ed25519/.test(value) ? "ed25519" : "rsa";
    return { ...r, strings: splitTxtValue(value.replace(DKIM_KEY_PLACEHOLDER, realKey(algorithm))) };
  });
}

/** A hand-written zone: SOA, NS with loopback glue, then `lines` (relative or absolute owner names). */
export function rawZone(apex: string, lines: string[]): ZoneSource {
  const text = [
    `$ORIGIN ${apex}.`,
    "$TTL 300",
    `@ 300 IN SOA ns1.${apex}. hostmaster.${apex}. 1 3600 900 1209600 300`,
    `@ 300 IN NS ns1.${apex}.`,
    `ns1 300 IN A 127.0.0.1`,
    ...lines,
    "",
  ].join("\n");
  return { apex, text };
}

/** A TXT line with the value split and quoted as a zone file needs. */
export function txt(owner: string, value: string): string {
  return `${owner} IN TXT ${splitTxtValue(value).map(quoteCharacterString).join(" ")}`;
}

/** A reverse zone for one IPv4 /24 with PTRs: `{ "10": "mx1.example.com" }`. */
export function reverseZone(prefix24: string, ptrs: Record<string, string>): ZoneSource {
  const apex = `${prefix24.split(".").reverse().join(".")}.in-addr.arpa`;
  const lines = Object.entries(ptrs).map(([last, name]) => `${last} IN PTR ${name}.`);
  // An in-addr.arpa apex cannot hold a host-name NS glue of its own: name the server elsewhere.
  const text = [`$ORIGIN ${apex}.`, "$TTL 300", `@ 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300`, `@ 300 IN NS ns1.example.com.`, ...lines, ""].join("\n");
  return { apex, text };
}

/** Third-party zones the prod plan's SPF includes resolve through. */
export function thirdPartyZones(): ZoneSource[] {
  return [
    rawZone("google.com", [txt("_spf", "v=spf1 include:_netblocks.google.com ~all"), txt("_netblocks", "v=spf1 ip4:192.0.2.0/24 ~all")]),
    rawZone("outlook.com", [txt("spf.protection", "v=spf1 ip4:192.0.2.128/25 -all")]),
    rawZone("amazonses.com", [txt("@", "v=spf1 ip4:192.0.2.200 -all")]),
  ];
}

/**
 * The prod plan's zones as a deploy publishes them, plus what they rely on:
 * the ESP include inside example.com, third-party includes, and reverse DNS
 * for the mail hosts. `edit` may change any zone's records before rendering.
 */
export function prodZones(plan: Plan, edit: (domain: string, records: DnsRecord[]) => DnsRecord[] = (_d, r) => r): ZoneSource[] {
  return plan.domains.map((d) => {
    const records = edit(d.domain, deployedRecords(d.records));
    const extra: DnsRecord[] =
      d.domain === "example.com" && !records.some((r) => r.name === "_spf.esp.example.com")
        ? [{ name: "_spf.esp.example.com", type: "TXT", ttl: 300, purpose: "other", strings: ["v=spf1 ip4:192.0.2.50 -all"] }]
        : [];
    return { apex: d.domain, text: renderZoneFile(d.domain, [...records, ...extra]) };
  });
}

/** A DNS "server" on loopback that takes UDP queries and TCP connections and never answers. */
export interface SilentServer {
  port: number;
  stop(): Promise<void>;
}

export async function startSilentServer(port: number): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, "127.0.0.1", resolve);
  });
  const udp: UdpSocket = createSocket("udp4");
  udp.on("message", () => undefined);
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, "127.0.0.1", resolve);
  });
  return {
    port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => udp.close(() => r()))]);
    },
  };
}

/** A minimal SMTP server on loopback: greets, answers EHLO with or without STARTTLS, says bye to QUIT. */
export interface SmtpTestServer {
  port: number;
  /** EHLO names it was greeted with. */
  ehlos: string[];
  stop(): Promise<void>;
}

export async function startSmtpServer(offerStartTls: boolean): Promise<SmtpTestServer> {
  const ehlos: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.setEncoding("latin1");
    socket.write("220 mx.test ESMTP ready\r\n");
    let buffer = "";
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let eol: number;
      while ((eol = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.split(" ")[0].toUpperCase();
        if (verb === "EHLO") {
          ehlos.push(line.slice(5));
          socket.write(["250-mx.test greets you", "250-PIPELINING", ...(offerStartTls ? ["250-STARTTLS"] : []), "250 8BITMIME", ""].join("\r\n"));
        } else if (verb === "QUIT") {
          socket.end("221 bye\r\n");
        } else {
          socket.write("502 not implemented\r\n");
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    ehlos,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
