/**
 * A Postforge mail host, installed and run the way the instance does it, in
 * the mail lab (./lab.ts), as root, from a test root: used by
 * test/mta-e2e.test.ts, test/mta-faults.test.ts and bench/mta-load.ts.
 *
 * Nothing here writes a file the host's renderers write. The install follows
 * the instance's own path, with only the relocation of ./mta-tools.ts
 * (`relocate`: paths under the test root, listening on the lab's host
 * address) applied to what production renders:
 *  1. the directories Debian's packages provide on the image (queue, data
 *     and run directories, /var/log, /etc/cron.d), since the packages are
 *     installed on the machine and not into the root;
 *  2. the files user-data writes (the sync machinery, `syncFiles`), as
 *     cloud-init writes them, with their owners and modes;
 *  3. stand-ins on PATH for what the lab does not have: `aws` answers
 *     Secrets Manager's get-secret-value from the test's secrets and the
 *     config manifest MailHost stores (relocated), `systemctl` records what
 *     it is asked, `certbot` fails (no ACME server here: the boot script's
 *     self-signed certificate serves, as it does until Let's Encrypt answers);
 *  4. the first sync, as cloud-init's runcmd starts it: postforge-sync
 *     fetches and unpacks the manifest, postforge-write-files writes every
 *     file with its owner and mode, postforge-boot installs the keys and
 *     passwd-files, makes the certificate, runs `postfix check`, `doveconf -n`
 *     and `opendkim -n`, and asks systemctl to restart the units;
 *  5. the daemons of those units, started with their units' ExecStart
 *     (Debian's, or the one we render), in the foreground so the test owns
 *     them; each in its own process group, killed on stop and on exit.
 *
 * `installedDifferences()` reads every installed file back and holds it
 * against the renderer's output through `unrelocate`.
 *
 * Needs .ci/run's packages; the test root lives under /var/lib (OpenDKIM's
 * RequireSafeKeys refuses keys below a world-writable directory such as /tmp).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  configManifest,
  encodeConfigManifest,
  mailHostFiles,
  OPENDKIM_MILTERS,
  PATHS,
  renderOpenDkim,
  syncFiles,
  type MailHostConfig,
  type RenderedFile,
} from "../../components/mta-host";
import { configManifestSecretName } from "../../components/mta-host/config-manifest";
import { suppressionTableName } from "../../components/mta-host/suppression";
import { LAB, requireLab } from "./lab";
import { makeTestRoot, relocate, run, unrelocate, type TestRoot } from "./mta-tools";
import { METRICS_PORT } from "../../components/mta-host/monitoring";

/** Not world-writable up to /, as RequireSafeKeys demands. */
const DAEMON_BASE = "/var/lib/postforge-mta-test";

/** The units the boot script restarts, as their ExecStart runs them (foreground flags added: the test is their supervisor). */
/** One PutMetricData call: its namespace, region and datums. */
export interface CloudWatchCall {
  namespace: string;
  region: string;
  data: { MetricName: string; Dimensions: { Name: string; Value: string }[]; Value: number; Unit: string }[];
}

export type Unit = "opendkim" | "opendkim-ed25519" | "dovecot" | "postfix" | "postforge-unsubscribe" | "postforge-metrics";

