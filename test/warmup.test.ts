/**
 * IP warm-up as code (components/sending/): the default ramp against the
 * published figures it is derived from, the caps of a day (before, during,
 * after), a group's own ramp, the config's refusals, the receiver groups;
 * then the plan and the policy over real stack programs.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { main } from "../cli/postforge";
import { parseMailHostConfig, type MailHostConfig } from "../components/mta-host";
import { renderWarmupSchedule, renderWarmupTool } from "../components/mta-host/warmup-gate";
import { renderPostfixMainCf, renderPostfixMasterCf } from "../components/mta-host/postfix";
import { config as fixtureConfig } from "./support/mta-e2e-fixture";
import { captureIo } from "./support/io";
import { RECEIVER_GROUPS, RECEIVER_GROUP_DOMAINS, receiverGroupOf } from "../components/sending/receiver-groups";
import {
  DEFAULT_FIRST_DAILY_CAP,
  DEFAULT_LAST_DAILY_CAP,
  DEFAULT_RAMP_DAYS,
  addDays,
  capOnDay,
  defaultRamp,
  todayUtc,
  warmupDayOn,
  warmupSchedule,
  warmupSchema,
} from "../components/sending/warmup";
import { parseOrThrow, ValidationError } from "../components/validation";
import { comparePlans } from "../cli/diff/compare";
import { buildPlan } from "../cli/plan/plan";
import { renderPlanTable } from "../cli/plan/report";
import { runOffline } from "../cli/plan/engine";
import { PROJECT_DIR } from "./support/offline";
import { assertNone, assertOnly, captureStack, exampleStackConfig, runPolicies } from "./support/policy-harness";

const schedule = (input: unknown) => warmupSchedule(parseOrThrow(warmupSchema, input, "warmup"));

describe("the default warm-up ramp", () => {
  it("runs 45 days from 480 to 50,000 a day, rising every day by the same factor", () => {
    const ramp = defaultRamp();
    assert.equal(ramp.length, DEFAULT_RAMP_DAYS);
    assert.equal(DEFAULT_RAMP_DAYS, 45, "Amazon SES: 50,000 a day within 45 days");
    assert.deepEqual(ramp[0], { day: 1, dailyCap: 480 }, "SendGrid's day-0 20 an hour, over a day");
    assert.deepEqual(ramp[44], { day: 45, dailyCap: DEFAULT_LAST_DAILY_CAP });
    assert.equal(DEFAULT_LAST_DAILY_CAP, 50_000);
    assert.deepEqual(ramp.map((s) => s.day), Array.from({ length: 45 }, (_, i) => i + 1));
    const factor = (50_000 / DEFAULT_FIRST_DAILY_CAP) ** (1 / 44);
    for (let i = 1; i < 44; i++) {
      assert.ok(ramp[i].dailyCap > ramp[i - 1].dailyCap, `day ${i + 1} rises`);
      // Rounded down to tens: within 10 of the curve.
      const curve = 480 * factor ** i;
      assert.ok(ramp[i].dailyCap <= curve && ramp[i].dailyCap > curve - 10, `day ${i + 1}: ${ramp[i].dailyCap} vs ${curve.toFixed(1)}`);
    }
    // Worked out by hand: 480 × 1.1113^7 ≈ 1,004 on day 8; 480 × 1.1113^22 ≈ 4,899 on day 23.
    assert.equal(ramp[7].dailyCap, 1000);
    assert.equal(ramp[22].dailyCap, 4890);
  });
});

describe("the caps of a day", () => {
  const s = schedule({ startDate: "2026-12-01" });

  it("day 1 is the start date; before it day 1's caps hold; after day 45 they lift", () => {
    assert.equal(s.endDate, "2027-01-14");
    assert.deepEqual(warmupDayOn(s, "2026-12-01"), { day: 1, state: "warming", caps: { gmail: 480, microsoft: 480, yahoo: 480, other: 480 } });
    assert.deepEqual(warmupDayOn(s, "2026-11-28"), { day: -2, state: "before", caps: { gmail: 480, microsoft: 480, yahoo: 480, other: 480 } });
    assert.equal(warmupDayOn(s, "2026-12-08").caps?.gmail, 1000);
    assert.deepEqual(warmupDayOn(s, "2027-01-14"), { day: 45, state: "warming", caps: { gmail: 50_000, microsoft: 50_000, yahoo: 50_000, other: 50_000 } });
    assert.deepEqual(warmupDayOn(s, "2027-01-15"), { day: 46, state: "lifted" });
  });

  it("an explicit ramp is a step function: a step's cap holds until the next, and lifts after the last step's day", () => {
    const own = schedule({ startDate: "2026-12-01", ramp: [{ day: 1, dailyCap: 100 }, { day: 8, dailyCap: 1000 }, { day: 30, dailyCap: 20_000 }] });
    assert.equal(own.lastDay, 30);
    assert.equal(capOnDay(own.ramps.other, 7), 100);
    assert.equal(capOnDay(own.ramps.other, 8), 1000);
    assert.equal(capOnDay(own.ramps.other, 29), 1000);
    assert.equal(warmupDayOn(own, addDays("2026-12-01", 29)).caps?.other, 20_000);
    assert.equal(warmupDayOn(own, addDays("2026-12-01", 30)).state, "lifted");
  });

  it("a group may have a ramp of its own; the others follow the main one, and all lift together", () => {
    const own = schedule({ startDate: "2026-12-01", ramp: [{ day: 1, dailyCap: 500 }], groups: { gmail: [{ day: 1, dailyCap: 50 }, { day: 10, dailyCap: 5000 }] } });
    assert.equal(own.lastDay, 10);
    assert.deepEqual(warmupDayOn(own, "2026-12-01").caps, { gmail: 50, microsoft: 500, yahoo: 500, other: 500 });
    assert.deepEqual(warmupDayOn(own, "2026-12-10").caps, { gmail: 5000, microsoft: 500, yahoo: 500, other: 500 });
    assert.equal(warmupDayOn(own, "2026-12-11").state, "lifted");
  });
});

describe("the warm-up setting refuses", () => {
  const refused = (input: unknown) => {
    try {
      parseOrThrow(warmupSchema, input, "mailHost.warmup");
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      return error.problems;
    }
    assert.fail(`accepted ${JSON.stringify(input)}`);
  };

  it("a date that is not one, steps out of order, a falling cap, a ramp not starting on day 1, an unknown group", () => {
    assert.match(refused({ startDate: "2026-02-30" })[0], /^startDate = "2026-02-30": is not a calendar date/);
    assert.match(refused({ startDate: "1 Dec 2026" })[0], /must be a date written YYYY-MM-DD/);
    assert.match(refused({ startDate: "2026-12-01", ramp: [{ day: 2, dailyCap: 10 }] })[0], /^ramp\[0\]\.day = 2: must be 1: the ramp starts on startDate/);
    assert.match(refused({ startDate: "2026-12-01", ramp: [{ day: 1, dailyCap: 10 }, { day: 1, dailyCap: 20 }] })[0], /^ramp\[1\]\.day = 1: must come after day 1/);
    assert.match(refused({ startDate: "2026-12-01", ramp: [{ day: 1, dailyCap: 100 }, { day: 5, dailyCap: 50 }] })[0], /^ramp\[1\]\.dailyCap = 50: must not be below the day before's 100/);
    assert.match(refused({ startDate: "2026-12-01", groups: { hotmail: [{ day: 1, dailyCap: 5 }] } })[0], /^groups\.hotmail: unknown setting; remove it or check its spelling/);
    assert.match(refused({ startDate: "2026-12-01", ramp: "fast" })[0], /^ramp = "fast": must be "default" or a list of steps/);
  });
});

describe("receiver groups", () => {
  it("read the group from the recipient's domain, with a schedule's extra domains", () => {
    assert.equal(receiverGroupOf("someone@gmail.com"), "gmail");
    assert.equal(receiverGroupOf("someone@GoogleMail.com"), "gmail");
    assert.equal(receiverGroupOf("a@hotmail.co.uk"), "microsoft");
    assert.equal(receiverGroupOf("outlook.com"), "microsoft");
    assert.equal(receiverGroupOf("a@aol.com"), "yahoo");
    assert.equal(receiverGroupOf("a@yahoo.co.uk"), "yahoo");
    assert.equal(receiverGroupOf("a@example.com"), "other");
    assert.equal(receiverGroupOf("a@workspace-customer.example", { gmail: ["workspace-customer.example"] }), "gmail");
    assert.deepEqual(RECEIVER_GROUPS, ["gmail", "microsoft", "yahoo", "other"]);
    // Each domain in one group only.
    const all = Object.values(RECEIVER_GROUP_DOMAINS).flat();
    assert.equal(new Set(all).size, all.length);
  });
});

describe("today", () => {
  it("is UTC, or POSTFORGE_TODAY, which must be a date", () => {
    assert.equal(todayUtc({}, new Date("2026-12-01T23:59:59-05:00")), "2026-12-02");
    assert.equal(todayUtc({ POSTFORGE_TODAY: "2027-01-01" }), "2027-01-01");
    assert.throws(() => todayUtc({ POSTFORGE_TODAY: "tomorrow" }), /POSTFORGE_TODAY = "tomorrow": must be a date written YYYY-MM-DD/);
  });
});

/** With POSTFORGE_TODAY set for the duration of `body`. */
async function on<T>(date: string, body: () => Promise<T>): Promise<T> {
  process.env.POSTFORGE_TODAY = date;
  try {
    return await body();
  } finally {
    delete process.env.POSTFORGE_TODAY;
  }
}

