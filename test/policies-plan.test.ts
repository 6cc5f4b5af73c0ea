/**
 * The policy pack in the offline plan (`postforge plan` runs the same rules,
 * prints violations and exits 1 on a mandatory one), its config file and
 * profile, the diff report's policy section, and the README's rule list,
 * which must be what the rules' metadata generates.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { comparePlans } from "../cli/diff/compare";
import { renderDiffMarkdown } from "../cli/diff/markdown";
import { planWithPolicies } from "../cli/plan/policies";
import { loadProjectStack } from "../cli/plan/stack-files";
import { main } from "../cli/postforge";
import { withRuleList } from "../policies/readme";
import { ALL_RULES } from "../policies/rules";
import { PROJECT_DIR } from "./support/offline";
import { captureIo } from "./support/io";


function configFile(content: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "postforge-policy-")), "policy.json");
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("the policy pack in postforge plan", () => {
  it("passes the dev stack, says so, and exits 0", async () => {
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--cwd", PROJECT_DIR], io), 0);
    assert.match(io.out, /\nPolicies: every rule of the postforge-email-auth pack passes\.\n$/);
  });

  it("refuses a production stack whose config lets a domain stay at p=none: prints the violation, exits 1", async () => {
    // The stack config itself only warns about p=none in production; the pack refuses it, as `pulumi up --policy-pack` would.
    // "selfhosted" is production by its postforge:environment (StackSettings), not by its name.
    const project = loadProjectStack(PROJECT_DIR, "selfhosted");
    const domains = JSON.parse(project.config["postforge:domains"]);
    domains[1].dmarc.p = "none";
    const plan = await planWithPolicies({ ...project, config: { ...project.config, "postforge:domains": JSON.stringify(domains) } });
    assert.deepEqual(
      plan.policyViolations.map((v) => [v.rule, v.enforcementLevel, v.resource]),
      [["dmarc-enforcement", "mandatory", "example.org-_dmarc-txt"]],
      plan.policyViolations.map((v) => v.message).join("\n"),
    );
    assert.match(plan.policyViolations[0].message, /example\.org/);
    assert.match(plan.policyViolations[0].message, /p=none/);
  });

  it("takes a policy config file: a setting that makes dev production turns its p=none into a mandatory violation (exit 1)", async () => {
    const io = captureIo();
    const file = configFile({ "dmarc-enforcement": { production: true } });
    assert.equal(await main(["plan", "--stack", "dev", "--policy-config", file, "--cwd", PROJECT_DIR], io), 1);
    assert.match(io.out, /Policy violations, mandatory: the deploy would be refused \(1\):\n {2}- \[dmarc-enforcement\] example\.com: .*\(resource example\.com-_dmarc-txt\)/);
    const json = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--json", "--policy-config", file, "--cwd", PROJECT_DIR], json), 1);
    assert.deepEqual(JSON.parse(json.out).policyViolations.map((v: { rule: string }) => v.rule), ["dmarc-enforcement"]);
  });

  it("a rule set to advisory reports without failing; disabled reports nothing", async () => {
    for (const [level, code, shown] of [["advisory", 0, true], ["disabled", 0, false]] as const) {
      const io = captureIo();
      const file = configFile({ "dmarc-enforcement": { enforcementLevel: level, production: true } });
      assert.equal(await main(["plan", "--stack", "dev", "--policy-config", file, "--cwd", PROJECT_DIR], io), code, level);
      assert.equal(/\[dmarc-enforcement\] example\.com/.test(io.out), shown, `${level}:\n${io.out}`);
      if (shown) assert.match(io.out, /Policy violations, advisory \(1\):/);
    }
  });

  it("runs the bulk-sender profile, which the example stacks pass", async () => {
    for (const stack of ["dev", "prod", "selfhosted"]) {
      const io = captureIo();
      assert.equal(await main(["plan", "--stack", stack, "--profile", "bulk-sender", "--cwd", PROJECT_DIR], io), 0, `${stack}:\n${io.out}`);
    }
    const profile = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policies/profiles/bulk-sender.json"), "utf8"));
    assert.deepEqual(Object.keys(profile).sort(), ALL_RULES.filter((r) => r.profile === "bulk-sender").map((r) => r.name).sort());
    assert.ok(Object.values(profile).every((level) => level === "mandatory"));
  });

  it("refuses a bad policy config before planning (exit 2), naming the rule, the setting and what is allowed", async () => {
    const cases: [unknown, RegExp][] = [
      [{ "spf-no-such-rule": "mandatory" }, /spf-no-such-rule: unknown rule; the rules are spf-one-record, /],
      [{ "spf-one-record": "blocking" }, /spf-one-record = "blocking": must be one of mandatory, advisory, disabled, remediate/],
      [{ "spf-lookup-limit": { maxLookups: "ten" } }, /spf-lookup-limit\.maxLookups = "ten": must be of type integer/],
      [{ "spf-lookup-limit": { maxLookups: 11 } }, /spf-lookup-limit\.maxLookups = 11: must be between \d+ and 10/],
      [{ "spf-one-record": { threshold: 2 } }, /spf-one-record\.threshold: unknown setting; this rule has none/],
      ["{ not json", /--policy-config = ".*policy\.json": cannot read it as JSON/],
    ];
    for (const [content, expected] of cases) {
      const io = captureIo();
      assert.equal(await main(["plan", "--stack", "dev", "--policy-config", configFile(content), "--cwd", PROJECT_DIR], io), 2, JSON.stringify(content));
      assert.match(io.err, expected);
      assert.equal(io.out, "");
    }
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--profile", "marketing", "--cwd", PROJECT_DIR], io), 2);
    assert.match(io.err, /profile = "marketing": must be one of bulk-sender/);
  });
});

describe("the policy pack in postforge diff", () => {
  it("opens the report with the head plan's violations, mandatory ones as a refusal", () => {
    const base = { stack: "prod", domains: [], dkimKeys: [], mtaStsPolicies: {} };
    const head = {
      ...base,
      policyViolations: [
        { rule: "dmarc-enforcement", enforcementLevel: "mandatory", message: "example.org: DMARC p=none in a production stack", resource: "example.org-_dmarc-txt" },
        { rule: "mta-sts-consistent", enforcementLevel: "advisory", message: "example.com: max_age below a day" },
      ],
    };
    const report = renderDiffMarkdown(comparePlans(base, head));
    assert.match(
      report,
      /\*\*⛔ Policy pack: 1 mandatory violation; `pulumi up` would be refused\*\*\n\n- mandatory `dmarc-enforcement`: example\.org: DMARC p=none in a production stack\n- advisory `mta-sts-consistent`: example\.com: max\\_age below a day\n/,
    );
    assert.doesNotMatch(renderDiffMarkdown(comparePlans(base, base)), /Policy pack/);
  });
});

describe("README rule list", () => {
  it("is exactly what the rules' metadata generates (npm run docs:policies)", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    assert.equal(withRuleList(readme), readme, "README.md's rule list is stale: run npm run docs:policies");
    for (const rule of ALL_RULES) assert.ok(readme.includes(`| \`${rule.name}\` |`), rule.name);
  });
});
