/**
 * Evidence-driven DMARC: what the reports say of a domain's next policy
 * step (components/reports/evidence.ts), and `postforge plan --reports`
 * naming it with the exact stack-file change.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { main } from "../cli/postforge";
import { reportsSummaryJson } from "../cli/reports/command";
import { dmarcEvidence } from "../components/reports/evidence";
import { warningsWithEvidence } from "../cli/plan/evidence";
import { summarizeAggregate, withReverseNames, type DomainDay } from "../components/reports/summary";
import type { AggregateReport } from "../components/reports";

/** A day's report from one receiver: rows of [source, count, passes DMARC, disposition]. */
function reportOn(day: string, domain: string, rows: [string, number, boolean, string][]): AggregateReport {
  return {
    schema: "rfc7489",
    orgName: "google.com",
    reportId: `${domain}-${day}`,
    begin: `${day}T00:00:00.000Z`,
    end: `${day}T23:59:59.000Z`,
    errors: [],
    policy: { domain, p: "none", adkim: "r", aspf: "r" },
    records: rows.map(([sourceIp, count, pass, disposition]) => ({ sourceIp, count, disposition, dkimAligned: pass ? "pass" : "fail", spfAligned: "fail", reasons: [], headerFrom: domain, dkim: [], spf: [] })),
  };
}

const OURS = ["203.0.113.0/24"];
const fortnight = (rows: (day: number) => [string, number, boolean, string][], domain = "example.com") =>
  summarizeAggregate(Array.from({ length: 20 }, (_, i) => reportOn(`2026-11-${String(i + 1).padStart(2, "0")}`, domain, rows(i))), OURS);

