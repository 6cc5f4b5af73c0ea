/**
 * What a TLS service accepts, probed the way testssl.sh and sslscan do it:
 * one handshake per protocol version, and one per TLS 1.2 cipher suite
 * offering only that suite, each on a fresh connection from `localAddress`
 * (STARTTLS for SMTP on 25 and 587, implicit TLS otherwise). Node's TLS runs
 * at @SECLEVEL=0 with TLS 1.0 allowed, so the client's own policy cannot
 * hide what the server would accept. (sslscan and testssl.sh cannot choose
 * their source address, and the submission ports answer only the
 * submission networks.)
 */
import { execFile } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, getCiphers, type SecureVersion } from "node:tls";

/**
 * A strong TLS 1.2 suite, judged by what it is rather than by the list the
 * renderer configures (which would only compare production with itself):
 * forward-secret key exchange (ECDHE, DHE), certificate authentication and an
 * AEAD cipher (AES-GCM, CHACHA20-POLY1305), as Mozilla's intermediate profile
 * (https://wiki.mozilla.org/Security/Server_Side_TLS) requires.
 */
const STRONG_TLS12_SUITE = /^(?:ECDHE-(?:RSA|ECDSA)|DHE-RSA)-(?:AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/;

export interface TlsProbe {
  /** Versions a handshake succeeded with, oldest first. */
  protocols: string[];
  /** TLS 1.2 suites accepted that are not forward-secret AEAD suites (Mozilla intermediate). */
  weakCiphers: string[];
  /** Accepted suites without authentication (aNULL). */
  anonymousCiphers: string[];
  /** Every accepted TLS 1.2 suite (OpenSSL names). */
  accepted: string[];
  raw: string;
}

/** A plain connection, through EHLO and STARTTLS when the port speaks SMTP first. */
async function plainSocket(host: string, port: number, localAddress: string): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = netConnect({ host, port, localAddress }, () => resolve(s));
    s.once("error", reject);
  });
  if (port !== 25 && port !== 587) return socket;
  let buffer = "";
  const waitFor = (code: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${code} from ${host}:${port}: ${buffer}`)), 10_000);
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString("latin1");
        if (new RegExp(`(^|\\r\\n)${code} [^\\r\\n]*\\r\\n$`).test(buffer)) {
          clearTimeout(timer);
          socket.off("data", onData);
          buffer = "";
          resolve();
        } else if (/(^|\r\n)[45]\d\d [^\r\n]*\r\n$/.test(buffer)) {
          clearTimeout(timer);
          socket.off("data", onData);
          reject(new Error(`${host}:${port} refused: ${buffer}`));
        }
      };
      socket.on("data", onData);
    });
  await waitFor("220");
  socket.write("EHLO probe.lab.example\r\n");
  await waitFor("250");
  socket.write("STARTTLS\r\n");
  await waitFor("220");
  return socket;
}

async function handshake(host: string, port: number, localAddress: string, options: { minVersion: SecureVersion; maxVersion: SecureVersion; ciphers?: string }): Promise<string | undefined> {
  const socket = await plainSocket(host, port, localAddress);
  return new Promise((resolve) => {
    let secure: ReturnType<typeof tlsConnect>;
    try {
      secure = tlsConnect({
      socket,
      servername: "mail.example.com",
      rejectUnauthorized: false,
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      ciphers: `${options.ciphers ?? "ALL:COMPLEMENTOFALL"}:@SECLEVEL=0`,
      });
    } catch {
      // This client cannot offer the suite at all (not built in): nothing learnt about the server.
      socket.destroy();
      return resolve(undefined);
    }
    const done = (result: string | undefined) => {
      secure.destroy();
      socket.destroy();
      resolve(result);
    };
    secure.once("secureConnect", () => done(secure.getCipher().name));
    secure.once("error", () => done(undefined));
    secure.setTimeout(10_000, () => done(undefined));
  });
}

function opensslCiphers(spec: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile("openssl", ["ciphers", "-tls1_2", spec], { env: { ...process.env, OPENSSL_CONF: "/dev/null" } }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim().split(":").filter(Boolean));
    });
  });
}

/** `suites`: the OpenSSL cipher string whose TLS 1.2 suites are tried one by one (default: all of them). */
export async function tlsProbe(host: string, port: number, localAddress: string, suitesSpec = "ALL:COMPLEMENTOFALL"): Promise<TlsProbe> {
  const protocols: string[] = [];
  let raw = "";
  for (const version of ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const) {
    const cipher = await handshake(host, port, localAddress, { minVersion: version, maxVersion: version });
    raw += `${version}: ${cipher ?? "refused"}\n`;
    if (cipher) protocols.push(version);
  }
  // Every TLS 1.2-and-older suite this OpenSSL knows (Node lists them lower-case).
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const suites = (await opensslCiphers(`${suitesSpec}:@SECLEVEL=0`)).filter((c) => known.has(c));
  const accepted: string[] = [];
  for (const suite of suites) {
    if (await handshake(host, port, localAddress, { minVersion: "TLSv1", maxVersion: "TLSv1.2", ciphers: suite })) accepted.push(suite);
  }
  raw += `TLS 1.2 suites tried: ${suites.length}; accepted: ${accepted.join(" ")}\n`;
  const anonymous = new Set(await opensslCiphers("aNULL:@SECLEVEL=0"));
  return { protocols, weakCiphers: accepted.filter((c) => !STRONG_TLS12_SUITE.test(c)), anonymousCiphers: accepted.filter((c) => anonymous.has(c)), accepted, raw };
}
