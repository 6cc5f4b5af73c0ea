/**
 * A resolver that never answers must not hold verify for (queries ÷
 * concurrency) timeouts: after UNREACHABLE_AFTER_TIMEOUTS queries in a row
 * time out, every query not yet sent is reported "not run: resolver
 * unreachable". The stated bound: a run against a dead resolver ends within
 * two --timeout periods plus one second (the first wave of queries, one more
 * for a wave already in flight, and the work around them), whatever the
 * number of domains.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, before, describe, it } from "node:test";
import { EXIT, main } from "../cli/postforge";
import { UNREACHABLE_AFTER_TIMEOUTS } from "../cli/verify/dns";
import { captureIo } from "./support/io";

describe("verify against a resolver that never answers", { timeout: 60_000 }, () => {
  let silent: Socket;
  let port: number;
  before(async () => {
    // Takes every query and answers none.
    silent = createSocket("udp4");
    await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", () => resolve()));
    port = silent.address().port;
  });
  after(() => silent.close());

  it("checks 50 domains at --timeout 1000 within 2 × 1000 ms + 1 s, saying the rest was not run", async () => {
    const domains = Array.from({ length: 50 }, (_, i) => `d${i}.example.com`);
    const io = captureIo();
    const started = Date.now();
    const code = await main(["verify", ...domains.flatMap((d) => ["--domain", d]), "--resolver", `127.0.0.1:${port}`, "--timeout", "1000", "--json"], io);
    const elapsed = Date.now() - started;
    assert.equal(code, EXIT.failed, io.err);
    assert.ok(elapsed <= 2 * 1000 + 1000, `took ${elapsed} ms`);
    const checks = JSON.parse(io.out) as { domain: string; status: string; message: string }[];
    assert.deepEqual([...new Set(checks.map((c) => c.domain))].sort(), [...domains].sort(), "every domain is in the report");
    const notRun = checks.filter((c) => /not run: resolver unreachable/.test(c.message));
    assert.ok(notRun.length > 0, "the report says what was not run");
    assert.ok(checks.every((c) => c.status !== "pass"), "nothing passes against a dead resolver");
    assert.ok(UNREACHABLE_AFTER_TIMEOUTS <= 10);
  });
});
