/**
 * A second DKIM verifier beside mailauth: Debian's python3-dkim (dkimpy),
 * run by Debian's own python3 on a received message. It resolves keys
 * through the system resolver, which in the mail lab is the lab's knotd.
 * Returns each DKIM-Signature's verdict and its tags, h= split into names.
 */
import { spawn } from "node:child_process";

export interface DkimpySignature {
  d: string;
  s: string;
  a: string;
  /** The signed header names, in h= order, as written (case kept). */
  h: string[];
  pass: boolean;
}

const SCRIPT = `
import json, sys
import dkim
from dkim.util import parse_tag_value
message = sys.stdin.buffer.read()
checker = dkim.DKIM(message)
signatures = [value for (name, value) in checker.headers if name.lower() == b"dkim-signature"]
out = []
for index, value in enumerate(signatures):
    tags = parse_tag_value(b"".join(value.split()))
    out.append({
        "d": tags[b"d"].decode(), "s": tags[b"s"].decode(), "a": tags[b"a"].decode(),
        "h": [h.decode() for h in tags[b"h"].split(b":")],
        "pass": bool(checker.verify(idx=index)),
    })
print(json.dumps(out))
`;

export function dkimpyVerify(message: string): Promise<DkimpySignature[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(new Error(`python3-dkim: ${e.message} (install Debian package python3-dkim, see .ci/run)`)));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`python3-dkim exited ${code}:\n${stderr}`));
      resolve(JSON.parse(stdout) as DkimpySignature[]);
    });
    child.stdin.end(Buffer.from(message, "latin1"));
  });
}
