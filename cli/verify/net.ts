import type * as https from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import type { Fetched, SmtpProbeResult } from "./checks/tls";
// TLS and HTTP load when a probe gets that far: most of a verify run's SMTP probes end at the TCP connect.
const tls = () => require("node:tls") as typeof import("node:tls");
const httpClient = (url: string) => (url.startsWith("http:") ? require("node:http") : require("node:https")) as typeof import("node:https");

/**
 * The non-DNS network probes of `verify`: an SMTP EHLO (and, with --tls, a
 * STARTTLS handshake) on each MX host, and the MTA-STS policy fetch. Each has
 * one overall deadline, after which the socket is destroyed: nothing here can
 * hang verify.
 */

export interface SmtpProbeOptions {
  /** 25 in real use; tests point it at a loopback server. */
  port: number;
  timeoutMs: number;
  /** Upgrade with STARTTLS and check the certificate against the host name. */
  tls: boolean;
  /** Name sent in EHLO. */
  ehloName: string;
  /** Extra TLS options (tests pass a CA for their own certificate). */
  tlsOptions?: ConnectionOptions;
}

/** Reads SMTP replies (RFC 5321 §4.2: "250-..." continues, "250 ..." ends) from a socket. */
class ReplyReader {
  private buffer = "";
  private lines: string[] = [];
  private waiting?: (reply: { code: number; lines: string[] }) => void;

  constructor(socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      this.drain();
    });
  }

  next(): Promise<{ code: number; lines: string[] }> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.drain();
    });
  }

  private drain(): void {
    let eol: number;
    while (this.waiting && (eol = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, eol).replace(/\r$/, "");
      this.buffer = this.buffer.slice(eol + 1);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), lines: this.lines.map((l) => l.slice(4)) };
        this.lines = [];
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(reply);
      }
    }
  }
}

/** Connect to `address`:port as MX `host`, read the greeting, send EHLO, list the extensions. */
export async function probeSmtp(host: string, address: string, options: SmtpProbeOptions): Promise<SmtpProbeResult> {
  const target = `${address.includes(":") ? `[${address}]` : address}:${options.port}`;
  const sockets: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<SmtpProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ target, error: `no complete SMTP answer within ${options.timeoutMs} ms` }), options.timeoutMs);
  });
  const conversation = async (): Promise<SmtpProbeResult> => {
    const socket = netConnect({ host: address, port: options.port });
    sockets.push(socket);
    const closed = new Promise<SmtpProbeResult>((resolve) => {
      socket.on("error", (error) => resolve({ target, error: (error as NodeJS.ErrnoException).code ?? error.message }));
      socket.on("close", () => resolve({ target, error: "connection closed by the server" }));
    });
    const reader = new ReplyReader(socket);
    const exchange = async (): Promise<SmtpProbeResult> => {
      const greeting = await reader.next();
      if (greeting.code !== 220) return { target, error: `greeting was "${greeting.code} ${greeting.lines.join(" ")}", not 220` };
      socket.write(`EHLO ${options.ehloName}\r\n`);
      const ehlo = await reader.next();
      if (ehlo.code !== 250) return { target, error: `EHLO answered "${ehlo.code} ${ehlo.lines.join(" ")}"` };
      const extensions = ehlo.lines.slice(1).map((l) => l.split(" ")[0].toUpperCase());
      if (!options.tls || !extensions.includes("STARTTLS")) {
        socket.end("QUIT\r\n");
        return { target, extensions };
      }
      socket.write("STARTTLS\r\n");
      const ready = await reader.next();
      if (ready.code !== 220) {
        socket.end("QUIT\r\n");
        return { target, extensions, certificate: { ok: false, message: `STARTTLS answered "${ready.code} ${ready.lines.join(" ")}"` } };
      }
      socket.removeAllListeners("data");
      return { target, extensions, certificate: await handshake(socket, host, options, sockets) };
    };
    return Promise.race([exchange(), closed]);
  };
  try {
    return await Promise.race([conversation(), deadline]);
  } finally {
    clearTimeout(timer);
    // Outermost first: destroying the TCP socket under a live TLS socket pulls the
    // handle from Node's TLS wrap, which crashed the process (SIGSEGV) in tests.
    for (const s of [...sockets].reverse()) s.destroy();
  }
}

