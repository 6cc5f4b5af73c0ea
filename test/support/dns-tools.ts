/**
 * Real DNS tooling for tests: BIND's named-checkzone (Debian bind9-utils) to
 * validate master files, and the Knot authoritative server (Debian knot,
 * binary knotd) to serve them on loopback so tests can query them through
 * node's own resolver. `.ci/run` installs both.
 *
 * Everything runs unprivileged-style in a temp dir: no systemd, no
 * /etc/knot, no /run/knot; works as root in a container.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { createSocket } from "node:dgram";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Strict named-checkzone checks (BIND 9.18 option names):
 * -k fail  check-names: owner names of A/AAAA/MX and MX/NS targets must be host names
 * -m fail  MX targets must not be IP addresses
 * -M fail  MX targets must not be CNAMEs
 * -n fail  NS targets must not be IP addresses
 * -r fail  no records that differ only in ways DNSSEC would care about
 * -S fail  SRV targets must not be CNAMEs
 * -W warn  (non-terminal wildcards; only warn/ignore exist)
 * -T warn  (SPF-type record checks; only warn/ignore exist)
 * -i local in-zone MX/NS/SRV targets must have addresses; no network lookups
 */
export const STRICT_CHECKZONE_ARGS: readonly string[] = [
  "-k", "fail",
  "-m", "fail",
  "-M", "fail",
  "-n", "fail",
  "-r", "fail",
  "-S", "fail",
  "-i", "local",
];

export interface CheckResult {
  ok: boolean;
  /** named-checkzone's stdout and stderr together (warnings, errors, "OK"). */
  output: string;
}

