import type { MailHostConfig } from "./config";
import { CRON_PATH, HOST_TOOL_USER, PATHS } from "./layout";
import { METRIC_NAMESPACE } from "../monitoring/metrics";

/**
 * The host's monitoring, as files: what postforge-mailops needs to count
 * and publish (components/sending/host-mailops.ts), the Prometheus
 * exporter's unit, the daily blocklist check and the config sync's
 * heartbeat.
 *
 * How the figures reach CloudWatch, and why: PutMetricData, called once a
 * minute by apply through the AWS CLI with the instance role (as the
 * suppression list reaches DynamoDB). The CloudWatch agent is not in
 * Debian and would be a second daemon reading the same log; the embedded
 * metric format needs the agent or CloudWatch Logs. One call a minute
 * carries every figure, and the role may publish to one namespace only
 * (`cloudwatch:namespace` condition). A call that fails sends the minute's
 * counts with the next one: nothing counted is lost.
 */

/** The exporter's port: the one prometheus-postfix-exporter uses, so scrape configs need no change. */
export const METRICS_PORT = 9154;

/** What postforge-mailops reads: no secret, the host's own facts. */
export interface MonitoringSettings {
  hostname: string;
  region: string;
  namespace: string;
  domains: string[];
  extraDomains: Partial<Record<string, string[]>>;
  /** Networks whose scrapes the exporter answers (mailHost.adminClients); nobody else gets a byte. */
  adminClients: string[];
  metricsPort: number;
  /** The Maildirs receivers' reports arrive in (each domain's dmarc-rua@, dmarc-ruf@ and tls-rpt@): apply reads what is new. */
  reportMaildirs: string[];
}

export function monitoringSettings(config: MailHostConfig): MonitoringSettings {
  return {
    hostname: config.hostname,
    region: config.awsRegion,
    namespace: METRIC_NAMESPACE,
    domains: config.domains.map((d) => d.domain),
    extraDomains: (config.warmup?.extraDomains ?? {}) as Partial<Record<string, string[]>>,
    adminClients: [...config.adminClients],
    metricsPort: METRICS_PORT,
    reportMaildirs: config.domains.flatMap((d) => [...new Set([d.roles.dmarcAggregate, d.roles.dmarcFailure, d.roles.tlsReports])].map((local) => `${PATHS.mailRoot}/${d.domain}/${local}/Maildir`)),
  };
}

export function renderMonitoringSettings(config: MailHostConfig): string {
  return `${JSON.stringify(monitoringSettings(config), null, 1)}\n`;
}

/** The exporter: postforge-mailops serve-metrics, unprivileged, serving the text apply writes. */
export function renderMetricsUnit(config: MailHostConfig): string {
  return `# Rendered by Postforge: the Prometheus exporter of ${config.hostname} (port ${METRICS_PORT}, admin networks only).
[Unit]
Description=Postforge metrics for Prometheus on port ${METRICS_PORT}
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${PATHS.mailopsTool} serve-metrics
User=${HOST_TOOL_USER}
Restart=always
RestartSec=2
MemoryMax=128M
NoNewPrivileges=yes
ProtectSystem=strict

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Every day at a time of the host's own (spread over the hour, so a fleet does not query the lists at
 * once), and at boot: the address against the blocklists. Spamhaus's free use allows this many queries.
 */
export function renderDnsblCron(config: MailHostConfig): string {
  let h = 0;
  for (const c of config.hostname) h = (h * 31 + c.charCodeAt(0)) % 3600;
  const minute = h % 60;
  return `# Rendered by Postforge: the host's address against the DNS blocklists, daily (postforge-mailops dnsbl).\n${CRON_PATH}\n${minute} 5 * * * root ${PATHS.mailopsTool} dnsbl\n@reboot root sleep 120 && ${PATHS.mailopsTool} dnsbl\n`;
}

/** postforge-sync's heartbeat: ExecStartPost runs only after ExecStart succeeded, so the file's time is the last good sync. */
export function renderSyncCheckedDropIn(): string {
  return `# Rendered by Postforge: the time of the last sync that succeeded, for the ConfigSyncAge metric.\n[Service]\nExecStartPost=/bin/sh -c 'date +%%s > ${PATHS.syncChecked}'\n`;
}
