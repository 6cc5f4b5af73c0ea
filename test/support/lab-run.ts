/**
 * Runs a command in the mail lab (see ./lab.ts): `node --import tsx
 * test/support/lab-run.ts <command> [args...]`. As root, with unshare(1)
 * allowed, it re-runs itself under `unshare --net --mount`, brings up the
 * private loopback interface with the lab's addresses, bind-mounts a
 * resolv.conf that names the lab's DNS server (the mount is private to the
 * namespace: the machine's file is untouched), then runs the command there.
 * Otherwise (not root, or no namespaces) it runs the command as it is, and
 * the tests that need the lab say so. Exits with the command's status.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { LAB, LAB_ADDRESSES, LAB_ENV } from "./lab";

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.error) throw result.error;
  return result.status ?? (result.signal ? 128 : 1);
}

function must(command: string, args: string[]): void {
  const status = run(command, args);
  if (status !== 0) throw new Error(`lab-run: ${command} ${args.join(" ")} exited ${status}`);
}

const [first, ...rest] = process.argv.slice(2);
if (first === "--inside") {
  must("ip", ["link", "set", "lo", "up"]);
  for (const address of LAB_ADDRESSES) must("ip", address.includes(":") ? ["-6", "addr", "add", `${address}/128`, "dev", "lo"] : ["addr", "add", `${address}/32`, "dev", "lo"]);
  const dir = mkdtempSync(join(tmpdir(), "postforge-lab-"));
  writeFileSync(join(dir, "resolv.conf"), `# The mail lab's resolver (test/support/lab.ts)\nnameserver ${LAB.DNS_SERVER}\noptions timeout:1 attempts:1\n`);
  must("mount", ["--bind", join(dir, "resolv.conf"), "/etc/resolv.conf"]);
  const status = run(rest[0], rest.slice(1), { ...process.env, [LAB_ENV]: "1" });
  run("umount", ["/etc/resolv.conf"]);
  rmSync(dir, { recursive: true, force: true });
  process.exit(status);
}
if (first === undefined) {
  console.error("usage: node --import tsx test/support/lab-run.ts <command> [args...]");
  process.exit(2);
}
const canUnshare = userInfo().uid === 0 && process.env[LAB_ENV] === undefined && spawnSync("unshare", ["--net", "--mount", "true"]).status === 0;
if (!canUnshare) process.exit(run(first, rest));
process.exit(run("unshare", ["--net", "--mount", "--", process.execPath, ...process.execArgv, __filename, "--inside", first, ...rest]));