export interface MailHostDaemons {
  root: TestRoot;
  /** The address the host listens and sends on (LAB.MAIL_HOST). */
  address: string;
  postfixLog(): Promise<string>;
  dovecotLog(): Promise<string>;
  /** What the boot script asked systemctl, one call per line. */
  systemctlCalls(): Promise<string[]>;
  /** The environment the host's own tools run in (cron's, root's): PATH finds the lab's stand-ins (aws) first. */
  toolEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The suppression list's DynamoDB copy as the lab's AWS holds it: items by address. */
  dynamodbItems(): Promise<Record<string, Record<string, { S: string }>>>;
  /** Every PutMetricData call the host made, in order, as the lab's CloudWatch took it. */
  cloudwatchCalls(): Promise<CloudWatchCall[]>;
  /** Make the lab's CloudWatch fail every call (an outage), or take them again. */
  setCloudwatchAvailable(available: boolean): Promise<void>;
  /** Make the lab's DynamoDB fail every call (an outage), or serve again. */
  setDynamodbAvailable(available: boolean): Promise<void>;
  /** Every installed file that differs from what the renderers produced (content through `unrelocate`, owner, mode). */
  installedDifferences(): Promise<string[]>;
  /** Store a new configuration's manifest (relocated) in the lab's Secrets Manager, as a deploy's MailHost does. */
  storeConfig(next: MailHostConfig): Promise<void>;
  /** Run postforge-sync as its timer does: fetch the stored manifest and apply it when it changed. */
  sync(): Promise<void>;
  /** kill(2) a unit's daemon (its main process only, as a crash would). */
  kill(unit: Unit, signal: NodeJS.Signals): Promise<void>;
  /** Start a unit's daemon again, as systemd's Restart= does. */
  start(unit: Unit): Promise<void>;
  /** Wait until a unit serves again (its socket or port answers). */
  waitReady(unit: Unit, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface MailHostOptions {
  /**
   * Benchmark baseline only: remove the DKIM milters after the install
   * (`postconf -e smtpd_milters= non_smtpd_milters=`), to measure what
   * signing costs. A host started so is not the production host.
   */
  withoutMilters?: boolean;
  /**
   * The suppression list's DynamoDB copy as the host finds it at boot (items by address, as
   * `dynamodbTable()` returns them): a replaced host's, for instance. Default: an empty table.
   */
  dynamodbItems?: Record<string, unknown>;
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

async function ids(user: string, group = user): Promise<{ uid: number; gid: number }> {
  const passwd = (await run("getent", ["passwd", user])).stdout.trim().split(":");
  const groupEntry = (await run("getent", ["group", group])).stdout.trim().split(":");
  if (passwd.length < 4 || groupEntry.length < 3) throw new Error(`user ${user} or group ${group} not found: install .ci/run's packages`);
  return { uid: Number(passwd[2]), gid: Number(groupEntry[2]) };
}

/** Directories Debian's packages (and the base image) provide, with their owners and modes there. */
const PACKAGE_DIRECTORIES: readonly { path: string; owner: string; mode: number }[] = [
  { path: "/etc/cron.d", owner: "root:root", mode: 0o755 },
  { path: "/etc/systemd/system", owner: "root:root", mode: 0o755 },
  { path: "/usr/local/sbin", owner: "root:root", mode: 0o755 },
  { path: "/var/log", owner: "root:root", mode: 0o755 },
  { path: "/var/mail", owner: "root:root", mode: 0o755 },
  { path: PATHS.postfixQueue, owner: "root:root", mode: 0o755 },
  { path: PATHS.postfixData, owner: "postfix:postfix", mode: 0o700 },
  { path: PATHS.opendkimRun, owner: "opendkim:opendkim", mode: 0o750 },
  { path: PATHS.dovecotRun, owner: "root:root", mode: 0o755 },
];

function standIns(root: TestRoot, secretsDir: string, tableDir: string, cloudwatchDir: string): Record<string, string> {
  return {
    // The AWS CLI's calls the host makes, answered from the lab: Secrets Manager's get-secret-value from
    // ${secretsDir}, and DynamoDB's batch-write-item and scan on the suppression list's table, kept as one
    // JSON file in ${tableDir}. An "unavailable" file there makes DynamoDB fail as an outage would.
    // CloudWatch's put-metric-data: each call's datums kept as one JSON file in ${cloudwatchDir} (an "unavailable" file: an outage).
    aws: `#!/usr/bin/python3
import json, os, sys
a = sys.argv[1:]
def opt(name):
    return a[a.index(name) + 1]
if a[:3] == ["secretsmanager", "get-secret-value", "--secret-id"] and a[4] == "--region" and a[6:10] == ["--query", "SecretString", "--output", "text"]:
    path = os.path.join(${JSON.stringify(secretsDir)}, a[3].replace("/", "%"))
    if not os.path.isfile(path):
        sys.exit(print("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: " + a[3], file=sys.stderr) or 254)
    print(open(path).read())
    sys.exit(0)
if a[:1] == ["dynamodb"] and a[1] in ("batch-write-item", "scan") and "--region" in a and opt("--output") == "json":
    if os.path.exists(os.path.join(${JSON.stringify(tableDir)}, "unavailable")):
        sys.exit(print("Could not connect to the endpoint URL: https://dynamodb." + opt("--region") + ".amazonaws.com/", file=sys.stderr) or 255)
    file = os.path.join(${JSON.stringify(tableDir)}, "table.json")
    table = json.load(open(file))
    if a[1] == "scan":
        if opt("--table-name") != table["name"]:
            sys.exit(print("An error occurred (ResourceNotFoundException) when calling the Scan operation: Requested resource not found", file=sys.stderr) or 254)
        print(json.dumps({"Items": list(table["items"].values()), "Count": len(table["items"])}))
        sys.exit(0)
    requests = json.loads(opt("--request-items"))
    if list(requests) != [table["name"]] or len(requests[table["name"]]) > 25:
        sys.exit(print("An error occurred (ValidationException) when calling the BatchWriteItem operation", file=sys.stderr) or 254)
    for r in requests[table["name"]]:
        if "PutRequest" in r:
            table["items"][r["PutRequest"]["Item"]["address"]["S"]] = r["PutRequest"]["Item"]
        else:
            table["items"].pop(r["DeleteRequest"]["Key"]["address"]["S"], None)
    json.dump(table, open(file, "w"))
    print(json.dumps({"UnprocessedItems": {}}))
    sys.exit(0)
if a[:2] == ["cloudwatch", "put-metric-data"] and "--region" in a:
    # PutMetricData as CloudWatch checks it: at most 1,000 datums, each a name, a number, a known unit and at most 30 dimensions.
    calls = os.path.join(${JSON.stringify(cloudwatchDir)})
    if os.path.exists(os.path.join(calls, "unavailable")):
        sys.exit(print("Could not connect to the endpoint URL: https://monitoring." + opt("--region") + ".amazonaws.com/", file=sys.stderr) or 255)
    source = opt("--metric-data")
    data = json.load(open(source[len("file://"):])) if source.startswith("file://") else json.loads(source)
    units = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}
    bad = [d for d in data if not isinstance(d.get("MetricName"), str) or not isinstance(d.get("Value"), (int, float)) or d.get("Unit") not in units or len(d.get("Dimensions", [])) > 30 or any(set(x) != {"Name", "Value"} or not x["Value"] for x in d.get("Dimensions", []))]
    if len(data) > 1000 or bad:
        sys.exit(print("An error occurred (InvalidParameterValue) when calling the PutMetricData operation: " + json.dumps(bad[:1]), file=sys.stderr) or 254)
    n = len([f for f in os.listdir(calls) if f.endswith(".json")])
    json.dump({"namespace": opt("--namespace"), "region": opt("--region"), "data": data}, open(os.path.join(calls, "%06d.json" % n), "w"))
    sys.exit(0)
sys.exit(print("aws stand-in: unexpected call: " + " ".join(a), file=sys.stderr) or 2)
`,
    systemctl: `#!/bin/sh
# Stand-in for systemctl: the test starts the units' daemons itself.
echo "$*" >> ${root.at("/systemctl.log")}
`,
    certbot: `#!/bin/sh
echo "certbot stand-in: no ACME server in the mail lab" >&2
exit 1
`,
  };
}

export async function startMailHost(config: MailHostConfig, secrets: Record<string, string>, options: MailHostOptions = {}): Promise<MailHostDaemons> {
  requireLab("the mail host");
  await mkdir(DAEMON_BASE, { recursive: true, mode: 0o755 });
  await chmod(DAEMON_BASE, 0o755);
  const root = await makeTestRoot("postforge-mtad-", DAEMON_BASE);
  await chmod(root.root, 0o755);
  const children = new Map<Unit, ChildProcess>();
  let postfixStarted = false;

  const manifestFiles = mailHostFiles(config);
  const userDataFiles = syncFiles(config);
  const relocated = (file: RenderedFile): RenderedFile => ({ ...file, path: root.at(file.path), content: relocate(file.content, root.root) });

  /** The config manifest as MailHost stores it (relocated), under its Secrets Manager name in the lab's AWS. */
  const storedManifest = (cfg: MailHostConfig): [string, string] => {
    const manifest = configManifest(cfg);
    return [configManifestSecretName(cfg.hostname), encodeConfigManifest(`${JSON.stringify({ ...manifest, files: manifest.files.map(relocated) }, null, 1)}\n`)];
  };
  const storeSecret = (name: string, value: string) => writeFile(join(root.at("/lab/secrets"), name.split("/").join("%")), value, { mode: 0o600 });
  /** postforge-sync as the timer runs it, the lab's stand-ins first on PATH. */
  const runSync = async () => {
    const synced = await run(root.at(PATHS.syncScript), [], 120_000, { ...process.env, PATH: `${root.at("/lab/bin")}:${process.env.PATH}` });
    if (!synced.ok) throw new Error(`postforge-sync failed (exit ${synced.code}):\n${synced.output}`);
  };

  const stopAll = async () => {
    if (postfixStarted) await stopPostfix(root);
    await Promise.all([...children.values()].map((child) => stopGroup(child)));
    children.clear();
  };

  const commandOf = (unit: Unit): [string, string[]] => {
    switch (unit) {
      // Debian's opendkim.service: ExecStart=/usr/sbin/opendkim, which reads /etc/opendkim.conf.
      case "opendkim":
        return ["/usr/sbin/opendkim", ["-f", "-x", root.at(PATHS.opendkimConf)]];
      // Ours: the ExecStart line of the rendered unit, relocated.
      case "opendkim-ed25519": {
        const unitFile = relocate(manifestFiles.find((f) => f.path === PATHS.opendkimEd25519Unit)!.content, root.root);
        const [command, ...args] = /^ExecStart=(.+)$/m.exec(unitFile)![1].split(/\s+/);
        return [command, ["-f", ...args]];
      }
      // Debian's dovecot.service: ExecStart=/usr/sbin/dovecot -F, which reads /etc/dovecot/dovecot.conf.
      case "dovecot":
        return ["/usr/sbin/dovecot", ["-F", "-c", root.at(PATHS.dovecotConf)]];
      // Ours: the ExecStart line of the rendered unit, relocated (the server drops to its user itself).
      case "postforge-unsubscribe": {
        const unitFile = relocate(manifestFiles.find((f) => f.path === PATHS.unsubscribeUnit)!.content, root.root);
        const [command, ...args] = /^ExecStart=(.+)$/m.exec(unitFile)![1].split(/\s+/);
        return [command, args];
      }
      // Ours, run as its User= as systemd would: the ExecStart line of the rendered unit, relocated.
      case "postforge-metrics": {
        const unitFile = relocate(manifestFiles.find((f) => f.path === PATHS.metricsUnit)!.content, root.root);
        const [command, ...args] = /^ExecStart=(.+)$/m.exec(unitFile)![1].split(/\s+/);
        return [command, args];
      }
      case "postfix":
        throw new Error("postfix is started with `postfix start`, not spawned");
    }
  };
  /** The unit's User=, as systemd drops to it before ExecStart. */
  const userOf = async (unit: Unit): Promise<{ uid: number; gid: number } | undefined> => {
    if (unit !== "postforge-metrics") return undefined;
    const user = /^User=(.+)$/m.exec(manifestFiles.find((f) => f.path === PATHS.metricsUnit)!.content)?.[1];
    return user ? ids(user) : undefined;
  };

  const waitReady = async (unit: Unit, timeoutMs = 10_000) => {
    if (unit === "opendkim") return waitForSocket(root.at(OPENDKIM_MILTERS.rsa.socket), timeoutMs);
    if (unit === "opendkim-ed25519") return waitForSocket(root.at(OPENDKIM_MILTERS.ed25519.socket), timeoutMs);
    if (unit === "dovecot") return waitForSocket(root.at(`${PATHS.postfixQueue}/private/auth`), timeoutMs);
    if (unit === "postforge-unsubscribe") return waitForPort(LAB.MAIL_HOST, 443, timeoutMs);
    // From an admin network's address: the exporter closes on any other client.
    if (unit === "postforge-metrics") return waitForPort(LAB.MAIL_HOST, METRICS_PORT, timeoutMs, LAB.APPLICATION);
    for (const port of [25, 587, 465]) await waitForPort(LAB.MAIL_HOST, port, timeoutMs);
  };

  const start = async (unit: Unit) => {
    if (unit === "postfix") {
      const started = await run("postfix", ["-c", root.at(PATHS.postfixDir), "start"]);
      if (!started.ok) throw new Error(`postfix start failed:\n${started.output}`);
      postfixStarted = true;
    } else {
      const [command, args] = commandOf(unit);
      children.set(unit, spawnLogged(unit, command, args, await userOf(unit)));
    }
    await waitReady(unit);
  };

  let cronPath = "";
  try {
    // 1. What the packages provide.
    for (const dir of PACKAGE_DIRECTORIES) {
      const [user, group] = dir.owner.split(":");
      const target = root.at(dir.path);
      await mkdir(target, { recursive: true });
      const owner = await ids(user, group);
      await chown(target, owner.uid, owner.gid);
      await chmod(target, dir.mode);
    }
    // 2. What cloud-init writes from user-data.
    for (const file of userDataFiles.map(relocated)) {
      const [user, group] = file.owner.split(":");
      const owner = await ids(user, group);
      await writeFile(file.path, file.content);
      await chown(file.path, owner.uid, owner.gid);
      await chmod(file.path, parseInt(file.permissions, 8));
    }
    // 3. Secrets Manager (the config manifest as MailHost stores it, relocated; the test's secrets) and the other stand-ins.
    const secretsDir = root.at("/lab/secrets");
    await mkdir(secretsDir, { recursive: true, mode: 0o700 });
    for (const [name, value] of [...Object.entries(secrets), storedManifest(config)]) await storeSecret(name, value);
    const binDir = root.at("/lab/bin");
    await mkdir(binDir, { recursive: true });
    const tableDir = root.at("/lab/dynamodb");
    await mkdir(tableDir, { recursive: true, mode: 0o700 });
    await writeFile(join(tableDir, "table.json"), JSON.stringify({ name: suppressionTableName(config.hostname), items: options.dynamodbItems ?? {} }));
    const cloudwatchDir = root.at("/lab/cloudwatch");
    await mkdir(cloudwatchDir, { recursive: true, mode: 0o700 });
    for (const [name, script] of Object.entries(standIns(root, secretsDir, tableDir, cloudwatchDir))) await writeFile(join(binDir, name), script, { mode: 0o755 });

    // 4. The first sync.
    await runSync();
    // The PATH the host's cron jobs run with, read from the cron file as installed.
    cronPath = /^PATH=(.+)$/m.exec(await readFile(root.at(PATHS.warmupCron), "utf8"))?.[1] ?? "";
    if (!cronPath) throw new Error(`${PATHS.warmupCron} sets no PATH: cron's /usr/bin:/bin finds none of Postfix's commands`);
    if (options.withoutMilters) {
      const edited = await run("postconf", ["-c", root.at(PATHS.postfixDir), "-e", "smtpd_milters=", "non_smtpd_milters="]);
      if (!edited.ok) throw new Error(`postconf -e failed:\n${edited.output}`);
    }

    // 5. The units the boot script restarted, in its order.
    const calls = (await readFile(root.at("/systemctl.log"), "utf8")).split("\n");
    const restart = calls.find((c) => c.startsWith("restart "));
    if (!restart) throw new Error(`the boot script restarted no unit; systemctl calls:\n${calls.join("\n")}`);
    const units = restart.split(" ").slice(1) as Unit[];
    const expected = [...renderOpenDkim(config).signers.map((a) => (a === "rsa" ? "opendkim" : "opendkim-ed25519")), "dovecot", "postfix", "postforge-unsubscribe", "postforge-metrics"];
    if (units.join(" ") !== expected.join(" ")) throw new Error(`boot script restarted ${units.join(" ")}, expected ${expected.join(" ")}`);
    for (const unit of units) await start(unit);
  } catch (error) {
    await stopAll();
    await root.cleanup();
    await rmdir(DAEMON_BASE).catch(() => undefined);
    throw error;
  }

  return {
    root,
    address: LAB.MAIL_HOST,
    postfixLog: () => readFile(root.at(PATHS.postfixLog), "utf8").catch(() => ""),
    dovecotLog: () => readFile(root.at(PATHS.dovecotLog), "utf8").catch(() => ""),
    systemctlCalls: async () => (await readFile(root.at("/systemctl.log"), "utf8")).split("\n").filter(Boolean),
    // Cron's environment, as the installed cron file sets it (relocated: /usr/local/sbin is the test root's), the lab's stand-ins first.
    toolEnv: (extra = {}) => ({ ...process.env, PATH: `${root.at("/lab/bin")}:${cronPath}`, ...extra }),
    dynamodbItems: async () => JSON.parse(await readFile(root.at("/lab/dynamodb/table.json"), "utf8")).items,
    cloudwatchCalls: async () => {
      const dir = root.at("/lab/cloudwatch");
      const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
      return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as CloudWatchCall));
    },
    setCloudwatchAvailable: async (available) => {
      const marker = root.at("/lab/cloudwatch/unavailable");
      if (available) await rm(marker, { force: true });
      else await writeFile(marker, "");
    },
    setDynamodbAvailable: async (available) => {
      const marker = root.at("/lab/dynamodb/unavailable");
      if (available) await rm(marker, { force: true });
      else await writeFile(marker, "");
    },
    installedDifferences: () => installedDifferences(root, [...userDataFiles, ...manifestFiles]),
    storeConfig: (next) => storeSecret(...storedManifest(next)),
    sync: runSync,
    kill: async (unit, signal) => {
      if (unit === "postfix") throw new Error("kill: postfix is not a spawned unit here");
      const child = children.get(unit);
      if (child?.pid === undefined) throw new Error(`kill: ${unit} is not running`);
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));
      process.kill(child.pid, signal);
      await exited;
      runningGroups.delete(child.pid);
      // A crash takes the daemon's helpers with it (Dovecot's children exit when their master goes).
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // group gone
      }
      children.delete(unit);
    },
    start,
    waitReady,
    stop: async () => {
      await stopAll();
      await root.cleanup();
      // The base dir goes too when no other run is using it.
      await rmdir(DAEMON_BASE).catch(() => undefined);
    },
  };
}

