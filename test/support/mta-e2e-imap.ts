/**
 * A minimal IMAPS client over node:tls for test/mta-e2e.test.ts: LOGIN,
 * SELECT INBOX, FETCH n BODY[] (RFC 9051 literals), LOGOUT. The server's
 * certificate is self-signed and not checked. Strings are latin1 (one char,
 * one octet) so literal lengths count right.
 */
import { connect, type TLSSocket } from "node:tls";

export interface ImapResponse {
  /** The tagged status: OK, NO or BAD. */
  status: string;
  /** Everything the server sent for the command, tagged line included. */
  text: string;
}

export class ImapClient {
  private buffer = "";
  private tag = 0;
  private wake: (() => void) | undefined;
  private closed: Error | undefined;

  private constructor(private socket: TLSSocket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      this.wake?.();
    });
    const fail = (error: Error) => {
      this.closed = error;
      this.wake?.();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("IMAP connection closed")));
  }

  static async connect(port: number, servername: string, at: { host?: string; localAddress?: string } = {}): Promise<{ client: ImapClient; greeting: string }> {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect(
        { port, host: at.host ?? "127.0.0.1", ...(at.localAddress ? { localAddress: at.localAddress } : {}), servername, rejectUnauthorized: false },
        () => resolve(s),
      );
      s.once("error", reject);
    });
    const client = new ImapClient(socket);
    const greeting = await client.until((b) => /^\* (OK|BYE|PREAUTH)[^\r]*\r\n/.exec(b)?.[0]);
    return { client, greeting };
  }

  /** Wait until `extract` finds something in the buffer; consume up to the end of it. */
  private async until(extract: (buffer: string) => string | undefined, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = extract(this.buffer);
      if (found !== undefined) {
        this.buffer = this.buffer.slice(this.buffer.indexOf(found) + found.length);
        return found;
      }
      if (this.closed) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`IMAP: no complete response within ${timeoutMs} ms; got:\n${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  /** Send a command; resolve with all output up to and including its tagged status line (literals skipped over by length). */
  async command(command: string): Promise<ImapResponse> {
    const tag = `a${++this.tag}`;
    this.socket.write(`${tag} ${command}\r\n`, "latin1");
    const text = await this.until((b) => {
      let i = 0;
      while (i < b.length) {
        const end = b.indexOf("\r\n", i);
        if (end < 0) return undefined;
        const line = b.slice(i, end);
        const literal = /\{(\d+)\}$/.exec(line);
        if (literal) {
          i = end + 2 + Number(literal[1]);
          if (i > b.length) return undefined;
          continue;
        }
        if (line.startsWith(`${tag} `)) return b.slice(0, end + 2);
        i = end + 2;
      }
      return undefined;
    });
    const status = new RegExp(`(?:^|\\r\\n)${tag} (OK|NO|BAD)`).exec(text)?.[1] ?? "?";
    return { status, text };
  }

  /** IMAP quoted string. */
  static quote(value: string): string {
    return `"${value.replace(/(["\\])/g, "\\$1")}"`;
  }

  login(user: string, password: string): Promise<ImapResponse> {
    return this.command(`LOGIN ${ImapClient.quote(user)} ${ImapClient.quote(password)}`);
  }

  /** FETCH n BODY[]: the message's octets (the first literal in the response). */
  async fetchBody(n: number): Promise<{ response: ImapResponse; body: string | undefined }> {
    const response = await this.command(`FETCH ${n} BODY[]`);
    const m = /BODY\[\] \{(\d+)\}\r\n/.exec(response.text);
    const body = m ? response.text.substr(m.index + m[0].length, Number(m[1])) : undefined;
    return { response, body };
  }

  async logout(): Promise<void> {
    try {
      this.socket.write(`a${++this.tag} LOGOUT\r\n`);
    } finally {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    }
  }
}