describe("the host-warmup policy, over the selfhosted example stack", () => {
  const withoutWarmup = (extra: Record<string, unknown> = {}) => (c: Record<string, any>) => {
    delete c["postforge:mailHost"].warmup;
    Object.assign(c["postforge:mailHost"], extra);
  };

  it("passes the stack as written (it declares a warm-up)", async () => {
    assertNone((await on("2026-12-03", async () => runPolicies(await captureStack("selfhosted")))).filter((v) => v.policy === "host-warmup"));
  });

  it("refuses a production host with no schedule and a new address, naming the settings to add", async () => {
    const violations = await on("2026-12-03", async () => runPolicies(await captureStack("selfhosted", withoutWarmup())));
    assertOnly(violations, "host-warmup", [
      /^mail host mail\.example\.com has no warm-up schedule, and its address is new \(no mailHost\.sendingSince\): .*; add mailHost\.warmup: \{ startDate: "2026-12-03" \} \(45 days to 50,000 messages a day per receiver group\), or, for an address that has sent for 45 days or more, mailHost\.sendingSince: "YYYY-MM-DD"$/,
    ]);
  });

  it("accepts an address that has sent for 45 days, not one that has sent for 44", async () => {
    const warm = await on("2026-12-03", async () => runPolicies(await captureStack("selfhosted", withoutWarmup({ sendingSince: "2026-10-19" }))));
    assertNone(warm.filter((v) => v.policy === "host-warmup"));
    const young = await on("2026-12-03", async () => runPolicies(await captureStack("selfhosted", withoutWarmup({ sendingSince: "2026-10-20" }))));
    assertOnly(young, "host-warmup", [/has no warm-up schedule, and its address has sent only since 2026-10-20 \(44 days\)/]);
  });

  it("asks nothing of a stack that is not production", async () => {
    const dev = await on("2026-12-03", async () =>
      runPolicies(
        await captureStack("selfhosted", (c) => {
          withoutWarmup()(c);
          c["postforge:environment"] = "development";
        }),
      ),
    );
    assertNone(dev.filter((v) => v.policy === "host-warmup"));
  });
});

