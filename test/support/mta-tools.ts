/**
 * The real Debian mail tools, run on rendered mail-host files in a temp dir:
 * `postfix check` / `postconf` / `postmap` (postfix), `opendkim -n`
 * (opendkim), `doveconf -n` (dovecot-core) and `cloud-init schema`
 * (cloud-init). `.ci/run` installs them.
 *
 * The renderers write absolute paths under /etc, /var and /run; `relocate`
 * moves them into a test root so nothing on the machine is touched.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { dkimKeyPath, PATHS, type MailHostConfig, type RenderedFile } from "../../components/mta-host";
import { LAB } from "./lab";

/**
 * The one transformation between the files a mail host boots with and the
 * files the tests run, and nothing else:
 *  1. every absolute path under /etc, /var, /run or /usr/local (what the host
 *     writes, and the daemons' working directories) moves under the test root;
 *  2. services listen on the mail lab's host address (test/support/lab.ts)
 *     instead of every interface: Postfix's inet_interfaces and Dovecot's listen.
 * Ports are not moved: inside the lab nothing else listens on 25, 587, 465
 * or 993. `unrelocate` undoes it exactly; a test holds every file the daemons
 * run against the renderer's output through it.
 */
const LISTEN_REWRITES: readonly (readonly [production: string, lab: string])[] = [
  ["inet_interfaces = all", `inet_interfaces = ${LAB.MAIL_HOST}`],
  ["inet_protocols = all", "inet_protocols = ipv4"],
  ["listen = *, ::", `listen = ${LAB.MAIL_HOST}`],
];
const RELOCATED_TREES = /(^|[\s=:<>,"'(])\/(etc|var|run|usr\/local)\//gm;

export function relocate(text: string, root: string): string {
  let out = text.replace(RELOCATED_TREES, `$1${root}/$2/`);
  for (const [production, lab] of LISTEN_REWRITES) out = out.replace(new RegExp(`^${escapeRegExp(production)}$`, "m"), lab);
  return out;
}

/** The inverse of `relocate` for the same root. */
export function unrelocate(text: string, root: string): string {
  let out = text.split(`${root}/`).join("/");
  for (const [production, lab] of LISTEN_REWRITES) out = out.replace(new RegExp(`^${escapeRegExp(lab)}$`, "m"), production);
  return out;
}

/** A rendered absolute path under the test root. */
export function relocatePath(path: string, root: string): string {
  return join(root, path);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface TestRoot {
  root: string;
  /** Where a rendered absolute path lives under the root. */
  at(path: string): string;
  cleanup(): Promise<void>;
}

/** A fresh temp dir; `base` defaults to the OS temp dir. */
export async function makeTestRoot(prefix = "postforge-mta-", base = tmpdir()): Promise<TestRoot> {
  const root = await mkdtemp(join(base, prefix));
  return { root, at: (path) => join(root, path), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Write rendered files under the root, relocated, with their modes (owners are left to the caller: tests may not be root). */
export async function installFiles(root: TestRoot, files: RenderedFile[]): Promise<void> {
  for (const file of files) {
    const target = root.at(file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, relocate(file.content, root.root));
    await chmod(target, parseInt(file.permissions, 8));
  }
}

/** The directories Postfix expects: the queue (populated by `postfix check`) and its data directory owned by postfix. */
export async function preparePostfixDirs(root: TestRoot): Promise<void> {
  await mkdir(root.at(PATHS.postfixQueue), { recursive: true });
  await mkdir(root.at(PATHS.postfixData), { recursive: true });
  if (userInfo().uid === 0) {
    const { uid, gid } = await systemUser("postfix");
    await chown(root.at(PATHS.postfixData), uid, gid);
  }
}

/** Real DKIM keys (PKCS#8 PEM, mode 0600) for every active selector, where the KeyTable points. */
export async function writeDkimKeys(root: TestRoot, config: MailHostConfig): Promise<void> {
  for (const d of config.domains) {
    for (const s of d.selectors) {
      const { privateKey } =
        s.algorithm === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ed25519");
      const target = root.at(dkimKeyPath(d.domain, s.selector));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, privateKey.export({ format: "pem", type: "pkcs8" }) as string, { mode: 0o600 });
    }
  }
}

/** A self-signed certificate at the TLS paths, as the boot script makes one. */
export async function writeSelfSignedCert(root: TestRoot, hostname: string): Promise<void> {
  await mkdir(root.at(PATHS.tlsDir), { recursive: true });
  const result = await run("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
    "-subj", `/CN=${hostname}`, "-addext", `subjectAltName=DNS:${hostname}`,
    "-keyout", root.at(PATHS.tlsKey), "-out", root.at(PATHS.tlsCert),
  ]);
  if (!result.ok) throw new Error(`openssl req failed:\n${result.output}`);
  await chmod(root.at(PATHS.tlsKey), 0o600);
}

export interface ToolResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

const PACKAGE_OF: Record<string, string> = {
  postfix: "postfix",
  postconf: "postfix",
  postmap: "postfix",
  opendkim: "opendkim",
  doveconf: "dovecot-core",
  "cloud-init": "cloud-init",
  openssl: "openssl",
  script: "bsdutils",
  bash: "bash",
};

export function run(command: string, args: readonly string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`${command} not found: install Debian package ${PACKAGE_OF[command] ?? command} (see .ci/run)`));
        return;
      }
      if (error && error.killed) {
        reject(new Error(`${command} timed out\n${stdout}${stderr}`));
        return;
      }
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ ok: !error, code, stdout, stderr, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * `postfix -c DIR check`. The postfix command prints its diagnostics only to a
 * terminal (otherwise to syslog, which a test machine may not run), so it runs
 * under script(1) to capture them; `-e` keeps postfix's exit status.
 */
export async function postfixCheck(configDir: string): Promise<ToolResult> {
  if (!/^[A-Za-z0-9/._-]+$/.test(configDir)) throw new Error(`postfixCheck: unsafe path ${configDir}`);
  const result = await run("script", ["-qec", `postfix -c ${configDir} check`, "/dev/null"]);
  const clean = (s: string) => s.replace(/\r/g, "");
  return { ...result, stdout: clean(result.stdout), stderr: clean(result.stderr), output: clean(result.output) };
}

async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const result = await run("getent", ["passwd", name]);
  const fields = result.stdout.trim().split(":");
  if (!result.ok || fields.length < 4) throw new Error(`user ${name} not found: install Debian package postfix (see .ci/run)`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}
