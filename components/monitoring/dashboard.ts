import { DNSBLS } from "../sending/dnsbl";
import { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS, thresholdPercent as pct } from "../sending/rates";
import { RECEIVER_GROUP_NAMES, RECEIVER_GROUPS } from "../sending/receiver-groups";
import { CERTIFICATE_MINIMUM_DAYS, OLDEST_QUEUED_SECONDS, SYNC_STALE_SECONDS } from "./alarms";
import { REFUSAL_REASONS } from "./log-accounting";
import { METRIC_NAMESPACE, type MetricName } from "./metrics";

/**
 * The CloudWatch dashboard of one mail host, as the JSON body
 * `aws.cloudwatch.Dashboard` takes (docs.aws.amazon.com/AmazonCloudWatch/
 * latest/APIReference/CloudWatch-Dashboard-Body-Structure.html). Pure.
 */

/** One metric line of a widget: [namespace, name, dimension, value, ..., { options }]. */
export type WidgetMetric = (string | { label?: string; stat?: string; color?: string })[];

/** One widget of a CloudWatch dashboard body, placed on the 24-column grid. */
export interface DashboardWidget {
  type: "metric" | "alarm" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    view?: "timeSeries" | "singleValue";
    region?: string;
    stat?: string;
    period?: number;
    stacked?: boolean;
    metrics?: WidgetMetric[];
    alarms?: string[];
    annotations?: { horizontal: { label: string; value: number; color?: string }[] };
    yAxis?: { left: { min: number; max?: number } };
  };
}

const TLS_LEVELS = ["Verified", "Trusted", "Untrusted", "Anonymous"] as const;

/** What a host's dashboard is drawn for. */
export interface DashboardInput {
  hostname: string;
  instanceId: string;
  region: string;
  domains: readonly string[];
  /** The alarms' ARNs, for the alarm-status widget. */
  alarmArns?: readonly string[];
}

