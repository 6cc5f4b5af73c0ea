/**
 * A minimal SMTP client (plain net/tls: EHLO, STARTTLS, AUTH PLAIN, MAIL,
 * RCPT, DATA) and a minimal receiving SMTP server that plays a mailbox
 * provider and captures what arrives, both on loopback, for
 * test/mta-e2e.test.ts. Strings are latin1 so one char is one octet.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";

export interface SmtpReply {
  code: number;
  lines: string[];
  /** All lines joined, for assertion messages. */
  text: string;
}

/** A line reader over a socket that can be swapped for its TLS upgrade. */
class Lines {
  private buffer = "";
  private waiters: ((line: string | Error) => void)[] = [];
  private queue: string[] = [];
  private failure: Error | undefined;

  attach(socket: Socket | TLSSocket): void {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf("\r\n")) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        const waiter = this.waiters.shift();
        if (waiter) waiter(line);
        else this.queue.push(line);
      }
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const w of this.waiters.splice(0)) w(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  next(timeoutMs: number): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no SMTP reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (line: string | Error) => {
        clearTimeout(timer);
        if (line instanceof Error) reject(line);
        else resolve(line);
      };
      this.waiters.push(waiter);
    });
  }
}

export class SmtpClient {
  private lines = new Lines();
  private constructor(private socket: Socket | TLSSocket) {
    this.lines.attach(socket);
  }