describe("DMARC evidence", () => {
  it("adds what the reports say to the config's own warning about a domain's policy", () => {
    const evidence = [{ ...dmarcEvidence("example.com", "none", fortnight(() => [["203.0.113.145", 100, true, "none"]])), change: "postforge:domains[0].dmarc.p: quarantine (stacks/Pulumi.prod.yaml)" }];
    const warnings = warningsWithEvidence(["domains[0].dmarc.p: production domain example.com has DMARC p=none, which protects nothing", "domains[1].mtaSts: serve the policy"], evidence, [{ name: "example.com" }, { name: "example.org" }]);
    assert.deepEqual(warnings, [
      "domains[0].dmarc.p: production domain example.com has DMARC p=none, which protects nothing; the reports say: p=quarantine is supported: 100% of 1400 messages passed DMARC from 2026-11-07 to 2026-11-20, all of our sources aligned; change postforge:domains[0].dmarc.p: quarantine (stacks/Pulumi.prod.yaml)",
      "domains[1].mtaSts: serve the policy",
    ]);
  });

  it("supports the next step when 98% of the last 14 days' mail passed and none of ours failed, naming who it would stop", () => {
    const days = fortnight((i) => [
      ["203.0.113.145", 100, true, "none"],
      // A spoofer the receivers still deliver under p=none, and one reported earlier than the window (day 1 to 6).
      ["198.51.100.9", 1, false, "none"],
      ...(i < 6 ? ([["192.0.2.99", 50, false, "none"]] as [string, number, boolean, string][]) : []),
    ]);
    const e = dmarcEvidence("example.com", "none", days);
    assert.deepEqual(
      { ...e, unknownLetThrough: e.unknownLetThrough },
      {
        domain: "example.com",
        current: "none",
        next: "quarantine",
        from: "2026-11-07",
        to: "2026-11-20",
        messages: 14 * 101,
        passShare: 99.01,
        supported: true,
        because: "99.01% of 1414 messages passed DMARC from 2026-11-07 to 2026-11-20, all of our sources aligned",
        oursFailing: [],
        unknownLetThrough: [{ sourceIp: "198.51.100.9", failing: 14, reporters: ["google.com"] }],
      },
    );
  });

  it("does not support it with too few messages, with our own mail failing, or under 98%", () => {
    assert.match(dmarcEvidence("example.com", "none", fortnight(() => [["203.0.113.145", 5, true, "none"]])).because, /^only 70 messages reported from 2026-11-07 to 2026-11-20 \(at least 100 in 14 days\): too few to judge$/);
    const oursBroken = dmarcEvidence("example.com", "quarantine", fortnight(() => [["203.0.113.145", 100, true, "none"], ["203.0.113.7", 1, false, "quarantine"]]));
    assert.equal(oursBroken.supported, false);
    assert.equal(oursBroken.next, "reject");
    assert.match(oursBroken.because, /^14 messages from our own sources failed DMARC \(203\.0\.113\.7\): p=reject would refuse them; fix their DKIM or SPF alignment first$/);
    const leaky = dmarcEvidence("example.com", "none", fortnight(() => [["203.0.113.145", 90, true, "none"], ["198.51.100.9", 10, false, "none"]]));
    assert.match(leaky.because, /^90% of 1400 messages passed DMARC, under 98%: find the failing senders below before moving$/);
    // The sources it would stop carry their reverse DNS where postforge reports looked it up.
    const named = withReverseNames(fortnight(() => [["203.0.113.145", 90, true, "none"], ["198.51.100.9", 10, false, "none"]]), new Map([["198.51.100.9", { names: ["mta.esp.example"] }]]));
    assert.deepEqual(dmarcEvidence("example.com", "none", named).unknownLetThrough, [{ sourceIp: "198.51.100.9", failing: 140, reporters: ["google.com"], ptr: ["mta.esp.example"] }]);
    // Without knowing which sources are ours, nothing shows our mail aligned.
    const anonymous = summarizeAggregate(Array.from({ length: 14 }, (_, i) => reportOn(`2026-11-${String(i + 1).padStart(2, "0")}`, "example.com", [["203.0.113.145", 100, true, "none"]])), []);
    assert.match(dmarcEvidence("example.com", "none", anonymous).because, /^none of the reported sources is marked as ours \(postforge reports --our-source\)/);
    // 19,612 of 20,013 is 97.996%: shown as 98, and still not 98%.
    const edge = fortnight((i) => [["203.0.113.145", i === 19 ? 19599 : 1, true, "none"], ["198.51.100.9", i === 19 ? 401 : 0, false, "none"]]);
    const judged = dmarcEvidence("example.com", "none", edge);
    assert.deepEqual([judged.messages, judged.passShare, judged.supported], [20013, 98, false]);
    // A report dated after today does not move the window off the real ones.
    const future = [...fortnight(() => [["203.0.113.145", 100, true, "none"]]), ...summarizeAggregate([reportOn("2099-01-01", "example.com", [["203.0.113.145", 1, true, "none"]])], OURS)];
    assert.equal(dmarcEvidence("example.com", "none", future, undefined, "2026-12-01").to, "2026-11-20");
    // A subdomain's mail is its organizational domain's evidence too; another domain's is not.
    const sub = fortnight(() => [["203.0.113.145", 100, true, "none"]], "news.example.com");
    assert.equal(dmarcEvidence("example.com", "none", sub).messages, 1400);
    assert.equal(dmarcEvidence("example.org", "none", sub).messages, 0);
  });

  it("postforge plan --reports names the evidence and the exact change for each domain at none or quarantine", async () => {
    const days: DomainDay[] = [...fortnight(() => [["203.0.113.145", 100, true, "none"]]), ...fortnight(() => [["203.0.113.145", 100, true, "none"], ["198.51.100.9", 20, false, "quarantine"]], "example.org")];
    const file = join(mkdtempSync(join(tmpdir(), "postforge-evidence-")), "reports.json");
    writeFileSync(file, reportsSummaryJson({ dmarc: days, tls: [], failures: [], setApart: [], unreadable: [] }));
    let out = "";
    let err = "";
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    await main(["plan", "--stack", "dev", "--reports", file, "--json"], io);
    const evidence = (JSON.parse(out) as { dmarcEvidence: { domain: string; current: string; next: string; supported: boolean; change: string }[] }).dmarcEvidence;
    assert.deepEqual(
      evidence.map((e) => [e.domain, e.current, e.next, e.supported, e.change]),
      [
        ["example.com", "none", "quarantine", true, "postforge:domains[0].dmarc.p: quarantine (stacks/Pulumi.dev.yaml)"],
        ["example.org", "quarantine", "reject", false, "postforge:domains[1].dmarc.p: reject (stacks/Pulumi.dev.yaml)"],
      ],
    );
    out = "";
    await main(["plan", "--stack", "dev", "--reports", file], io);
    assert.match(out, /^DMARC evidence \(from the reports given\):$/m);
    assert.match(out, /^  example\.com: p=none -> p=quarantine: supported; 100% of 1400 messages passed DMARC from 2026-11-07 to 2026-11-20, all of our sources aligned$/m);
    assert.match(out, /^    change: postforge:domains\[0\]\.dmarc\.p: quarantine \(stacks\/Pulumi\.dev\.yaml\)$/m);
    assert.match(out, /^  example\.org: p=quarantine -> p=reject: not yet; 83\.33% of 1680 messages passed DMARC, under 98%/m);
    assert.match(out, /^    unknown source 198\.51\.100\.9: 280 failing messages still delivered \(reported by google\.com\); p=reject stops them/m);
    // The policy pack's dmarc-enforcement names the evidence (dev run as production, so the rule judges it).
    const policyConfig = join(mkdtempSync(join(tmpdir(), "postforge-evidence-")), "policy.json");
    writeFileSync(policyConfig, JSON.stringify({ "dmarc-enforcement": { production: true } }));
    out = "";
    await main(["plan", "--stack", "dev", "--reports", file, "--policy-config", policyConfig, "--json"], io);
    const violation = (JSON.parse(out) as { policyViolations: { rule: string; message: string }[] }).policyViolations.find((v) => v.rule === "dmarc-enforcement")!;
    assert.match(violation.message, /^example\.com: DMARC record _dmarc\.example\.com ".*" does not enforce in production stack "dev": p=none only monitors, .*; the reports say: p=quarantine is supported: 100% of 1400 messages passed DMARC from 2026-11-07 to 2026-11-20, all of our sources aligned; change postforge:domains\[0\]\.dmarc\.p: quarantine \(stacks\/Pulumi\.dev\.yaml\)$/);
    err = "";
    assert.equal(await main(["plan", "--stack", "dev", "--reports", join(tmpdir(), "no-such-reports.json")], io), 2);
    assert.match(err, /--reports = ".*no-such-reports\.json": cannot be read as JSON \(ENOENT\); give the output of `postforge reports --json`/);
  });

  it("postforge diff --reports says, for each DMARC policy a change raises, whether the reports support the step", async () => {
    const days: DomainDay[] = [...fortnight(() => [["203.0.113.145", 100, true, "none"]]), ...fortnight(() => [["203.0.113.145", 100, true, "none"], ["198.51.100.9", 20, false, "quarantine"]], "example.org")];
    const dir = mkdtempSync(join(tmpdir(), "postforge-diff-evidence-"));
    const reports = join(dir, "reports.json");
    writeFileSync(reports, reportsSummaryJson({ dmarc: days, tls: [], failures: [], setApart: [], unreadable: [] }));
    let out = "";
    let err = "";
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    assert.equal(await main(["plan", "--stack", "dev", "--json"], io), 0, err);
    writeFileSync(join(dir, "base.json"), out);
    // The pull request raises both domains a step: example.com none -> quarantine, example.org quarantine -> reject.
    const head = JSON.parse(out) as { domains: { domain: string; records: { name: string; type: string; value: string }[] }[] };
    for (const d of head.domains)
      for (const r of d.records)
        if (r.name === `_dmarc.${d.domain}`) r.value = r.value.replace(/\bp=quarantine\b/, "p=reject").replace(/\bp=none\b/, "p=quarantine");
    writeFileSync(join(dir, "head.json"), JSON.stringify(head));
    out = "";
    assert.equal(await main(["diff", "--base", join(dir, "base.json"), "--head", join(dir, "head.json"), "--reports", reports], io), 0, err);
    assert.match(out, /^## DMARC evidence \(from the reports given\)$/m);
    assert.match(out, /^- \*\*`example\.com`: this change raises p=none to p=quarantine\*\*; the reports support it: 100% of 1400 messages passed DMARC from 2026-11-07 to 2026-11-20, all of our sources aligned\.$/m);
    assert.match(out, /^- \*\*`example\.org`: this change raises p=quarantine to p=reject\*\*; \*\*the reports do not support it yet\*\*: 83\.33% of 1680 messages passed DMARC, under 98%.*It stops unknown senders still delivered: `198\.51\.100\.9` 280\.$/m);
    // Without --reports the diff is as before: no evidence section.
    out = "";
    assert.equal(await main(["diff", "--base", join(dir, "base.json"), "--head", join(dir, "head.json")], io), 0, err);
    assert.doesNotMatch(out, /DMARC evidence/);
  });
});
