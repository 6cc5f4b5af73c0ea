/**
 * Zone files `postforge plan --out` writes load into a real DNS server and
 * serve what the stack config says: CAA included, which used to be encoded
 * twice (`0 issue "0 issue \"letsencrypt.org\""`) because the plan's
 * presentation value replaced the record's own.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../cli/postforge";
import { resolver, startKnot, type KnotServer } from "./support/dns-tools";
import { captureIo } from "./support/io";
import { PROJECT_DIR } from "./support/offline";
import { exampleStackConfig } from "./support/policy-harness";

describe("zone files from plan --out, served by knotd", () => {
  let knot: KnotServer | undefined;
  const out = fs.mkdtempSync(path.join(tmpdir(), "postforge-zones-"));
  after(async () => {
    await knot?.stop();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("serves the CAA records of the stack config once, as configured", async () => {
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--cwd", PROJECT_DIR, "--out", out], io), 0, io.err);
    const text = fs.readFileSync(path.join(out, "example.com.zone"), "utf8");
    assert.deepEqual(text.split("\n").filter((l) => /\tCAA\t/.test(l)), [
      'example.com.\t3600\tIN\tCAA\t0 iodef "mailto:security@example.com"',
      'example.com.\t3600\tIN\tCAA\t0 issue "letsencrypt.org"',
    ]);
    knot = await startKnot([{ apex: "example.com", text }]);
    const served = await resolver(knot.port).resolveCaa("example.com");
    const caa = exampleStackConfig("dev")["postforge:domains"][0].caa as { issue: string[]; iodef: string[] };
    const expected = [...caa.issue.map((v) => ({ critical: 0, issue: v })), ...caa.iodef.map((v) => ({ critical: 0, iodef: v }))];
    const key = (r: object) => JSON.stringify(r);
    assert.deepEqual(served.map(key).sort(), expected.map(key).sort());
  });
});
