/**
 * Every command writes all its output before it exits, whatever stdout is:
 * a pipe with a slow reader gets every byte of a large `plan --json`, `diff`
 * and `verify --json` (the same bytes the command produces in-process, and
 * JSON that parses), and a reader that goes away ends the command quietly.
 * Output over 64 KiB used to be cut when stdout was a pipe (process.exit()
 * right after writing).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { generateStackConfig } from "../bench/generate-stack";
import { main } from "../cli/postforge";
import { captureIo } from "./support/io";
import { PROJECT_DIR } from "./support/offline";

const BIN = path.join(PROJECT_DIR, "bin", "postforge.js");

/** Run the bin with stdout read slowly (a pause after every chunk); resolves with every byte and the exit code. */
function runSlowly(args: string[], closeAfterFirstChunk = false): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (closeAfterFirstChunk) {
        child.stdout.destroy();
        return;
      }
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 3);
    });
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(chunks), stderr }));
  });
}

describe("output through a pipe", { timeout: 240_000 }, () => {
  let dir: string;
  let planCode: number;
  let silent: Socket;
  before(async () => {
    dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-pipe-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(PROJECT_DIR, "index.ts"), path.join(dir, "index.ts"));
    fs.mkdirSync(path.join(dir, "stacks"));
    const flat = generateStackConfig(100, "route53");
    const config = Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, /^[[{]/.test(v) ? JSON.parse(v) : v]));
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.big.yaml"), stringify({ config: { "aws:region": "eu-west-1", ...config } }));
    silent = createSocket("udp4");
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  });
  after(() => {
    silent.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("plan --json of 100 domains: every byte reaches a slow reader, the same as in-process, and parses", async () => {
    const io = captureIo();
    planCode = await main(["plan", "--stack", "big", "--cwd", dir, "--json"], io);
    const expected = Buffer.from(io.out);
    assert.ok(expected.length > 65_536 * 2, `${expected.length} bytes`);
    const piped = await runSlowly(["plan", "--stack", "big", "--cwd", dir, "--json"]);
    assert.equal(piped.stderr, "");
    assert.equal(piped.stdout.length, expected.length);
    assert.ok(piped.stdout.equals(expected));
    assert.equal(piped.code, planCode);
    assert.equal(JSON.parse(piped.stdout.toString()).domains.length, 100);
    fs.writeFileSync(path.join(dir, "base.json"), expected);
  });

  it("diff of two large plans and verify --json of 100 domains reach a slow reader whole", async () => {
    const base = JSON.parse(fs.readFileSync(path.join(dir, "base.json"), "utf8"));
    // Every TTL changed: a diff that touches every record.
    for (const d of base.domains) for (const r of d.records) r.ttl += 1;
    fs.writeFileSync(path.join(dir, "head.json"), JSON.stringify(base));
    const diffArgs = ["diff", "--base", path.join(dir, "base.json"), "--head", path.join(dir, "head.json")];
    const io = captureIo();
    await main(diffArgs, io);
    const piped = await runSlowly(diffArgs);
    assert.ok(io.out.length > 65_536, `${io.out.length} bytes`);
    assert.equal(piped.stdout.toString(), io.out);

    const verifyArgs = ["verify", "--stack", "big", "--cwd", dir, "--resolver", `127.0.0.1:${silent.address().port}`, "--timeout", "300", "--json"];
    const verified = await runSlowly(verifyArgs);
    assert.equal(verified.code, 1, verified.stderr);
    const checks = JSON.parse(verified.stdout.toString()) as unknown[];
    assert.ok(verified.stdout.length > 65_536 && checks.length > 100, `${verified.stdout.length} bytes, ${checks.length} checks`);
  });

  it("a reader that goes away ends the command quietly, with the command's own status: no stack trace", async () => {
    const gone = await runSlowly(["plan", "--stack", "big", "--cwd", dir, "--json"], true);
    assert.equal(gone.stderr, "");
    assert.equal(gone.code, planCode);
  });
});