describe("the warm-up in the plan and the diff", () => {
  const plan = async (date: string, change?: (c: Record<string, any>) => void) => {
    const config = exampleStackConfig("selfhosted");
    change?.(config);
    const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const run = await runOffline({ programPath: `${PROJECT_DIR}/index.ts`, project: "postforge", stack: "selfhosted", config: flat });
    return on(date, async () => ({ ...buildPlan({ project: "postforge", stack: "selfhosted" }, run), policyViolations: [] }));
  };

  it("the plan table says where the address is in its ramp and today's caps", async () => {
    const text = (await on("2026-12-03", async () => renderPlanTable(await plan("2026-12-03")))).split("\n");
    assert.ok(text.includes("  warm-up      2026-12-01 to 2027-01-14, 45 days; day 3 on 2026-12-03: messages a day gmail 590, microsoft 590, yahoo 590, other 590"), text.join("\n"));
    const over = renderPlanTable(await plan("2027-02-01"));
    assert.match(over, /warm-up {6}2026-12-01 to 2027-01-14, 45 days; over on 2027-02-01: no caps/);
    const none = renderPlanTable(await plan("2026-12-03", (c) => delete c["postforge:mailHost"].warmup));
    assert.match(none, /warm-up {6}none \(the address sends at full speed from the first day\)/);
  });

  it("the diff names a schedule added, removed, moved or whose caps changed", async () => {
    const base = await plan("2026-12-03", (c) => delete c["postforge:mailHost"].warmup);
    const head = await plan("2026-12-03");
    const changes = (b: typeof base, h: typeof base) => comparePlans(b, h).mailHosts.flatMap((m) => m.changes).filter((c) => c.startsWith("warm-up"));
    assert.deepEqual(changes(base, head), ["warm-up added: 2026-12-01 to 2027-01-14 (45 days)"]);
    assert.deepEqual(changes(head, base), ["warm-up removed (was 2026-12-01 to 2027-01-14 (45 days)): the address sends at full speed"]);
    const moved = await plan("2026-12-03", (c) => (c["postforge:mailHost"].warmup = { startDate: "2026-12-08", groups: { gmail: [{ day: 1, dailyCap: 100 }, { day: 45, dailyCap: 40_000 }] } }));
    assert.deepEqual(changes(head, moved), ["warm-up 2026-12-01 to 2027-01-14 (45 days) → 2026-12-08 to 2027-01-21 (45 days)", "warm-up caps changed for gmail"]);

    // The same through plan files and the command, which reads the warm-up from them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-warmup-"));
    try {
      fs.writeFileSync(path.join(dir, "base.json"), JSON.stringify(base));
      fs.writeFileSync(path.join(dir, "head.json"), JSON.stringify(head));
      const io = captureIo();
      assert.equal(await main(["diff", "--base", path.join(dir, "base.json"), "--head", path.join(dir, "head.json")], io), 0, io.err);
      assert.match(io.out, /warm-up added: 2026-12-01 to 2027-01-14 \(45 days\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the host's postforge-warmup reads the schedule as Postforge wrote it", () => {
  // The tool's caps_on and group_of, imported from the rendered file and called on the rendered schedule.
  const hostAnswers = (config: MailHostConfig, dates: string[], addresses: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-warmup-tool-"));
    try {
      fs.writeFileSync(path.join(dir, "tool.py"), renderWarmupTool());
      fs.writeFileSync(path.join(dir, "schedule.json"), renderWarmupSchedule(config));
      const script = [
        "import importlib.machinery, json, sys",
        `tool = importlib.machinery.SourceFileLoader("tool", ${JSON.stringify(path.join(dir, "tool.py"))}).load_module()`,
        `schedule = tool.parse_schedule(open(${JSON.stringify(path.join(dir, "schedule.json"))}).read())`,
        `print(json.dumps({"caps": [tool.caps_on(schedule, d) for d in ${JSON.stringify(dates)}], "groups": [tool.group_of(schedule, a) for a in ${JSON.stringify(addresses)}]}))`,
      ].join("\n");
      const out = execFileSync("python3", ["-c", script], { encoding: "utf8" });
      return JSON.parse(out) as { caps: (Record<string, number> | null)[]; groups: (string | null)[] };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const base = parseMailHostConfig({ ...fixtureConfig, warmup: { startDate: "2026-12-01", groups: { microsoft: [{ day: 1, dailyCap: 100 }, { day: 60, dailyCap: 900 }] }, extraDomains: { gmail: ["workspace-customer.example"] } } });

  it("gives the caps warmupDayOn gives on every day from before the start to after the end", () => {
    const dates = Array.from({ length: 70 }, (_, i) => addDays("2026-11-28", i));
    const schedule = warmupSchedule(base.warmup!);
    const answers = hostAnswers(base, dates, []);
    dates.forEach((date, i) => assert.deepEqual(answers.caps[i], warmupDayOn(schedule, date).caps ?? null, date));
  });

  it("puts each recipient in the group receiverGroupOf names, and counts none of the host's own domains", () => {
    const addresses = ["a@gmail.com", "b@GoogleMail.com", "c@outlook.com", "d@aol.com", "e@workspace-customer.example", "f@small.example", `g@${base.domains[0].domain}`, `h@${base.hostname}`];
    const answers = hostAnswers(base, [], addresses);
    assert.deepEqual(answers.groups, [...addresses.slice(0, 6).map((a) => receiverGroupOf(a, base.warmup!.extraDomains)), null, null]);
    assert.deepEqual(answers.groups.slice(0, 6), ["gmail", "gmail", "microsoft", "yahoo", "gmail", "other"]);
  });

  it("without a warm-up, holds nothing (the schedule says so, and what was held is released)", () => {
    const { warmup: _none, ...rest } = base;
    const answers = hostAnswers(parseMailHostConfig(rest), ["2026-12-01"], ["a@gmail.com"]);
    assert.deepEqual(answers.caps, [null]);
  });
});

describe("the warm-up in the host's Postfix configuration", () => {
  const { warmup: _none, ...withoutWarmup } = fixtureConfig;
  it("asks the policy service at RCPT on submission after the suppression list, only when a warm-up is declared", () => {
    const restrictions = (config: MailHostConfig) => /^postforge_submission_recipient_restrictions = (.*)$/m.exec(renderPostfixMainCf(config))![1];
    assert.equal(
      restrictions(fixtureConfig),
      "reject_non_fqdn_recipient, check_recipient_access texthash:/var/lib/postforge/suppression/postfix-access, check_policy_service unix:private/postforge-warmup, permit_sasl_authenticated, reject",
    );
    assert.equal(restrictions(parseMailHostConfig(withoutWarmup)), "reject_non_fqdn_recipient, check_recipient_access texthash:/var/lib/postforge/suppression/postfix-access, permit_sasl_authenticated, reject");
    assert.match(renderPostfixMasterCf(fixtureConfig), /^postforge-warmup unix +- +n +n +- +0 +spawn\n {2}user=postforge argv=\/usr\/local\/sbin\/postforge-warmup policy$/m);
  });
});
