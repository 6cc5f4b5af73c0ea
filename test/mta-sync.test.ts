/**
 * The mail host's sync machinery, run for real: the rendered postforge-sync
 * (bash) and postforge-write-files (python3), relocated into a temporary root,
 * with a stand-in `aws` on PATH that serves the config manifest as Secrets
 * Manager would. Shows that a first run writes every file of the manifest
 * with its owner and mode and runs the boot script in it, that an unchanged
 * manifest is not applied again, that a changed one (a key rotation) is, and
 * that an unreadable manifest fails loudly. Needs root (file owners) and
 * .ci/run's packages (the owners opendkim, dovecot, postfix exist).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { gunzipSync } from "node:zlib";
import { dirname } from "node:path";
import { after, before, describe, it } from "node:test";
import { dkimSecretName } from "../components/dkim/keyring";
import {
  configManifest,
  CONFIG_MANIFEST_FORMAT,
  encodeConfigManifest,
  MAX_ATTEMPTS,
  parseMailHostConfig,
  PATHS,
  renderSyncScript,
  renderWriteFilesScript,
  type MailHostConfig,
} from "../components/mta-host";
import { config as exampleConfig } from "./support/mta-e2e-fixture";
import { makeTestRoot, type TestRoot } from "./support/mta-tools";

interface Result {
  code: number;
  stderr: string;
}

function runScript(file: string, env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, [], { env, timeout: 60_000 }, (error, _stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

describe("postforge-sync and postforge-write-files, run for real", () => {
  let root: TestRoot;
  let at: (path: string) => string;
  let env: NodeJS.ProcessEnv;
  const booted = () => readFile(at("/booted"), "utf8").then((t) => t.split("\n").filter(Boolean), () => [] as string[]);

  /** The manifest as the host would fetch it, its paths moved into the test root and its boot script a recorder. */
  async function serve(config: MailHostConfig): Promise<void> {
    const manifest = configManifest(config);
    const files = manifest.files.map((f) =>
      f.path === PATHS.bootScript ? { ...f, path: at(f.path), content: `#!/bin/sh\necho "${config.domains.map((d) => d.selectors.map((s) => s.selector).join("+")).join(",")}" >> ${at("/booted")}\n` } : { ...f, path: at(f.path) },
    );
    await writeFile(at("/manifest.json"), `${encodeConfigManifest(`${JSON.stringify({ ...manifest, files }, null, 1)}\n`)}\n`);
  }

  before(async () => {
    assert.equal(userInfo().uid, 0, "the sync test sets file owners (opendkim, dovecot, postfix): it runs as root, as CI does");
    root = await makeTestRoot("postforge-sync-");
    at = (path: string) => root.at(path);
    // The scripts, relocated: their own paths and the state directory into the root.
    const relocate = (text: string) =>
      [PATHS.writeFilesScript, PATHS.bootScript, PATHS.syncState].reduce((t, path) => t.split(path).join(at(path)), text);
    for (const [path, content] of [
      [PATHS.syncScript, relocate(renderSyncScript(exampleConfig))],
      [PATHS.writeFilesScript, renderWriteFilesScript()],
    ] as const) {
      await mkdir(dirname(at(path)), { recursive: true });
      await writeFile(at(path), content);
      await chmod(at(path), 0o700);
    }
    // A stand-in for the AWS CLI: answers only the get-secret-value call the script must make, from manifest.json.
    await mkdir(at("/bin"), { recursive: true });
    await writeFile(
      at("/bin/aws"),
      `#!/bin/sh
[ -e ${at("/aws-down")} ] && { echo "An error occurred (AccessDeniedException)" >&2; exit 255; }
[ "$*" = "secretsmanager get-secret-value --secret-id postforge/mail-host/mail.example.com/config --region eu-west-1 --query SecretString --output text" ] || { echo "unexpected aws call: $*" >&2; exit 2; }
cat ${at("/manifest.json")}
`,
    );
    await chmod(at("/bin/aws"), 0o755);
    env = { ...process.env, PATH: `${at("/bin")}:${process.env.PATH}` };
  });
  after(() => root?.cleanup());

  it("first run: writes every file of the manifest with its owner and mode, runs its boot script, records what it applied", async () => {
    await serve(exampleConfig);
    const first = await runScript(at(PATHS.syncScript), env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /postforge-write-files: \d+ files written/);
    for (const file of configManifest(exampleConfig).files) {
      if (file.path === PATHS.bootScript) continue;
      assert.equal(await readFile(at(file.path), "utf8"), file.content, file.path);
      const info = await stat(at(file.path));
      assert.equal((info.mode & 0o777).toString(8).padStart(4, "0"), file.permissions, file.path);
      const [user, group] = file.owner.split(":");
      assert.equal(info.uid, Number((await exec("id", ["-u", user])).trim()), `${file.path} owner`);
      assert.equal(info.gid, Number((await exec("getent", ["group", group])).split(":")[2]), `${file.path} group`);
    }
    // Directories it had to make stay traversable by the daemons' users, though the sync runs under umask 077.
    const keyTable = configManifest(exampleConfig).files.find((f) => f.path.endsWith("KeyTable"))!;
    assert.equal(((await stat(dirname(at(keyTable.path)))).mode & 0o777).toString(8), "755");
    assert.deepEqual(await booted(), ["pf2026q4+pf2026q4e,pf2026q4"]);
    assert.match(await readFile(at(`${PATHS.syncState}/applied.sha256`), "utf8"), /^[0-9a-f]{64}\n$/);
  });

  it("an unchanged manifest is not applied again", async () => {
    const again = await runScript(at(PATHS.syncScript), env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "");
    assert.deepEqual(await booted(), ["pf2026q4+pf2026q4e,pf2026q4"]);
  });

  it("a changed manifest (a key rotation) is written and applied in place", async () => {
    const rotated = parseMailHostConfig({
      ...exampleConfig,
      domains: exampleConfig.domains.map((d) => (d.domain === "example.org" ? { ...d, selectors: [{ selector: "pf2027q2", algorithm: "rsa" as const, secretName: dkimSecretName(d.domain, "pf2027q2") }] } : d)),
    });
    await serve(rotated);
    const result = await runScript(at(PATHS.syncScript), env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await booted(), ["pf2026q4+pf2026q4e,pf2026q4", "pf2026q4+pf2026q4e,pf2027q2"]);
    const signingTable = configManifest(rotated).files.find((f) => f.path.endsWith("SigningTable"))!;
    assert.match(await readFile(at(signingTable.path), "utf8"), /pf2027q2/);
  });

  it("removes the files the last applied manifest wrote and the new one does not", async () => {
    // A stand-in for a file only an older configuration had: listed in the applied manifest, absent from the new one.
    const applied = JSON.parse(await readFile(at(`${PATHS.syncState}/applied.json`), "utf8"));
    const stale = at("/etc/postfix/stale-table");
    await writeFile(stale, "old\n");
    applied.files.push({ path: stale, content: "old\n", owner: "root:root", permissions: "0644" });
    await writeFile(at(`${PATHS.syncState}/applied.json`), JSON.stringify(applied));
    await serve(exampleConfig);
    const result = await runScript(at(PATHS.syncScript), env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`postforge-write-files: removed ${stale.replace(/[.]/g, "\\.")}`));
    await assert.rejects(stat(stale));
  });

  it("stops re-applying a configuration that keeps failing, and applies the next one", async () => {
    const failing = parseMailHostConfig({ ...exampleConfig, messageSizeLimit: 52_428_800 });
    await serve(failing);
    // Its boot script fails, as a unit that will not start would.
    const manifest = JSON.parse(gunzip(await readFile(at("/manifest.json"), "utf8")));
    manifest.files = manifest.files.map((f: { path: string; content: string }) => (f.path === at(PATHS.bootScript) ? { ...f, content: `#!/bin/sh\necho failed >> ${at("/failures")}\nexit 3\n` } : f));
    await writeFile(at("/manifest.json"), `${encodeConfigManifest(`${JSON.stringify(manifest, null, 1)}\n`)}\n`);
    for (let i = 1; i <= MAX_ATTEMPTS + 2; i++) {
      const result = await runScript(at(PATHS.syncScript), env);
      assert.notEqual(result.code, 0);
      if (i > MAX_ATTEMPTS) assert.match(result.stderr, new RegExp(`failed ${MAX_ATTEMPTS} times; not applying it again until it changes`));
    }
    assert.equal((await readFile(at("/failures"), "utf8")).split("\n").filter(Boolean).length, MAX_ATTEMPTS);
    // The next configuration is applied as usual.
    await serve(parseMailHostConfig({ ...exampleConfig, messageSizeLimit: 31_457_280 }));
    const recovered = await runScript(at(PATHS.syncScript), env);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal((await booted()).length, 4);
  });

  it("fails loudly when the manifest cannot be read, and applies nothing", async () => {
    await writeFile(at("/aws-down"), "");
    try {
      await serve(exampleConfig);
      const result = await runScript(at(PATHS.syncScript), env);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /postforge-sync: cannot read postforge\/mail-host\/mail\.example\.com\/config in eu-west-1: does the instance role allow secretsmanager:GetSecretValue on it\?/);
      assert.equal((await booted()).length, 4);
    } finally {
      await exec("rm", ["-f", at("/aws-down")]);
    }
  });

  it("refuses a document that is not a manifest, and another host's manifest", async () => {
    const write = (file: string) =>
      new Promise<Result>((resolve) => execFile(at(PATHS.writeFilesScript), [file, "mail.example.com"], (error, _o, stderr) => resolve({ code: error ? 1 : 0, stderr })));
    await writeFile(at("/not-a-manifest.json"), JSON.stringify({ format: "something-else", files: [] }));
    const notManifest = await write(at("/not-a-manifest.json"));
    assert.equal(notManifest.code, 1);
    assert.match(notManifest.stderr, new RegExp(`is not a ${CONFIG_MANIFEST_FORMAT} manifest`));
    await writeFile(at("/other-host.json"), JSON.stringify({ format: CONFIG_MANIFEST_FORMAT, hostname: "mx.example.net", files: [] }));
    const other = await write(at("/other-host.json"));
    assert.equal(other.code, 1);
    assert.match(other.stderr, /configures 'mx\.example\.net', not this host 'mail\.example\.com'/);
  });
});

function gunzip(base64: string): string {
  return gunzipSync(Buffer.from(base64.trim(), "base64")).toString("utf8");
}

function exec(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(command, args, (error, stdout) => (error ? reject(error) : resolve(stdout))));
}