function handshake(socket: Socket, host: string, options: SmtpProbeOptions, sockets: Socket[]): Promise<NonNullable<SmtpProbeResult["certificate"]>> {
  return new Promise((resolve) => {
    const secure: TLSSocket = tls().connect({ ...options.tlsOptions, socket, servername: host, rejectUnauthorized: false });
    sockets.push(secure);
    secure.on("error", (error) => resolve({ ok: false, message: `TLS handshake failed: ${error.message}` }));
    secure.on("secureConnect", () => {
      const cert = secure.getPeerCertificate();
      const subject = String(cert?.subject?.CN ?? "(no subject CN)");
      const identity = tls().checkServerIdentity(host, cert);
      if (identity) resolve({ ok: false, message: identity.message });
      else if (!secure.authorized) resolve({ ok: false, message: `not trusted: ${String(secure.authorizationError)}` });
      else resolve({ ok: true, subject });
      secure.end();
    });
  });
}

export interface PolicyFetchOptions {
  timeoutMs: number;
  /** Where to fetch; https://mta-sts.<domain>/.well-known/mta-sts.txt unless a test says otherwise. */
  url?: string;
  /** Connect to this address (mta-sts.<domain> as verify's resolver answered it) instead of asking the system resolver; the name stays the SNI, Host and certificate identity. */
  address?: string;
  /** 443 unless a test says otherwise. */
  port?: number;
  tlsOptions?: https.RequestOptions;
}

const POLICY_MAX_BYTES = 64 * 1024;

/** Fetch an MTA-STS policy the way RFC 8461 §3.3 says senders do: no redirects, text/plain, valid certificate. */
export function fetchMtaStsPolicy(domain: string, options: PolicyFetchOptions): Promise<Fetched> {
  const url = options.url ?? `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
  const client = httpClient(url);
  return new Promise<Fetched>((resolve) => {
    const timer = setTimeout(() => {
      request.destroy();
      resolve({ ok: false, message: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    const done = (result: Fetched) => {
      clearTimeout(timer);
      resolve(result);
    };
    const parsed = new URL(url);
    // With an address, the URL's name must not reach Node's request (its hostname would win over the address, and
    // the system resolver would be asked): connect to the address, and keep the name as SNI, Host and identity.
    const target: https.RequestOptions =
      options.address === undefined
        ? { ...options.tlsOptions, ...(options.port === undefined ? {} : { port: options.port }) }
        : { ...options.tlsOptions, hostname: options.address, port: options.port ?? 443, path: parsed.pathname, servername: parsed.hostname, headers: { Host: parsed.hostname } };
    const request = options.address === undefined ? client.get(url, target, onResponse) : client.get(target, onResponse);
    function onResponse(response: import("node:http").IncomingMessage): void {
      const status = response.statusCode ?? 0;
      const type = String(response.headers["content-type"] ?? "");
      if (status >= 300 && status < 400) {
        response.resume();
        return done({ ok: false, message: `HTTP ${status} redirect; RFC 8461 §3.3 forbids following redirects` });
      }
      if (status !== 200) {
        response.resume();
        return done({ ok: false, message: `HTTP ${status}` });
      }
      if (!/^text\/plain\b/i.test(type)) {
        response.resume();
        return done({ ok: false, message: `Content-Type is "${type}", not text/plain (RFC 8461 §3.3)` });
      }
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
        if (body.length > POLICY_MAX_BYTES) request.destroy(new Error(`policy larger than ${POLICY_MAX_BYTES} bytes`));
      });
      response.on("end", () => done({ ok: true, text: body }));
      response.on("error", (error) => done({ ok: false, message: error.message }));
    }
    request.on("error", (error) => done({ ok: false, message: error.message }));
  });
}
