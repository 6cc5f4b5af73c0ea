/**
 * A policy pack started as the Pulumi CLI starts a Node.js pack
 * (`pulumi-analyzer-policy` runs @pulumi/pulumi's run-policy-pack in the
 * pack's directory); resolves with the port it serves the analyzer protocol
 * on, once it prints it.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface PolicyPackProcess {
  port: number;
  /** What the pack wrote to stderr so far. */
  stderr(): string;
  stop(): void;
}

export async function startPolicyPack(packDir: string, runPolicyPack: string, timeoutMs = 180_000): Promise<PolicyPackProcess> {
  const pack: ChildProcess = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  pack.stderr!.on("data", (chunk) => (stderr += chunk));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`the pack printed no port in ${timeoutMs / 1000} s:\n${stderr}`)), timeoutMs);
      pack.stdout!.on("data", (chunk) => {
        out += chunk;
        const line = /^(\d+)\s*$/m.exec(out);
        if (line) {
          clearTimeout(timer);
          resolve(Number(line[1]));
        }
      });
      pack.on("exit", (code) => reject(new Error(`the pack exited with ${code} before serving:\n${stderr}`)));
    });
    return { port, stderr: () => stderr, stop: () => pack.kill() };
  } catch (error) {
    pack.kill();
    throw error;
  }
}
