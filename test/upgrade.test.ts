/**
 * Upgrading Postforge changes nothing in a deployed stack. The URNs the
 * example stacks registered before MailStack existed (test/fixtures/upgrade/,
 * captured from that release's program by test/support/capture-urns.ts) are
 * held against what today's program registers: every old URN must still be
 * registered, or be named by an alias of exactly one new resource (Pulumi
 * then moves its state there: no replacement, no delete). The only resource
 * Pulumi would create is the MailStack component itself, which has no cloud
 * counterpart; and whatever was protected (the Elastic IP, the KMS key, live
 * DKIM keys) still is.
 */
import { MAIL_HOST_MONITORING_TYPE, MTA_STS_POLICY_SITE_TYPE } from "../components/type-tokens";
import { REQUIRED_ALARMS } from "../components/monitoring/alarms";
import { desiredRecordsForStack, stackConfigFromValues } from "../components/config";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { runOffline, type CapturedResource } from "../cli/plan/engine";
import { loadProjectStack } from "../cli/plan/stack-files";
import { MAIL_STACK_TYPE } from "../components/type-tokens";
import { PROGRAM, PROJECT_DIR } from "./support/offline";

interface Captured {
  capturedFrom: string;
  resources: { urn: string; protect: boolean }[];
}

/** What `pulumi up` would do with the old state and the new program: moved, kept, created, deleted. */
export function upgradeMoves(old: Captured["resources"], now: CapturedResource[]): { kept: string[]; moved: Map<string, string>; created: string[]; deleted: string[]; ambiguous: string[] } {
  const current = new Set(now.map((r) => r.urn));
  const moved = new Map<string, string>();
  const ambiguous: string[] = [];
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const { urn } of old) {
    if (current.has(urn)) {
      kept.push(urn);
      continue;
    }
    const claimants = now.filter((r) => (r.aliases ?? []).includes(urn));
    if (claimants.length === 1) moved.set(urn, claimants[0].urn);
    else if (claimants.length === 0) deleted.push(urn);
    else ambiguous.push(`${urn} <- ${claimants.map((c) => c.urn).join(", ")}`);
  }
  const adopted = new Set([...kept, ...moved.values()]);
  const created = now.filter((r) => !adopted.has(r.urn)).map((r) => r.urn);
  return { kept, moved, created, deleted, ambiguous };
}