/** Every installed file held against what was rendered: content through unrelocate, then owner and mode. */
async function installedDifferences(root: TestRoot, rendered: RenderedFile[]): Promise<string[]> {
  const problems: string[] = [];
  for (const file of rendered) {
    const target = root.at(file.path);
    const content = await readFile(target, "utf8").catch(() => undefined);
    if (content === undefined) {
      problems.push(`${file.path}: not installed`);
      continue;
    }
    if (unrelocate(content, root.root) !== file.content) problems.push(`${file.path}: content differs from the renderer's beyond the relocation`);
    const info = await stat(target);
    const [user, group] = file.owner.split(":");
    const owner = await ids(user, group);
    if (info.uid !== owner.uid || info.gid !== owner.gid) problems.push(`${file.path}: owner ${info.uid}:${info.gid}, rendered ${file.owner}`);
    const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
    if (mode !== file.permissions) problems.push(`${file.path}: mode ${mode}, rendered ${file.permissions}`);
  }
  return problems;
}

async function stopPostfix(root: TestRoot): Promise<void> {
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

function spawnLogged(unit: string, command: string, args: string[], user?: { uid: number; gid: number }): ChildProcess {
  // Its own process group, so stop() can kill the daemon and everything it forked.
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...(user ?? {}) });
  if (child.pid !== undefined) runningGroups.add(child.pid);
  const tag = `[${unit}] `;
  child.stdout?.on("data", (d: Buffer) => process.env.MTA_DAEMON_LOG && process.stderr.write(tag + d.toString()));
  child.stderr?.on("data", (d: Buffer) => process.env.MTA_DAEMON_LOG && process.stderr.write(tag + d.toString()));
  return child;
}

async function waitForSocket(path: string, timeoutMs: number): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(path);
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${path} after ${timeoutMs} ms`);
}

export async function waitForPort(host: string, port: number, timeoutMs = 10_000, localAddress?: string): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}
