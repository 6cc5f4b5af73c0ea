/**
 * Run the rendered mail host on loopback high ports as root, from a temp
 * root (used by test/mta-e2e.test.ts): OpenDKIM (`opendkim -f -x`), Dovecot
 * (`dovecot -F -c`) and Postfix (`postfix -c DIR start`). Each foreground
 * daemon gets its own process group, killed on stop (and on process exit);
 * Postfix's master is stopped with `postfix stop`, then killed if it lingers.
 * stop() removes the root, and the base dir when no other run uses it.
 *
 * Needs .ci/run's dovecot-imapd and dovecot-lmtpd (the imap and lmtp
 * binaries; doveconf alone does not need them).
 *
 * What the relocation has to fix up, learnt the hard way:
 * - the temp root must be traversable (0755) by the daemons' own users
 *   (opendkim, postfix, dovecot, dovenull): mkdtemp makes it 0700;
 * - it must not be under /tmp: OpenDKIM's RequireSafeKeys checks every
 *   directory above a key file and refuses to sign (milter tempfail, logged
 *   only to syslog) when one is world-writable, as /tmp is; the root goes
 *   under /var/lib/postforge-mta-test (0755) instead;
 * - DKIM keys owned by opendkim, 0600 (RequireSafeKeys), in dirs it can read;
 * - mailbox files need an owner that exists: the test maps uid=vmail to the
 *   dovecot user rather than adding a system user to the machine;
 * - Postfix logs to syslog, absent on a test machine: maillog_file under the
 *   root (allowed by maillog_file_prefixes) and the postlog service.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { dkimKeyPath, PATHS, renderDovecot, renderOpenDkim, renderPostfix, type MailHostConfig } from "../../components/mta-host";
import { installFiles, makeTestRoot, postfixCheck, preparePostfixDirs, run, writeDkimKeys, writeSelfSignedCert, type TestPorts, type TestRoot } from "./mta-tools";

/** Not world-writable up to /, as RequireSafeKeys demands. */
const DAEMON_BASE = "/var/lib/postforge-mta-test";

export interface MailHostDaemons {
  root: TestRoot;
  ports: TestPorts;
  postfixLog(): Promise<string>;
  dovecotLog(): Promise<string>;
  stop(): Promise<void>;
}

/** A test user: `user@domain` with password `password`, hashed by doveadm as the secret would hold it. */
export interface TestMailbox {
  address: string;
  password: string;
}

