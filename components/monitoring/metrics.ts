/**
 * The mail host's metrics: one catalogue for everything that emits or
 * reads them. The host's postforge-mailops publishes these names (to
 * CloudWatch and as Prometheus text), the dashboard's widgets and the alarms
 * name them, the Grafana dashboard queries them and `postforge report`
 * reads the same counts; a test checks each widget and alarm against what
 * the host really published. Pure data.
 */

/** The CloudWatch namespace of every metric the host publishes (the role may publish to this one only). */
export const METRIC_NAMESPACE = "Postforge/Mail";

/** CloudWatch units the catalogue uses. */
export type MetricUnit = "Count" | "Seconds" | "Percent" | "None";

/**
 * The dimension sets a metric is published with. Every metric has `Host`
 * alone (what alarms watch: CloudWatch does not add up across dimensions);
 * some are also broken down by the sending domain, the recipient's receiver
 * group, the refusal's reason, the TLS level or the blocklist.
 */
export type DimensionName = "Host" | "Domain" | "ReceiverGroup" | "Reason" | "TlsLevel" | "Blocklist";

/** One metric of the catalogue: its name, unit, kind, dimension sets and meaning. */
export interface MetricDefinition {
  name: string;
  unit: MetricUnit;
  /** A counter is published as what happened in the minute (CloudWatch Sum) and, cumulative, as a Prometheus `_total`; a gauge is a reading. */
  kind: "counter" | "gauge";
  /** The dimension sets it is published with (each includes Host). */
  dimensions: readonly (readonly DimensionName[])[];
  /** What it counts, for the dashboard, the Prometheus HELP line and the docs. */
  help: string;
}

const HOST = ["Host"] as const;
const BY_DOMAIN = ["Host", "Domain"] as const;
const BY_GROUP = ["Host", "ReceiverGroup"] as const;

/** Every metric the host publishes. */
export const METRICS = [
  { name: "Submitted", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN], help: "Recipients accepted at submission (587/465), by the envelope sender's domain" },
  { name: "Refused", unit: "Count", kind: "counter", dimensions: [HOST, ["Host", "Reason"]], help: "Recipients, senders or clients submission refused: suppressed, sender-not-allowed, client-not-allowed (a network not in submissionClients), rate-limited, signing-failed, other" },
  { name: "Delivered", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN, BY_GROUP], help: "Recipients a receiver accepted (status=sent)" },
  { name: "Deferred", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN, BY_GROUP], help: "Delivery attempts a receiver deferred (4xx or no connection); each retry counts again" },
  { name: "HardBounced", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN, BY_GROUP], help: "Recipients given up on because they cannot receive (unknown user, no such domain, disabled)" },
  { name: "SoftBounced", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN, BY_GROUP], help: "Recipients given up on for any other reason (expired in the queue, content, policy)" },
  { name: "Complaints", unit: "Count", kind: "counter", dimensions: [HOST, BY_GROUP], help: "Authenticated feedback-loop complaints, by the complaining recipient's receiver group" },
  { name: "UnauthenticatedReports", unit: "Count", kind: "counter", dimensions: [HOST], help: "Complaints that did not authenticate and bounce reports about recipients never mailed: counted, not acted on" },
  { name: "DkimSigningFailures", unit: "Count", kind: "counter", dimensions: [HOST], help: "Submissions the signers could not sign (milter tempfail: the client must retry)" },
  { name: "OutboundTlsSessions", unit: "Count", kind: "counter", dimensions: [HOST, ["Host", "TlsLevel"]], help: "Outbound SMTP sessions that used TLS, by how the receiver's certificate was judged (Verified, Trusted, Untrusted, Anonymous)" },
  { name: "QueueSize", unit: "Count", kind: "gauge", dimensions: [HOST], help: "Messages in the queue (active, deferred, hold)" },
  { name: "HeldMessages", unit: "Count", kind: "gauge", dimensions: [HOST], help: "Messages in the hold queue (the warm-up's, or an operator's)" },
  { name: "OldestQueuedAge", unit: "Seconds", kind: "gauge", dimensions: [HOST], help: "Age of the oldest message in the active and deferred queues (held mail waits on purpose)" },
  { name: "WarmupCap", unit: "Count", kind: "gauge", dimensions: [BY_GROUP], help: "Today's warm-up cap per receiver group (published while a ramp holds)" },
  { name: "WarmupUsed", unit: "Count", kind: "gauge", dimensions: [BY_GROUP], help: "Recipients admitted today against the warm-up cap, per receiver group" },
  { name: "BounceRate", unit: "Percent", kind: "gauge", dimensions: [HOST], help: "Hard bounces over sends (delivered or bounced) in the last 14 days; published from 100 sends" },
  { name: "ComplaintRate", unit: "Percent", kind: "gauge", dimensions: [HOST], help: "Complaints over deliveries in the last 14 days; published from 100 deliveries" },
  { name: "SuppressionPending", unit: "Count", kind: "gauge", dimensions: [HOST], help: "Suppression-list changes the DynamoDB copy has not taken yet" },
  { name: "SuppressionSyncAge", unit: "Seconds", kind: "gauge", dimensions: [HOST], help: "Seconds since the suppression list's DynamoDB copy last took every change" },
  { name: "ConfigSyncAge", unit: "Seconds", kind: "gauge", dimensions: [HOST], help: "Seconds since the host last fetched and checked its configuration (postforge-sync)" },
  { name: "CertificateDaysLeft", unit: "None", kind: "gauge", dimensions: [HOST], help: "Days until the host's TLS certificate expires" },
  { name: "DnsblListed", unit: "Count", kind: "gauge", dimensions: [HOST, ["Host", "Blocklist"]], help: "Blocklists that list the host's address (daily check through the host's own resolver); 1 or 0 per list" },
  { name: "DnsblUnknown", unit: "Count", kind: "gauge", dimensions: [HOST], help: "Blocklists whose answer said nothing (refused, over quota, no answer) at the last check" },
  { name: "DmarcReportedMessages", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN], help: "Messages receivers reported in the DMARC aggregate reports that reached the role mailboxes and counted (authenticated, about our domains), by From domain" },
  { name: "DmarcReportedPassed", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN], help: "Of those, the messages that passed DMARC (an aligned DKIM or SPF pass)" },
  { name: "TlsReportedFailures", unit: "Count", kind: "counter", dimensions: [HOST, BY_DOMAIN], help: "TLS sessions to us that receivers' TLS reports (RFC 8460) say failed, by policy domain" },
  { name: "ReportsSetApart", unit: "Count", kind: "counter", dimensions: [HOST], help: "Report messages in the role mailboxes that did not count: not authenticated on arrival, about another domain, or unreadable" },
] as const satisfies readonly MetricDefinition[];

/** The name of a metric the host publishes. */
export type MetricName = (typeof METRICS)[number]["name"];

/** A metric's definition by name. */
export function metricDefinition(name: string): MetricDefinition | undefined {
  return (METRICS as readonly MetricDefinition[]).find((m) => m.name === name);
}

/** The Prometheus name of a metric: `postforge_` + snake case, counters with `_total`, seconds with `_seconds` (Prometheus naming rules). */
export function prometheusName(metric: MetricDefinition): string {
  const snake = metric.name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  const base = snake.endsWith("_age") ? `${snake}_seconds` : snake === "bounce_rate" || snake === "complaint_rate" ? `${snake}_percent` : snake;
  return `postforge_${base}${metric.kind === "counter" ? "_total" : ""}`;
}

/** A dimension's Prometheus label name. */
export function prometheusLabel(dimension: DimensionName): string {
  return dimension.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