  /**
   * Connect to host:port (default 127.0.0.1) from `localAddress` (default: the kernel's choice) and read
   * the greeting; `implicitTls` for port 465-style services.
   */
  static async connect(
    port: number,
    options: { host?: string; localAddress?: string; implicitTls?: boolean; timeoutMs?: number } = {},
  ): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const host = options.host ?? "127.0.0.1";
    const local = options.localAddress ? { localAddress: options.localAddress } : {};
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = options.implicitTls
        ? tlsConnect({ port, host, ...local, rejectUnauthorized: false }, () => resolve(s))
        : netConnect({ port, host, ...local }, () => resolve(s));
      s.once("error", reject);
    });
    const client = new SmtpClient(socket);
    const greeting = await client.reply(options.timeoutMs);
    return { client, greeting };
  }

  async reply(timeoutMs = 20_000): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.lines.next(timeoutMs);
      lines.push(line);
      if (!/^\d{3}-/.test(line)) break;
    }
    return { code: Number(lines[lines.length - 1].slice(0, 3)), lines, text: lines.join("\n") };
  }

  async command(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`, "latin1");
    return this.reply(timeoutMs);
  }

  /** STARTTLS and switch to the TLS socket (the certificate is self-signed: not checked). */
  async starttls(servername: string): Promise<SmtpReply> {
    const reply = await this.command("STARTTLS");
    if (reply.code !== 220) return reply;
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, servername, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    this.socket = secure;
    this.lines = new Lines();
    this.lines.attach(secure);
    return reply;
  }

  /** AUTH PLAIN (RFC 4616) with the credentials in the initial response. */
  authPlain(user: string, password: string): Promise<SmtpReply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`, "utf8").toString("base64")}`);
  }

  /** Write raw bytes (for smuggling probes) and read one reply. */
  async raw(bytes: string, timeoutMs?: number): Promise<SmtpReply> {
    this.socket.write(bytes, "latin1");
    return this.reply(timeoutMs);
  }

  /** DATA, the message dot-stuffed with CRLF line ends, and the final reply (or the 354-refusal). */
  async data(message: string): Promise<SmtpReply> {
    const go = await this.command("DATA");
    if (go.code !== 354) return go;
    const body = message.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    this.socket.write(`${body.endsWith("\r\n") ? body : `${body}\r\n`}.\r\n`, "latin1");
    return this.reply(30_000);
  }

  async quit(): Promise<void> {
    try {
      await this.command("QUIT", 2_000);
    } catch {
      // the server may close first
    }
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One message as the receiving server saw it. */
export interface ReceivedMessage {
  remoteAddress: string;
  helo: string;
  mailFrom: string;
  rcptTo: string[];
  /** The message as transmitted, dot-stuffing undone, CRLF line ends. */
  data: string;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMessage[];
  /** Resolve with the first message whose data matches, waiting up to timeoutMs. */
  waitFor(match: (m: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  stop(): Promise<void>;
}

/**
 * A receiving MTA (no AUTH; STARTTLS only when given `at.tls`, a key and certificate) on `at.address:at.port` (default
 * 127.0.0.1, any port) that records each message and accepts every recipient, except
 * what `at.rcptReply` answers for a recipient (a provider's refusal, such as
 * "550 5.1.1 unknown user" or "452 4.2.2 mailbox full"), said at RCPT.
 */
export async function startSmtpReceiver(
  name = "mx.example.org",
  at: { address?: string; port?: number; rcptReply?: (recipient: string) => string | undefined; tls?: { key: string; cert: string } } = {},
): Promise<SmtpReceiver> {
  const messages: ReceivedMessage[] = [];
  const listeners = new Set<() => void>();
  const sockets = new Set<Socket>();
  /** One SMTP session on a socket; after STARTTLS, a fresh one on the TLS socket (RFC 3207: the client starts over with EHLO). */
  const session = (socket: Socket, greet: boolean, secure: boolean) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setEncoding("latin1");
    let buffer = "";
    let inData = false;
    let helo = "";
    let mailFrom = "";
    let rcptTo: string[] = [];
    const send = (line: string) => socket.write(`${line}\r\n`, "latin1");
    if (greet) send(`220 ${name} ESMTP test receiver`);
    const onData = (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.startsWith(".\r\n") ? 0 : buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          const raw = end === 0 ? "" : buffer.slice(0, end + 2);
          buffer = buffer.slice(end === 0 ? 3 : end + 5);
          inData = false;
          messages.push({ remoteAddress: socket.remoteAddress ?? "", helo, mailFrom, rcptTo, data: raw.replace(/^\.\./gm, ".") });
          rcptTo = [];
          mailFrom = "";
          send("250 2.0.0 Ok: queued");
          for (const l of listeners) l();
          continue;
        }
        const i = buffer.indexOf("\r\n");
        if (i < 0) return;
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") {
          helo = line.slice(5).trim();
          send(`250-${name}`);
          if (at.tls && !secure) send("250-STARTTLS");
          send("250-8BITMIME");
          send("250 SIZE 104857600");
        } else if (verb === "HELO") {
          helo = line.slice(5).trim();
          send(`250 ${name}`);
        } else if (line.toUpperCase() === "STARTTLS" && at.tls && !secure) {
          send("220 2.0.0 Ready to start TLS");
          socket.off("data", onData);
          const tls = new TLSSocket(socket, { isServer: true, key: at.tls.key, cert: at.tls.cert });
          session(tls as unknown as Socket, false, true);
          return;
        } else if (verb === "MAIL") {
          mailFrom = /<([^>]*)>/.exec(line)?.[1] ?? "";
          send("250 2.1.0 Ok");
        } else if (verb === "RCPT") {
          const recipient = /<([^>]*)>/.exec(line)?.[1] ?? "";
          const refusal = at.rcptReply?.(recipient);
          if (refusal) send(refusal);
          else {
            rcptTo.push(recipient);
            send("250 2.1.5 Ok");
          }
        } else if (verb === "DATA") {
          inData = true;
          send("354 End data with <CR><LF>.<CR><LF>");
        } else if (verb === "RSET") {
          mailFrom = "";
          rcptTo = [];
          send("250 2.0.0 Ok");
        } else if (verb === "NOOP") {
          send("250 2.0.0 Ok");
        } else if (verb === "QUIT") {
          send("221 2.0.0 Bye");
          socket.end();
        } else {
          send("502 5.5.2 Command not implemented");
        }
      }
    };
    socket.on("data", onData);
  };
  const server: Server = createServer((socket) => session(socket, true, false));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port ?? 0, at.address ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("receiver: no address");
  return {
    port: address.port,
    messages,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return false;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching message at the receiver within ${timeoutMs} ms (got ${messages.length})`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