/** Check `zoneText` as the master file of `apex` with named-checkzone and strict options. */
export async function namedCheckzone(
  apex: string,
  zoneText: string,
  args: readonly string[] = STRICT_CHECKZONE_ARGS,
): Promise<CheckResult> {
  const dir = await mkdtemp(join(tmpdir(), "postforge-checkzone-"));
  try {
    const file = join(dir, "zone");
    await writeFile(file, zoneText);
    return await new Promise<CheckResult>((resolve, reject) => {
      execFile(
        "named-checkzone",
        [...args, apex, file],
        { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const output = `${stdout}${stderr}`;
          if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
            reject(new Error("named-checkzone not found: install Debian package bind9-utils (see .ci/run)"));
          } else if (error && error.killed) {
            reject(new Error(`named-checkzone timed out\n${output}`));
          } else {
            resolve({ ok: !error, output });
          }
        },
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface KnotServer {
  port: number;
  address: string;
  /** knotd's log so far (it logs to stderr). */
  log(): string;
  /** Stop knotd (SIGTERM, then SIGKILL after 5 s) and remove its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface ZoneSource {
  apex: string;
  text: string;
  /** Signed by knotd on load (DNSSEC, its default policy, keys made on the spot): the lab's root is. */
  signed?: boolean;
}

const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

/** knotd processes still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Start a real knotd serving `zones` on 127.0.0.1 at a free high port, and
 * wait until every zone answers its SOA. Rejects with knotd's log if it
 * exits, fails to load a zone, or does not answer in time.
 */
export async function startKnot(zones: ZoneSource[], at?: { address: string; port: number; alsoListen?: readonly string[] }): Promise<KnotServer> {
  if (zones.length === 0) throw new Error("startKnot: give at least one zone");
  // A fixed address and port (the mail lab's DNS server on 53) is the caller's to keep free: no retry.
  if (at) return startKnotOnce(zones, at.port, at.address, at.alsoListen);
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startKnotOnce(zones, await freePort());
    } catch (error) {
      lastError = error;
      // Only a lost race for the port is worth another try.
      if (!(error instanceof KnotStartError && error.portInUse)) throw error;
    }
  }
  throw lastError;
}

class KnotStartError extends Error {
  constructor(message: string, readonly portInUse: boolean) {
    super(message);
    this.name = "KnotStartError";
  }
}

async function startKnotOnce(zones: ZoneSource[], port: number, address = "127.0.0.1", alsoListen: readonly string[] = []): Promise<KnotServer> {
  const dir = await mkdtemp(join(tmpdir(), "postforge-knot-"));
  const zonesDir = join(dir, "zones");
  const runDir = join(dir, "run");
  const dbDir = join(dir, "db");
  await Promise.all([mkdir(zonesDir), mkdir(runDir), mkdir(dbDir)]);
  const apexes = zones.map((z) => z.apex.toLowerCase().replace(/\.$/, ""));
  // The root zone (apex ".") is named "root" where a name is needed: its file, and the SOA query below asks ".".
  await Promise.all(zones.map((z, i) => writeFile(join(zonesDir, `${apexes[i] || "root"}.zone`), z.text)));
  const config = knotConfig({ listen: [address, ...alsoListen].map((a) => `${a}@${port}`), zonesDir, runDir, dbDir, apexes, signed: zones.map((z) => z.signed === true) });
  const configFile = join(dir, "knot.conf");
  await writeFile(configFile, config);

  let log = "";
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const child = spawn("knotd", ["--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exitPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
    child.on("error", (error) => {
      spawnError = error;
      running.delete(child);
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited && !spawnError) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const fail = async (why: string): Promise<never> => {
    await stop();
    const portInUse = /cannot bind address .*address already in use/i.test(log);
    throw new KnotStartError(`startKnot: ${why}\n--- knotd config ---\n${config}--- knotd log ---\n${log}`, portInUse);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  const pending = new Set(apexes);
  const r = resolver(port, address);
  while (pending.size > 0) {
    if (spawnError) {
      const code = (spawnError as NodeJS.ErrnoException).code;
      return fail(code === "ENOENT" ? "knotd not found: install Debian package knot (see .ci/run)" : String(spawnError));
    }
    if (exited) return fail(`knotd exited early (code ${exited.code}, signal ${exited.signal})`);
    const failedZone = apexes.find((a) => new RegExp(`\\[${escapeRegExp(a)}\\.\\].*failed`).test(log));
    if (failedZone) return fail(`knotd failed to load zone ${failedZone}`);
    if (Date.now() > deadline) return fail(`knotd did not answer SOA queries for ${[...pending].join(", ")} within ${START_TIMEOUT_MS} ms`);
    for (const apex of [...pending]) {
      try {
        await r.resolveSoa(apex || ".");
        pending.delete(apex);
      } catch {
        // not up yet, or the zone is still loading
      }
    }
    if (pending.size > 0) await sleep(100);
  }
  return { port, address, log: () => log, stop };
}

function knotConfig(o: { listen: string[]; zonesDir: string; runDir: string; dbDir: string; apexes: string[]; signed: boolean[] }): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    "# Generated by test/support/dns-tools.ts for one test run.",
    "server:",
    `    rundir: ${q(o.runDir)}`,
    `    pidfile: ${q(join(o.runDir, "knot.pid"))}`,
    `    listen: [ ${o.listen.map((l) => q(l)).join(", ")} ]`,
    "    udp-workers: 1",
    "    tcp-workers: 1",
    "    background-workers: 1",
    "database:",
    `    storage: ${q(o.dbDir)}`,
    "control:",
    `    listen: ${q(join(o.runDir, "knot.sock"))}`,
    "log:",
    "  - target: stderr",
    "    any: info",
    "template:",
    "  - id: default",
    `    storage: ${q(o.zonesDir)}`,
    // Serve exactly the file: load it whole, never write it back, keep no journal, no DNSSEC.
    "    zonefile-load: whole",
    "    zonefile-sync: -1",
    "    journal-content: none",
    "    dnssec-signing: off",
    "    semantic-checks: on",
    "zone:",
    ...o.apexes.flatMap((apex, i) => [`  - domain: ${q(apex ? `${apex}.` : ".")}`, `    file: ${q(`${apex || "root"}.zone`)}`, ...(o.signed[i] ? ["    dnssec-signing: on"] : [])]),
    "",
  ].join("\n");
}

/**
 * A port free for both TCP and UDP on 127.0.0.1: let the kernel pick one for
 * TCP, then check UDP can bind it too. There is still a window before knotd
 * binds it; startKnot retries when knotd reports the address in use.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error("freePort: no port free for both TCP and UDP on 127.0.0.1");
}

/** A node resolver that asks only 127.0.0.1:<port>, with a 2 s timeout and no retries. */
export function resolver(port: number, address = "127.0.0.1"): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`${address}:${port}`]);
  return r;
}

/** TXT answers at `name` as character-strings per record (string[][]). */
export function queryTxt(port: number, name: string): Promise<string[][]> {
  return resolver(port).resolveTxt(name);
}

/** MX answers at `name`. */
export function queryMx(port: number, name: string): Promise<{ priority: number; exchange: string }[]> {
  return resolver(port).resolveMx(name);
}

export interface RawUdpAnswer {
  /** TC bit: the answer did not fit a plain (no EDNS) 512-octet UDP message. */
  truncated: boolean;
  rcode: number;
  answerCount: number;
}

/**
 * One plain DNS query over UDP without EDNS (so the 512-octet limit applies),
 * reading only the header. Lets tests prove an answer needs TCP, i.e. that a
 * resolver which got it must have retried over TCP.
 */
export async function rawUdpQuery(port: number, name: string, type: "TXT" | "MX" | "SOA"): Promise<RawUdpAnswer> {
  const qtype = { TXT: 16, MX: 15, SOA: 6 }[type];
  const id = Math.floor(Math.random() * 0x10000);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0000, 2); // standard query, RD off (authoritative server)
  header.writeUInt16BE(1, 4); // QDCOUNT
  const labels = name.replace(/\.$/, "").split(".").map((l) => {
    const bytes = Buffer.from(l, "ascii");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  const question = Buffer.concat([...labels, Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1])]);
  const message = Buffer.concat([header, question]);
  const socket = createSocket("udp4");
  try {
    return await new Promise<RawUdpAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rawUdpQuery: no answer from 127.0.0.1:${port} for ${name} ${type}`)), 2000);
      socket.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.on("message", (reply: Buffer) => {
        if (reply.length < 12 || reply.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        const flags = reply.readUInt16BE(2);
        resolve({ truncated: (flags & 0x0200) !== 0, rcode: flags & 0x000f, answerCount: reply.readUInt16BE(6) });
      });
      socket.send(message, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
