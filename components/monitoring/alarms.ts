import { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS, thresholdPercent as pct } from "../sending/rates";
import { METRIC_NAMESPACE, type MetricName } from "./metrics";

/**
 * The mail host's alarms, as data: which metric, which statistic over what
 * period, which threshold and why. Pure: MailHostMonitoring makes them
 * MetricAlarms, the plan lists them, the policy pack checks a stack has
 * them, and a test checks each names a metric the host really publishes.
 */

/** One metric an alarm (or a metric-math alarm's query) reads. */
export interface AlarmMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat: "Sum" | "Maximum" | "Minimum" | "Average" | "SampleCount";
  /** Seconds. */
  period: number;
}

/** One alarm: what it watches, when it fires, and what silence means. */
export interface AlarmDefinition {
  /** Stable id: the MetricAlarm's name suffix, and how the policy pack knows it. */
  id: string;
  /** `warn` or `critical`: critical ones are what gets a sender paused or blocked. */
  severity: "warn" | "critical";
  description: string;
  comparison: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  evaluationPeriods: number;
  /** What a minute without data means: a quiet host (notBreaching) or a host that stopped reporting (breaching). */
  treatMissingData: "breaching" | "notBreaching";
  /** A single metric, or metric math (`expression` over `metrics` named m0, m1, ...). */
  metric?: AlarmMetric;
  expression?: { expression: string; label: string; metrics: AlarmMetric[]; period: number };
}

/** The alarms every production mail host must have (policy host-alarms), by id. */
export const REQUIRED_ALARMS = [
  "bounce-rate-warn",
  "bounce-rate-critical",
  "complaint-rate-warn",
  "complaint-rate-critical",
  "oldest-queued",
  "deferral-rate",
  "suppression-sync",
  "config-sync",
  "certificate-expiry",
  "dnsbl-listed",
  "ec2-status-check",
  "host-reporting",
] as const;

/** Deferrals over attempts in an hour above which receivers are pushing back (rate limits, reputation). */
export const DEFERRAL_RATE_THRESHOLD = 20;
/** Attempts in an hour below which the deferral rate is not judged. */
export const DEFERRAL_MINIMUM_ATTEMPTS = 50;
/** The oldest message in the queue (not held) older than this: mail is stuck. */
export const OLDEST_QUEUED_SECONDS = 3600;
/** A sync that has not succeeded for this long. */
export const SYNC_STALE_SECONDS = 3600;
/** A host that has published nothing for this long has stopped (or cannot reach CloudWatch): long enough for a new host's first boot. */
export const SILENT_HOST_MINUTES = 30;
/** Days of certificate left below which renewal has failed for weeks (certbot renews at 30). */
export const CERTIFICATE_MINIMUM_DAYS = 14;

function host(name: MetricName, hostname: string, stat: AlarmMetric["stat"], period: number): AlarmMetric {
  return { namespace: METRIC_NAMESPACE, metricName: name, dimensions: { Host: hostname }, stat, period };
}


