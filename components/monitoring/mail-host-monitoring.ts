import * as pulumi from "@pulumi/pulumi";
import { Dashboard, MetricAlarm } from "@pulumi/aws/cloudwatch";
import { Topic, TopicSubscription } from "@pulumi/aws/sns";
import { MAIL_HOST_MONITORING_TYPE } from "../type-tokens";
import { alarmMetrics, mailHostAlarms, type AlarmDefinition, type AlarmMetric } from "./alarms";
import { mailHostDashboardBody } from "./dashboard";

/** The arguments of MailHostMonitoring: the host it watches, and who hears its alarms. */
export interface MailHostMonitoringArgs {
  /** The host's FQDN: the `Host` dimension of every metric it publishes. */
  hostname: string;
  /** The instance, for the EC2 status-check alarm and widget. */
  instanceId: pulumi.Input<string>;
  /** The host's region (the dashboard's widgets read from it). */
  region: string;
  /** The host's sending domains, for the per-domain widget. */
  domains: string[];
  /** Who gets the alarms by email: one SNS email subscription each (each address must confirm AWS's message once). Default: none. */
  alarmEmails?: string[];
  /** Tags for the topic and the alarms. */
  tags?: Record<string, string>;
}

/** A resource-name-safe form of an address or a host name. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function metricQuery(id: string, m: AlarmMetric) {
  return { id, returnData: false, metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, stat: m.stat, period: m.period } };
}

/**
 * What watches one mail host: an SNS topic (with the stack's email
 * subscribers), one CloudWatch alarm per definition in ./alarms.ts, notifying
 * the topic when it fires and when it clears, and a dashboard of the figures
 * the host publishes (./dashboard.ts). MailHost creates it as its child.
 *
 * The topic is not KMS-encrypted: CloudWatch cannot publish to a topic under
 * the AWS-managed SNS key, and an alarm's text holds no secret.
 */
export class MailHostMonitoring extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly dashboardName: pulumi.Output<string>;
  /** The alarms' names, by definition id. */
  readonly alarmNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: MailHostMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MAIL_HOST_MONITORING_TYPE, name, { hostname: args.hostname, alarmEmailCount: (args.alarmEmails ?? []).length }, opts);
    const base = `postforge-${slug(args.hostname)}`;
    const tags = { ...args.tags, "postforge:host": args.hostname };

    const topic = new Topic(`${name}-alarms`, { name: `${base}-alarms`, displayName: `Postforge ${args.hostname}`, tags }, { parent: this });
    for (const email of args.alarmEmails ?? []) {
      new TopicSubscription(`${name}-alarms-${slug(email)}`, { topic: topic.arn, protocol: "email", endpoint: email }, { parent: this });
    }

    const alarms = pulumi.output(args.instanceId).apply((instanceId) => mailHostAlarms(args.hostname, instanceId));
    // The definitions' ids do not depend on the instance: resources are declared from them, their inputs from the output.
    const definitions = mailHostAlarms(args.hostname, "pending");
    this.alarmNames = {};
    const created: MetricAlarm[] = [];
    for (const [i, definition] of definitions.entries()) {
      const at = alarms.apply((all) => all[i]);
      const alarm = new MetricAlarm(`${name}-${definition.id}`, alarmInputs(`${base}-${definition.id}`, definition, at, topic.arn, tags), { parent: this });
      this.alarmNames[definition.id] = alarm.name;
      created.push(alarm);
    }

    const dashboard = new Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: base,
        dashboardBody: pulumi
          .all([args.instanceId, pulumi.all(created.map((a) => a.arn))])
          .apply(([instanceId, alarmArns]) => mailHostDashboardBody({ hostname: args.hostname, instanceId, region: args.region, domains: args.domains, alarmArns })),
      },
      { parent: this },
    );

    this.topicArn = topic.arn;
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName, alarmNames: this.alarmNames });
  }
}

/** A definition as MetricAlarm's inputs: a single metric, or metric math with its queries. */
function alarmInputs(alarmName: string, definition: AlarmDefinition, at: pulumi.Output<AlarmDefinition>, topicArn: pulumi.Output<string>, tags: Record<string, string>) {
  const common = {
    name: alarmName,
    alarmDescription: definition.description,
    comparisonOperator: definition.comparison,
    threshold: definition.threshold,
    evaluationPeriods: definition.evaluationPeriods,
    treatMissingData: definition.treatMissingData,
    alarmActions: [topicArn],
    okActions: [topicArn],
    tags: { ...tags, "postforge:severity": definition.severity },
  };
  if (definition.expression) {
    const e = definition.expression;
    return {
      ...common,
      metricQueries: [
        { id: "rate", expression: e.expression, label: e.label, returnData: true },
        ...alarmMetrics(definition).map((m, i) => metricQuery(`m${i}`, m)),
      ],
    };
  }
  const metric = definition.metric!;
  return {
    ...common,
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: at.apply((d) => d.metric!.dimensions),
    statistic: metric.stat,
    period: metric.period,
  };
}