async function ids(user: string): Promise<{ uid: number; gid: number }> {
  const fields = (await run("getent", ["passwd", user])).stdout.trim().split(":");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export interface MailHostOptions {
  /** Private keys (PKCS#8 PEM) to install instead of fresh ones, by `domain/selector`; the test publishes their public halves. */
  dkimKeys?: Record<string, string>;
  /** Lines appended to the relocated main.cf (test-only routing such as relayhost). */
  mainCfExtra?: string[];
}

/** Daemon process groups still running, killed if the test process exits without stopping them. */
const runningGroups = new Set<number>();
process.on("exit", () => {
  for (const pgid of runningGroups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export async function startMailHost(config: MailHostConfig, ports: TestPorts, mailboxes: TestMailbox[], options: MailHostOptions = {}): Promise<MailHostDaemons> {
  await mkdir(DAEMON_BASE, { recursive: true, mode: 0o755 });
  await chmod(DAEMON_BASE, 0o755);
  const root = await makeTestRoot("postforge-mtad-", DAEMON_BASE);
  await chmod(root.root, 0o755);
  const children: ChildProcess[] = [];
  const dovecotUser = await ids("dovecot");
  const opendkimUser = await ids("opendkim");
  let postfixStarted = false;

  // Files, relocated; mailbox owner vmail -> dovecot (see above).
  await installFiles(root, [...renderPostfix(config), ...renderOpenDkim(config).files, ...renderDovecot(config).files], ports);
  const dovecotConf = root.at(PATHS.dovecotConf);
  // No syslog on a test machine: Dovecot logs to a file under the root.
  await writeFile(
    dovecotConf,
    (await readFile(dovecotConf, "utf8"))
      .replace("uid=vmail gid=vmail", "uid=dovecot gid=dovecot")
      .replace("user = vmail", "user = dovecot")
      .replace(/^log_path = syslog$/m, `log_path = ${root.root}/var/log/dovecot.log`),
  );
  const mainCf = root.at(PATHS.postfixMainCf);
  await writeFile(
    mainCf,
    `${await readFile(mainCf, "utf8")}maillog_file_prefixes = ${root.root}\nmaillog_file = ${root.root}/var/log/postfix.log\n${(options.mainCfExtra ?? []).map((l) => `${l}\n`).join("")}`,
  );
  await mkdir(root.at("/var/log"), { recursive: true });
  await preparePostfixDirs(root);
  await writeSelfSignedCert(root, config.hostname);
  await mkdir(root.at(PATHS.opendkimRun), { recursive: true });
  await mkdir(root.at(PATHS.dovecotRun), { recursive: true });
  const mailRoot = root.at(PATHS.mailRoot);
  await mkdir(mailRoot, { recursive: true });
  await chown(mailRoot, dovecotUser.uid, dovecotUser.gid);

  // DKIM keys as the boot script installs them.
  await writeDkimKeys(root, config);
  for (const [id, pem] of Object.entries(options.dkimKeys ?? {})) {
    const [domain, selector] = id.split("/");
    await writeFile(root.at(dkimKeyPath(domain, selector)), pem, { mode: 0o600 });
  }
  await chown(root.at(PATHS.dkimKeysDir), opendkimUser.uid, opendkimUser.gid);
  for (const d of config.domains) {
    await chown(dirname(root.at(dkimKeyPath(d.domain, d.selectors[0].selector))), opendkimUser.uid, opendkimUser.gid);
    for (const s of d.selectors) await chown(root.at(dkimKeyPath(d.domain, s.selector)), opendkimUser.uid, opendkimUser.gid);
  }

  // passwd-file as the Secrets Manager secret would hold it.
  const lines: string[] = [];
  for (const m of mailboxes) {
    const hash = await run("doveadm", ["pw", "-s", "SHA512-CRYPT", "-p", m.password]);
    if (!hash.ok) throw new Error(`doveadm pw failed: ${hash.output}`);
    lines.push(`${m.address}:${hash.stdout.trim()}::::::`);
  }
  await writeFile(root.at(PATHS.dovecotPasswd), lines.join("\n") + "\n", { mode: 0o640 });
  await chown(root.at(PATHS.dovecotPasswd), 0, dovecotUser.gid);

  const stop = async () => {
    if (postfixStarted) {
      const masterPid = Number((await readFile(root.at(`${PATHS.postfixQueue}/pid/master.pid`), "utf8").catch(() => "")).trim());
      await run("postfix", ["-c", root.at(PATHS.postfixDir), "stop"]).catch(() => undefined);
      if (masterPid > 0 && !(await gone(masterPid, 5_000))) {
        // stop did not take: kill the master's process group (it leads one) and its children.
        for (const target of [-masterPid, masterPid]) {
          try {
            process.kill(target, "SIGKILL");
          } catch {
            // gone
          }
        }
        await gone(masterPid, 2_000);
      }
    }
    await Promise.all(children.map((child) => stopGroup(child)));
  };
  try {
    const check = await postfixCheck(root.at(PATHS.postfixDir));
    if (!check.ok) throw new Error(`postfix check failed:\n${check.output}`);
    children.push(spawnLogged("opendkim", ["-f", "-l", "-x", root.at(PATHS.opendkimConf)]));
    if (renderOpenDkim(config).signers.includes("ed25519")) {
      children.push(spawnLogged("opendkim", ["-f", "-l", "-x", root.at(PATHS.opendkimEd25519Conf)]));
      await waitForPort(ports.milterEd25519);
    }
    children.push(spawnLogged("dovecot", ["-F", "-c", dovecotConf]));
    const start = await run("postfix", ["-c", root.at(PATHS.postfixDir), "start"]);
    if (!start.ok) throw new Error(`postfix start failed:\n${start.output}`);
    postfixStarted = true;
    for (const port of [ports.milter, ports.imaps, ports.smtp, ports.submission, ports.submissions]) await waitForPort(port);
  } catch (error) {
    await stop();
    await root.cleanup();
    await rmdir(DAEMON_BASE).catch(() => undefined);
    throw error;
  }
  return {
    root,
    ports,
    postfixLog: () => readFile(`${root.root}/var/log/postfix.log`, "utf8").catch(() => ""),
    dovecotLog: () => readFile(`${root.root}/var/log/dovecot.log`, "utf8").catch(() => ""),
    stop: async () => {
      await stop();
      await root.cleanup();
      // The base dir goes too when no other run is using it.
      await rmdir(DAEMON_BASE).catch(() => undefined);
    },
  };
}

/** True once the process is gone (kill 0 fails), false if it is still there after timeoutMs. */
async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM the child's process group, SIGKILL it after 5 s; resolves when the child has exited. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // group gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  // Stragglers in the group (dovecot's children exit with their master, but make sure).
  signal("SIGKILL");
  runningGroups.delete(pid);
}

function spawnLogged(command: string, args: string[]): ChildProcess {
  // Its own process group, so stop() can kill the daemon and everything it forked.
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  if (child.pid !== undefined) runningGroups.add(child.pid);
  const tag = `[${command}] `;
  child.stdout?.on("data", (d: Buffer) => process.env.MTA_DAEMON_LOG && process.stderr.write(tag + d.toString()));
  child.stderr?.on("data", (d: Buffer) => process.env.MTA_DAEMON_LOG && process.stderr.write(tag + d.toString()));
  return child;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