for (const stack of ["dev", "prod", "selfhosted"]) {
  describe(`upgrading the example stack ${stack}`, () => {
    const fixture = JSON.parse(readFileSync(path.join(__dirname, "fixtures", "upgrade", `${stack}.json`), "utf8")) as Captured;

    it("moves every resource of the previous release to exactly one resource of this one, creates only what is new (the MailStack component; per host the suppression table, the unsubscribe key and the monitoring) and deletes only the unused CloudWatch agent policy attachment", async () => {
      const project = loadProjectStack(PROJECT_DIR, stack);
      const now = await runOffline({ programPath: PROGRAM, project: "postforge", stack, config: project.config });
      const { moved, created, deleted, ambiguous } = upgradeMoves(fixture.resources, now.resources);
      // Deliberately removed: no CloudWatch agent runs on the host, and the managed policy granted more than it publishes (PutMetricData to any namespace, CloudWatch Logs).
      assert.deepEqual(
        deleted.map((urn) => urn.split("::").pop()),
        fixture.resources.filter((r) => r.urn.endsWith("-cloudwatch")).map((r) => r.urn.split("::").pop()),
        "resources the upgrade would delete",
      );
      assert.deepEqual(ambiguous, [], "old URNs claimed by more than one new resource");
      const hosts = now.resources.filter((r) => r.type === "postforge:mta:MailHost").length;
      // New in this release, per host: the suppression list's table and the one-click unsubscribe key (generated, stored).
      const perHost = ["aws:dynamodb/table:Table", "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretVersion:SecretVersion", "random:index/randomPassword:RandomPassword"];
      // And the host's monitoring: its component, the alarms' topic with one subscription per alarm address, the alarms and the dashboard.
      const hostConfig = project.config["postforge:mailHost"];
      const subscriptions = ((typeof hostConfig === "string" ? JSON.parse(hostConfig) : hostConfig) as { alarmEmails?: string[] } | undefined)?.alarmEmails?.length ?? 0;
      const monitoring = [MAIL_HOST_MONITORING_TYPE, "aws:sns/topic:Topic", ...Array(subscriptions).fill("aws:sns/topicSubscription:TopicSubscription"), ...Array(REQUIRED_ALARMS.length).fill("aws:cloudwatch/metricAlarm:MetricAlarm"), "aws:cloudwatch/dashboard:Dashboard"];
      // And per domain whose MTA-STS policy the host now serves (as the config decides it): the mta-sts.<domain> address record,
      // and the wait for the file before the id (RFC 8461 §3.3).
      const servedBy = desiredRecordsForStack(stackConfigFromValues(project.config, stack), stack).domains.map((d) => d.mtaStsServedBy);
      const served = servedBy.filter((s) => s === "mail-host").length;
      const policyHosting = Array.from({ length: served }, () => ["aws:route53/record:Record", "pulumi-nodejs:dynamic/mta-sts:MtaStsPolicyServed"]).flat();
      // And, where domains have mtaSts.serve: cloudfront, the MTA-STS policy site: its bucket, the bucket's privacy,
      // origin access and policy; per domain the policy object, certificate, validation record and validation, distribution and CNAME.
      const sited = servedBy.filter((s) => s === "cloudfront").length;
      const site = sited === 0 ? [] : [
        MTA_STS_POLICY_SITE_TYPE, "aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:cloudfront/originAccessControl:OriginAccessControl", "aws:s3/bucketPolicy:BucketPolicy",
        ...Array.from({ length: sited }, () => ["aws:s3/bucketObjectv2:BucketObjectv2", "aws:acm/certificate:Certificate", "aws:route53/record:Record", "aws:acm/certificateValidation:CertificateValidation", "aws:cloudfront/distribution:Distribution", "aws:route53/record:Record"]).flat(),
      ];
      policyHosting.push(...site);
      assert.deepEqual(created.map((urn) => now.resources.find((r) => r.urn === urn)!.type).sort(), [MAIL_STACK_TYPE, ...Array.from({ length: hosts }, () => [...perHost, ...monitoring]).flat(), ...policyHosting].sort());
      // Everything but the stack itself (and the removed attachment) moved under the component.
      assert.equal(moved.size, fixture.resources.length - 1 - deleted.length);
      for (const [from, to] of moved) assert.equal(from.split("::").pop(), to.split("::").pop(), `${from} renamed to ${to}`);
      // What was protected still is, where it now lives.
      for (const { urn, protect } of fixture.resources.filter((r) => r.protect)) {
        assert.equal(now.resources.find((r) => r.urn === moved.get(urn))?.protect, protect, urn);
      }
    });
  });
}

describe("upgradeMoves has teeth", () => {
  it("reports a dropped resource, a renamed one without an alias, and two claims on one old URN", () => {
    const r = (urn: string, aliases: string[] = []): CapturedResource => ({ urn, type: "t", name: urn, custom: true, inputs: {}, secretInputs: [], protect: false, additionalSecretOutputs: [], dependencies: [], aliases });
    const old = ["urn:a", "urn:b", "urn:c"].map((urn) => ({ urn, protect: false }));
    const result = upgradeMoves(old, [r("urn:a2", ["urn:a"]), r("urn:b2"), r("urn:x", ["urn:c"]), r("urn:y", ["urn:c"])]);
    assert.deepEqual([...result.moved], [["urn:a", "urn:a2"]]);
    assert.deepEqual(result.deleted, ["urn:b"]);
    assert.deepEqual(result.ambiguous, ["urn:c <- urn:x, urn:y"]);
    assert.deepEqual(result.created, ["urn:b2", "urn:x", "urn:y"]);
  });
});
