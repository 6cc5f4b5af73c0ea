/**
 * Monitoring of the mail hosts: the metric catalogue the host publishes
 * (to CloudWatch and Prometheus), the alarms and CloudWatch dashboard
 * MailHost creates through MailHostMonitoring, the Grafana dashboard for
 * Prometheus users, and the sending report built from the hosts' summaries.
 */
export { METRIC_NAMESPACE, METRICS, metricDefinition, prometheusLabel, prometheusName, type DimensionName, type MetricDefinition, type MetricName, type MetricUnit } from "./metrics";
export { alarmMetrics, mailHostAlarms, REQUIRED_ALARMS, type AlarmDefinition, type AlarmMetric } from "./alarms";
export { dashboardMetrics, mailHostDashboardBody, mailHostDashboardWidgets, type DashboardInput, type DashboardWidget, type WidgetMetric } from "./dashboard";
export { grafanaDashboard, grafanaQueries } from "./grafana";
export { MailHostMonitoring, type MailHostMonitoringArgs } from "./mail-host-monitoring";
export { buildSendingReport, HOST_SUMMARY_FORMAT, hostSummaryProblems, type DayFigures, type HostSummary, type ReportDay, type SendingReport } from "./report";
