/**
 * The mail host under faults, in the mail lab (see test/mta-e2e.test.ts for
 * how the host is installed and run): an application keeps submitting from
 * its ordinary address while each OpenDKIM signer, then Dovecot, is killed
 * with SIGKILL and started again after an outage, as systemd's Restart=
 * (rendered for all three) does. An application's mail library retries a
 * temporary failure (4xx, a refused or dropped connection), and so does
 * this client. What must hold: every message the host accepted arrives
 * exactly once and carries both signatures (milter_default_action =
 * tempfail: no signer, no acceptance), none is refused for good, and
 * submission accepts mail again within 5 s of the daemon's return.
 *
 * Needs root and .ci/run's packages; `npm test` runs it in the lab.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import type { KnotServer } from "./support/dns-tools";
import { LAB, requireLab } from "./support/lab";
import { collectArrivals, submitBatch } from "./support/mta-batch";
import type { MailHostDaemons, Unit } from "./support/mta-daemons";
import { createKeys, passwordOf, startFixtureHost, startLabDns } from "./support/mta-e2e-fixture";
import { startSmtpReceiver, type SmtpReceiver } from "./support/mta-e2e-smtp";

/** How long each daemon stays dead before it is started again (systemd's RestartSec is 1 s; a longer outage is the harder case). */
const OUTAGE_MS = 3_000;
/** The bound on how soon submission must accept mail again once the daemon is back. */
const RECOVERY_BOUND_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let knot: KnotServer | undefined;
let receiver: SmtpReceiver | undefined;
let host: MailHostDaemons | undefined;

describe("mail host under faults: kill -9 of each OpenDKIM signer and of Dovecot during a batch", { timeout: 240_000 }, () => {
  before(async () => {
    requireLab("the mail-host fault test");
    assert.equal(process.getuid?.(), 0, "the fault test runs the daemons as root");
    const keys = await createKeys();
    knot = await startLabDns(keys);
    receiver = await startSmtpReceiver("mx.provider.example", { address: LAB.RECEIVERS[0], port: 25 });
    host = await startFixtureHost(keys);
  });

  after(async () => {
    for (const stop of [() => host?.stop(), () => receiver?.stop(), () => knot?.stop()]) await stop()?.catch(() => undefined);
  });

  it("loses nothing, sends nothing unsigned, and takes mail again within 5 s of each daemon's return", async (t) => {
    assert.ok(host && receiver);
    const accepts: number[] = [];
    let faultsDone = false;
    const batchRun = submitBatch({
      count: 5_000,
      concurrency: 4,
      credential: { login: "webapp", password: passwordOf("webapp") },
      envelopeFrom: "noreply@example.com",
      recipient: "bob@provider.example",
      retryForMs: 60_000,
      onAttempt: (_i, accepted, at) => accepted && accepts.push(at),
      stopWhen: () => faultsDone,
    });

    const recoveries: { unit: Unit; backMs: number; refusedDuringOutage: boolean }[] = [];
    for (const unit of ["opendkim", "opendkim-ed25519", "dovecot"] as const) {
      await sleep(1_000);
      await host.kill(unit, "SIGKILL");
      const killedAt = performance.now();
      await sleep(OUTAGE_MS);
      // Nothing may have been accepted while a signer (or the auth service) was gone, but what was in flight at the kill.
      const acceptedWhileDown = accepts.filter((at) => at > killedAt + 500).length;
      await host.start(unit);
      const returnedAt = performance.now();
      const deadline = returnedAt + 15_000;
      while (!accepts.some((at) => at > returnedAt) && performance.now() < deadline) await sleep(20);
      const firstAccept = accepts.find((at) => at > returnedAt);
      recoveries.push({ unit, backMs: firstAccept === undefined ? Infinity : firstAccept - returnedAt, refusedDuringOutage: acceptedWhileDown === 0 });
    }
    await sleep(1_000);
    faultsDone = true;
    const batch = await batchRun;
    const got = await collectArrivals(receiver, batch, 2, 60_000);

    t.diagnostic(`${batch.ids.length} messages, ${batch.attempts} sessions; ${recoveries.map((r) => `${r.unit} back ${r.backMs.toFixed(0)} ms after its return`).join("; ")}`);
    assert.deepEqual(batch.failures, [], "a message was refused for good");
    assert.equal(batch.accepted.size, batch.ids.length);
    assert.ok(batch.attempts > batch.ids.length, "the outages refused some sessions (temporarily): the faults hit the batch");
    assert.deepEqual(got.lost, [], "accepted and never delivered");
    assert.equal(got.duplicates, 0);
    assert.deepEqual(got.underSigned, [], "delivered without both signatures");
    for (const r of recoveries) {
      assert.ok(r.refusedDuringOutage, `${r.unit}: mail was accepted while it was down`);
      assert.ok(r.backMs <= RECOVERY_BOUND_MS, `${r.unit}: submission took ${r.backMs.toFixed(0)} ms to take mail again after its return\n${(await host.postfixLog()).split("\n").slice(-30).join("\n")}`);
    }
  });
});
