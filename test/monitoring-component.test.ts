/**
 * MailHostMonitoring under the offline engine (Pulumi's mocks): the host's
 * alarm topic and its email subscriptions, every alarm with its exact
 * inputs, the dashboard's widgets, and bad alarm addresses refused before
 * anything registers.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { OfflineRunError, runOffline, type CapturedResource, type OfflineRunResult } from "../cli/plan/engine";
import { dkimSecretName } from "../components/dkim/keyring";
import { REQUIRED_ALARMS } from "../components/monitoring/alarms";
import { dashboardMetrics, type DashboardWidget } from "../components/monitoring/dashboard";
import { METRIC_NAMESPACE, METRICS } from "../components/monitoring/metrics";

const PROGRAM = path.join(__dirname, "fixtures", "mail-host-program.ts");
const selector = (name: string, algorithm: "rsa" | "ed25519") => ({ selector: name, algorithm, secretName: dkimSecretName("example.com", name) });
const mailHost = {
  config: {
    hostname: "mail.example.com",
    domains: [{ domain: "example.com", selectors: [selector("pf2026q4", "rsa"), selector("pf2026q4e", "ed25519")] }],
    submissionClients: ["10.20.0.0/16"],
    adminClients: ["198.51.100.7"],
    awsRegion: "eu-west-1",
    mailboxPasswordsSecretName: "postforge/mail-host/mail.example.com/passwd",
    senderPasswordsSecretName: "postforge/mail-host/mail.example.com/senders",
    tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "route53" } },
  },
  vpcId: "vpc-0123456789abcdef0",
  subnetId: "subnet-0123456789abcdef0",
  route53HostedZoneIds: ["Z0123456789ABCDEFGHIJ"],
  alarmEmails: ["ops@example.com", "On-Call+mail@example.org"],
};

const computed = async (type: string, name: string, inputs: Record<string, unknown>) => {
  if (type === "aws:sns/topic:Topic") return { arn: `arn:aws:sns:eu-west-1:123456789012:${String(inputs.name)}` };
  if (type === "aws:cloudwatch/metricAlarm:MetricAlarm") return { arn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${String(inputs.name)}` };
  if (type === "aws:iam/role:Role") return { name: `${name}-abc1234`, arn: `arn:aws:iam::123456789012:role/${name}-abc1234` };
  return undefined;
};

const run = (args: Record<string, unknown>) => runOffline({ programPath: PROGRAM, project: "postforge", stack: "test", config: { "postforge:mailHost": JSON.stringify(args) }, computed });

describe("MailHostMonitoring, run by the offline engine", () => {
  let result: OfflineRunResult;
  const byName = (name: string): CapturedResource => {
    const found = result.resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
  };
  before(async () => {
    result = await run(mailHost);
  });

  it("is the host's child, and has exactly a topic, one subscription per address, the twelve alarms and a dashboard", () => {
    const monitoring = byName("mx-monitoring");
    assert.equal(monitoring.type, "postforge:monitoring:MailHostMonitoring");
    assert.equal(monitoring.parent, byName("mx").urn);
    // Only public facts in its recorded args: no address list.
    assert.deepEqual(monitoring.inputs, { hostname: "mail.example.com", alarmEmailCount: 2 });
    const children = result.resources.filter((r) => r.parent === monitoring.urn).map((r) => `${r.type} ${r.name}`).sort();
    assert.deepEqual(children, [
      "aws:cloudwatch/dashboard:Dashboard mx-monitoring-dashboard",
      ...REQUIRED_ALARMS.map((id) => `aws:cloudwatch/metricAlarm:MetricAlarm mx-monitoring-${id}`),
      "aws:sns/topic:Topic mx-monitoring-alarms",
      "aws:sns/topicSubscription:TopicSubscription mx-monitoring-alarms-on-call-mail-example-org",
      "aws:sns/topicSubscription:TopicSubscription mx-monitoring-alarms-ops-example-com",
    ].sort());
  });

  it("makes the topic, unencrypted (CloudWatch cannot publish under SNS's AWS-managed key), and an email subscription per address", () => {
    assert.deepEqual(byName("mx-monitoring-alarms").inputs, {
      name: "postforge-mail-example-com-alarms",
      displayName: "Postforge mail.example.com",
      tags: { "postforge:host": "mail.example.com" },
    });
    const topicArn = "arn:aws:sns:eu-west-1:123456789012:postforge-mail-example-com-alarms";
    assert.deepEqual(byName("mx-monitoring-alarms-ops-example-com").inputs, { topic: topicArn, protocol: "email", endpoint: "ops@example.com" });
    assert.deepEqual(byName("mx-monitoring-alarms-on-call-mail-example-org").inputs, { topic: topicArn, protocol: "email", endpoint: "On-Call+mail@example.org" });
  });

  it("gives every alarm its metric, threshold and missing-data rule, notifying the topic when it fires and clears", () => {
    const topicArn = ["arn:aws:sns:eu-west-1:123456789012:postforge-mail-example-com-alarms"];
    const alarm = (id: string) => byName(`mx-monitoring-${id}`).inputs;
    for (const id of REQUIRED_ALARMS) {
      assert.equal(alarm(id).name, `postforge-mail-example-com-${id}`);
      assert.deepEqual(alarm(id).alarmActions, topicArn, id);
      assert.deepEqual(alarm(id).okActions, topicArn, id);
    }
    const { alarmDescription, tags, alarmActions, okActions, name, ...bounce } = alarm("bounce-rate-critical");
    assert.match(String(alarmDescription), /^mail\.example\.com: the bounce rate \(hard bounces over sends\) is at or above 10% over the last 14 days \(Amazon SES reputation: review at 5%, sending paused at 10%\)$/);
    assert.deepEqual(tags, { "postforge:host": "mail.example.com", "postforge:severity": "critical" });
    assert.deepEqual(bounce, {
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 10,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      namespace: "Postforge/Mail",
      metricName: "BounceRate",
      dimensions: { Host: "mail.example.com" },
      statistic: "Maximum",
      period: 300,
    });
    assert.equal(alarm("bounce-rate-warn").threshold, 5);
    assert.equal(alarm("complaint-rate-warn").threshold, 0.1);
    assert.equal(alarm("complaint-rate-critical").threshold, 0.3);
    assert.deepEqual([alarm("oldest-queued").metricName, alarm("oldest-queued").comparisonOperator, alarm("oldest-queued").threshold], ["OldestQueuedAge", "GreaterThanThreshold", 3600]);
    assert.deepEqual([alarm("certificate-expiry").metricName, alarm("certificate-expiry").comparisonOperator, alarm("certificate-expiry").threshold], ["CertificateDaysLeft", "LessThanThreshold", 14]);
    // Silence is one alarm's to report (host-reporting: Delivered is published every minute, zero included), and EC2's own.
    for (const id of REQUIRED_ALARMS) assert.equal(alarm(id).treatMissingData, id === "host-reporting" || id === "ec2-status-check" ? "breaching" : "notBreaching", id);
    assert.deepEqual([alarm("host-reporting").metricName, alarm("host-reporting").statistic, alarm("host-reporting").period, alarm("host-reporting").evaluationPeriods, alarm("host-reporting").comparisonOperator, alarm("host-reporting").threshold], ["Delivered", "SampleCount", 300, 6, "LessThanThreshold", 1]);
    // EC2's own metric, on this instance.
    assert.deepEqual([alarm("ec2-status-check").namespace, alarm("ec2-status-check").metricName, alarm("ec2-status-check").dimensions], ["AWS/EC2", "StatusCheckFailed", { InstanceId: "mx-instance-id" }]);
    // The deferral rate is metric math over the host's own counters, judged from 50 attempts an hour.
    const deferral = alarm("deferral-rate");
    assert.equal(deferral.metricName, undefined);
    assert.deepEqual(deferral.metricQueries, [
      { id: "rate", expression: "IF((m0 + m1 + m2 + m3) >= 50, 100 * m1 / (m0 + m1 + m2 + m3), 0)", label: "Deferred attempts (%)", returnData: true },
      ...["Delivered", "Deferred", "HardBounced", "SoftBounced"].map((metricName, i) => ({
        id: `m${i}`,
        returnData: false,
        metric: { namespace: "Postforge/Mail", metricName, dimensions: { Host: "mail.example.com" }, stat: "Sum", period: 3600 },
      })),
    ]);
  });

  it("draws the dashboard from the catalogue's metrics, with the providers' thresholds as lines and the alarms' states", () => {
    const dashboard = byName("mx-monitoring-dashboard").inputs;
    assert.equal(dashboard.dashboardName, "postforge-mail-example-com");
    const widgets = (JSON.parse(String(dashboard.dashboardBody)) as { widgets: DashboardWidget[] }).widgets;
    // On the 24-column grid, none overlapping.
    for (const w of widgets) assert.ok(w.x >= 0 && w.x + w.width <= 24, JSON.stringify(w));
    for (const [i, a] of widgets.entries())
      for (const b of widgets.slice(i + 1)) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.properties.title} overlaps ${b.properties.title}`);
    const named = dashboardMetrics(widgets);
    // Every one of the host's metrics is on it, for this host, and nothing it does not publish.
    const ours = named.filter((m) => m.namespace === METRIC_NAMESPACE);
    assert.deepEqual([...new Set(ours.map((m) => m.metricName))].sort(), METRICS.map((m) => m.name).sort());
    assert.ok(ours.every((m) => m.dimensions.Host === "mail.example.com"));
    assert.deepEqual(named.filter((m) => m.namespace !== METRIC_NAMESPACE), [{ namespace: "AWS/EC2", metricName: "StatusCheckFailed", dimensions: { InstanceId: "mx-instance-id" } }]);
    const widget = (title: string) => widgets.find((w) => w.properties.title === title)!;
    assert.deepEqual(widget("Bounce rate, 14 days (%)").properties.annotations, { horizontal: [{ label: "warn (5%)", value: 5 }, { label: "critical (10%)", value: 10 }] });
    assert.deepEqual(widget("Complaint rate, 14 days (%)").properties.annotations, { horizontal: [{ label: "warn (0.1%)", value: 0.1 }, { label: "critical (0.3%)", value: 0.3 }] });
    assert.deepEqual(widget("Delivered by receiver group").properties.metrics!.map((m) => m[5]), ["gmail", "microsoft", "yahoo", "other"]);
    assert.deepEqual(widget("Alarms").properties.alarms, REQUIRED_ALARMS.map((id) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:postforge-mail-example-com-${id}`));
  });

  it("exports the topic and dashboard, and records no alarm address in any component's state", () => {
    const host = byName("mx");
    const recorded = JSON.stringify(result.resources.filter((r) => !r.custom).map((r) => r.inputs));
    assert.doesNotMatch(recorded, /ops@example\.com/);
    assert.ok(host);
  });
});

describe("MailHost's alarm addresses are checked before anything registers", () => {
  for (const [emails, message] of [
    [["not-an-address"], /alarmEmails\[0\].*must be an e-mail address for the host's alarms, such as ops@example\.com/],
    [["ops@example.com", "OPS@example.com"], /alarmEmails.*lists an address twice; list each once/],
  ] as const) {
    it(`refuses ${JSON.stringify(emails)}`, async () => {
      try {
        await run({ ...mailHost, alarmEmails: emails });
      } catch (error) {
        assert.ok(error instanceof OfflineRunError, String(error));
        assert.match((error.cause as Error).message, message);
        // The keyring the program makes first is there; nothing of the host is.
        assert.deepEqual(error.resources.filter((r) => r.name.startsWith("mx")).map((r) => r.name), []);
        return;
      }
      assert.fail("the program ran");
    });
  }
});
