/**
 * Sending rates and their thresholds (components/sending/rates.ts): SES's
 * denominators (bounces over sends, complaints over deliveries), the
 * providers' thresholds at their exact edges, and no verdict on too few messages.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS, RATE_MINIMUM_VOLUME, sendingRates } from "../components/sending/rates";

describe("sending rates", () => {
  it("divide hard bounces by sends and complaints by deliveries", () => {
    const rates = sendingRates({ sent: 1000, delivered: 800, hardBounces: 20, complaints: 1 });
    assert.deepEqual(rates.bounce, { value: 0.02, over: 1000, level: "ok" });
    assert.deepEqual(rates.complaint, { value: 1 / 800, over: 800, level: "warn" });
  });

  it("warn and go critical exactly at the published thresholds: bounces 5% and 10%, complaints 0.1% and 0.3%", () => {
    const bounce = (hard: number) => sendingRates({ sent: 10_000, delivered: 10_000, hardBounces: hard, complaints: 0 }).bounce.level;
    assert.deepEqual([bounce(499), bounce(500), bounce(999), bounce(1000)], ["ok", "warn", "warn", "critical"]);
    const complaint = (n: number) => sendingRates({ sent: 10_000, delivered: 10_000, hardBounces: 0, complaints: n }).complaint.level;
    assert.deepEqual([complaint(9), complaint(10), complaint(29), complaint(30)], ["ok", "warn", "warn", "critical"]);
    assert.deepEqual([BOUNCE_RATE_THRESHOLDS.warn, BOUNCE_RATE_THRESHOLDS.critical, COMPLAINT_RATE_THRESHOLDS.warn, COMPLAINT_RATE_THRESHOLDS.critical], [0.05, 0.1, 0.001, 0.003]);
  });

  it("judge nothing on fewer than the minimum volume", () => {
    const rates = sendingRates({ sent: RATE_MINIMUM_VOLUME - 1, delivered: 10, hardBounces: 50, complaints: 5 });
    assert.deepEqual(rates.bounce, { level: "too-few", over: RATE_MINIMUM_VOLUME - 1 });
    assert.equal(rates.complaint.level, "too-few");
    assert.equal(sendingRates({ sent: RATE_MINIMUM_VOLUME, delivered: 0, hardBounces: 10, complaints: 0 }).bounce.level, "critical");
  });
});