/** The dashboard's widgets, laid out on CloudWatch's 24-column grid. */
export function mailHostDashboardWidgets(input: DashboardInput): DashboardWidget[] {
  const { hostname, region } = input;
  const m = (name: MetricName, extra: Record<string, string> = {}, options: { label?: string; stat?: string } = {}): WidgetMetric => [
    METRIC_NAMESPACE,
    name,
    "Host",
    hostname,
    ...Object.entries(extra).flat(),
    ...(Object.keys(options).length > 0 ? [options] : []),
  ];
  const byGroup = (name: MetricName) => RECEIVER_GROUPS.map((g) => m(name, { ReceiverGroup: g }, { label: RECEIVER_GROUP_NAMES[g] }));
  const widgets: Omit<DashboardWidget, "x" | "y">[] = [];
  const chart = (title: string, metrics: WidgetMetric[], stat: string, period: number, extra: Partial<DashboardWidget["properties"]> = {}, width = 8) =>
    widgets.push({ type: "metric", width, height: 6, properties: { title, view: "timeSeries", region, stat, period, stacked: false, metrics, yAxis: { left: { min: 0 } }, ...extra } });
  const line = (label: string, value: number) => ({ label, value });

  widgets.push({
    type: "text",
    width: 24,
    height: 2,
    properties: {
      markdown: `# ${hostname}\nDelivery, bounces and complaints as receivers judge them (rates over 14 days, as Amazon SES computes them); the queue, the warm-up, the syncs and the address's reputation. Published every minute by the host (postforge-mailops, namespace \`${METRIC_NAMESPACE}\`).`,
    },
  });
  chart("Delivered by receiver group", byGroup("Delivered"), "Sum", 3600);
  chart("Deferred by receiver group", byGroup("Deferred"), "Sum", 3600);
  chart("Bounced", [m("HardBounced", {}, { label: "Hard" }), m("SoftBounced", {}, { label: "Soft" })], "Sum", 3600);
  chart("Bounce rate, 14 days (%)", [m("BounceRate")], "Maximum", 3600, {
    annotations: { horizontal: [line("warn (5%)", pct(BOUNCE_RATE_THRESHOLDS.warn)), line("critical (10%)", pct(BOUNCE_RATE_THRESHOLDS.critical))] },
  });
  chart("Complaint rate, 14 days (%)", [m("ComplaintRate")], "Maximum", 3600, {
    annotations: { horizontal: [line("warn (0.1%)", pct(COMPLAINT_RATE_THRESHOLDS.warn)), line("critical (0.3%)", pct(COMPLAINT_RATE_THRESHOLDS.critical))] },
  });
  chart("Complaints by receiver group", byGroup("Complaints"), "Sum", 3600);
  chart("Submitted and delivered by sending domain", input.domains.flatMap((d) => [m("Submitted", { Domain: d }, { label: `${d} submitted` }), m("Delivered", { Domain: d }, { label: `${d} delivered` })]), "Sum", 3600);
  chart("Refused at submission", REFUSAL_REASONS.map((r) => m("Refused", { Reason: r }, { label: r })), "Sum", 3600);
  chart("Queue", [m("QueueSize", {}, { label: "queued" }), m("HeldMessages", {}, { label: "held" })], "Maximum", 300);
  chart("Oldest queued message (s)", [m("OldestQueuedAge")], "Maximum", 300, { annotations: { horizontal: [line("alarm (1 h)", OLDEST_QUEUED_SECONDS)] } });
  chart("Warm-up: today's cap and use", RECEIVER_GROUPS.flatMap((g) => [m("WarmupCap", { ReceiverGroup: g }, { label: `${RECEIVER_GROUP_NAMES[g]} cap` }), m("WarmupUsed", { ReceiverGroup: g }, { label: `${RECEIVER_GROUP_NAMES[g]} used` })]), "Maximum", 3600);
  chart("Outbound TLS sessions", TLS_LEVELS.map((l) => m("OutboundTlsSessions", { TlsLevel: l }, { label: l })), "Sum", 3600);
  chart("Signing failures and unauthenticated reports", [m("DkimSigningFailures", {}, { label: "DKIM signing failures" }), m("UnauthenticatedReports", {}, { label: "unauthenticated reports" })], "Sum", 3600);
  chart("Syncs: seconds since the last good one", [m("SuppressionSyncAge", {}, { label: "suppression list copy" }), m("ConfigSyncAge", {}, { label: "configuration" }), m("SuppressionPending", {}, { label: "changes pending" })], "Maximum", 300, {
    annotations: { horizontal: [line("alarm (1 h)", SYNC_STALE_SECONDS)] },
  });
  chart("Certificate days left", [m("CertificateDaysLeft")], "Minimum", 3600, { annotations: { horizontal: [line(`alarm (${CERTIFICATE_MINIMUM_DAYS} days)`, CERTIFICATE_MINIMUM_DAYS)] } });
  chart("DNS blocklists listing the address", [...DNSBLS.map((l) => m("DnsblListed", { Blocklist: l.name }, { label: l.name })), m("DnsblUnknown", {}, { label: "cannot tell" })], "Maximum", 3600);
  chart("Receivers' reports: DMARC messages and passes, TLS failures", [m("DmarcReportedMessages", {}, { label: "DMARC: messages reported" }), m("DmarcReportedPassed", {}, { label: "DMARC: passed" }), m("TlsReportedFailures", {}, { label: "TLS: sessions failed" }), m("ReportsSetApart", {}, { label: "reports set apart" })], "Sum", 86400);
  chart("EC2 status checks failed", [["AWS/EC2", "StatusCheckFailed", "InstanceId", input.instanceId]], "Maximum", 60);
  if (input.alarmArns && input.alarmArns.length > 0) widgets.push({ type: "alarm", width: 24, height: 4, properties: { title: "Alarms", alarms: [...input.alarmArns] } });

  // Rows of 24 columns, left to right.
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return widgets.map((w) => {
    if (x + w.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...w, x, y } as DashboardWidget;
    x += w.width;
    rowHeight = Math.max(rowHeight, w.height);
    return placed;
  });
}

/** The dashboard body, as Dashboard's dashboardBody takes it. */
export function mailHostDashboardBody(input: DashboardInput): string {
  return JSON.stringify({ widgets: mailHostDashboardWidgets(input) });
}

/** Every metric the dashboard's widgets name: namespace, name and dimensions. */
export function dashboardMetrics(widgets: readonly DashboardWidget[]): { namespace: string; metricName: string; dimensions: Record<string, string> }[] {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((line) => {
      const parts = line.filter((p): p is string => typeof p === "string");
      const dimensions: Record<string, string> = {};
      for (let i = 2; i + 1 < parts.length; i += 2) dimensions[parts[i]] = parts[i + 1];
      return { namespace: parts[0], metricName: parts[1], dimensions };
    }),
  );
}