/** The alarms of one host (its name, its instance). */
export function mailHostAlarms(hostname: string, instanceId: string): AlarmDefinition[] {
  const rate = (id: string, severity: "warn" | "critical", metric: "BounceRate" | "ComplaintRate", threshold: number, what: string, source: string): AlarmDefinition => ({
    id,
    severity,
    description: `${hostname}: ${what} is at or above ${threshold}% over the last 14 days (${source})`,
    comparison: "GreaterThanOrEqualToThreshold",
    threshold,
    evaluationPeriods: 1,
    // The host publishes a rate only from 100 messages in the window: no data is too few to judge.
    treatMissingData: "notBreaching",
    metric: host(metric, hostname, "Maximum", 300),
  });
  return [
    rate("bounce-rate-warn", "warn", "BounceRate", pct(BOUNCE_RATE_THRESHOLDS.warn), "the bounce rate (hard bounces over sends)", BOUNCE_RATE_THRESHOLDS.source),
    rate("bounce-rate-critical", "critical", "BounceRate", pct(BOUNCE_RATE_THRESHOLDS.critical), "the bounce rate (hard bounces over sends)", BOUNCE_RATE_THRESHOLDS.source),
    rate("complaint-rate-warn", "warn", "ComplaintRate", pct(COMPLAINT_RATE_THRESHOLDS.warn), "the complaint rate (complaints over deliveries)", COMPLAINT_RATE_THRESHOLDS.source),
    rate("complaint-rate-critical", "critical", "ComplaintRate", pct(COMPLAINT_RATE_THRESHOLDS.critical), "the complaint rate (complaints over deliveries)", COMPLAINT_RATE_THRESHOLDS.source),
    {
      id: "oldest-queued",
      severity: "critical",
      description: `${hostname}: a message has waited in the queue for over an hour (held mail not counted): receivers refuse or the host cannot reach them`,
      comparison: "GreaterThanThreshold",
      threshold: OLDEST_QUEUED_SECONDS,
      evaluationPeriods: 3,
      treatMissingData: "notBreaching",
      metric: host("OldestQueuedAge", hostname, "Maximum", 300),
    },
    {
      id: "deferral-rate",
      severity: "warn",
      description: `${hostname}: over ${DEFERRAL_RATE_THRESHOLD}% of delivery attempts in the last hour were deferred (from ${DEFERRAL_MINIMUM_ATTEMPTS} attempts): receivers are rate-limiting or distrusting the host`,
      comparison: "GreaterThanThreshold",
      threshold: DEFERRAL_RATE_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      expression: {
        expression: `IF((m0 + m1 + m2 + m3) >= ${DEFERRAL_MINIMUM_ATTEMPTS}, 100 * m1 / (m0 + m1 + m2 + m3), 0)`,
        label: "Deferred attempts (%)",
        period: 3600,
        metrics: (["Delivered", "Deferred", "HardBounced", "SoftBounced"] as const).map((m) => host(m, hostname, "Sum", 3600)),
      },
    },
    {
      id: "suppression-sync",
      severity: "critical",
      description: `${hostname}: the suppression list's DynamoDB copy has been behind for over an hour: a replacement host would mail addresses it must not`,
      comparison: "GreaterThanThreshold",
      threshold: SYNC_STALE_SECONDS,
      evaluationPeriods: 1,
      // A host that stops reporting is host-reporting's to say, not every alarm's at once.
      treatMissingData: "notBreaching",
      metric: host("SuppressionSyncAge", hostname, "Minimum", 900),
    },
    {
      id: "config-sync",
      severity: "critical",
      description: `${hostname}: the host has not fetched and applied its configuration for over an hour: deploys do not reach it`,
      comparison: "GreaterThanThreshold",
      threshold: SYNC_STALE_SECONDS,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      metric: host("ConfigSyncAge", hostname, "Minimum", 900),
    },
    {
      id: "certificate-expiry",
      severity: "critical",
      description: `${hostname}: its TLS certificate expires in under ${CERTIFICATE_MINIMUM_DAYS} days: renewal has been failing (certbot renews at 30)`,
      comparison: "LessThanThreshold",
      threshold: CERTIFICATE_MINIMUM_DAYS,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      metric: host("CertificateDaysLeft", hostname, "Minimum", 3600),
    },
    {
      id: "dnsbl-listed",
      severity: "critical",
      description: `${hostname}: a DNS blocklist lists the host's address (see the dashboard's blocklist widget for which; delist there)`,
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      metric: host("DnsblListed", hostname, "Maximum", 3600),
    },
    {
      id: "ec2-status-check",
      severity: "critical",
      description: `${hostname}: the instance failed an EC2 status check (instance or system)`,
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: "breaching",
      metric: { namespace: "AWS/EC2", metricName: "StatusCheckFailed", dimensions: { InstanceId: instanceId }, stat: "Maximum", period: 60 },
    },
    {
      id: "host-reporting",
      severity: "critical",
      description: `${hostname}: the host has published nothing for ${SILENT_HOST_MINUTES} minutes: postforge-mailops is not running, or cannot reach CloudWatch, so no other alarm can see it`,
      // Delivered is published every minute, zero included: fewer than one sample in each period is silence.
      comparison: "LessThanThreshold",
      threshold: 1,
      evaluationPeriods: SILENT_HOST_MINUTES / 5,
      treatMissingData: "breaching",
      metric: { ...host("Delivered", hostname, "SampleCount", 300) },
    },
  ];
}

/** Every metric an alarm reads (a metric-math alarm's included). */
export function alarmMetrics(alarm: AlarmDefinition): AlarmMetric[] {
  return alarm.metric ? [alarm.metric] : (alarm.expression?.metrics ?? []);
}
