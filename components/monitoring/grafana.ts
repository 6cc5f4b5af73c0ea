import { BOUNCE_RATE_THRESHOLDS, COMPLAINT_RATE_THRESHOLDS } from "../sending/rates";
import { CERTIFICATE_MINIMUM_DAYS, OLDEST_QUEUED_SECONDS, SYNC_STALE_SECONDS } from "./alarms";
import { metricDefinition, prometheusName, type MetricName } from "./metrics";

/**
 * The Grafana dashboard for teams that scrape the host's exporter with
 * Prometheus: the same figures as the CloudWatch dashboard, as PromQL over
 * the exporter's names (./metrics.ts prometheusName). Built here and written
 * by `npm run build` to dist/grafana/postforge-mail-host.json, which the
 * package ships; import it in Grafana (Dashboards, New, Import) and pick the
 * Prometheus data source. Pure.
 */

/** The Grafana dashboard model's parts used here (schemaVersion 39). */
interface Panel {
  id: number;
  type: "timeseries" | "stat" | "text";
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: "prometheus"; uid: "${DS_PROMETHEUS}" };
  targets?: { refId: string; expr: string; legendFormat: string }[];
  fieldConfig?: { defaults: { unit?: string; min?: number; thresholds?: { mode: "absolute"; steps: { color: string; value: number | null }[] }; custom?: Record<string, unknown> }; overrides: unknown[] };
  options?: Record<string, unknown>;
}

const DATASOURCE = { type: "prometheus", uid: "${DS_PROMETHEUS}" } as const;

/** A metric's exporter name, checked against the catalogue (a typo fails the build's test, not a panel). */
function p(name: MetricName): string {
  return prometheusName(metricDefinition(name)!);
}

const HOST = 'host=~"$host"';

function thresholds(warn: number, critical: number) {
  return { mode: "absolute" as const, steps: [{ color: "green", value: null }, { color: "orange", value: warn }, { color: "red", value: critical }] };
}

/** The dashboard's panels, two a row. */
function panels(): Panel[] {
  const out: Panel[] = [];
  const add = (title: string, targets: [string, string][], unit: string, extra: Partial<Panel> = {}) => {
    const i = out.length;
    out.push({
      id: i + 1,
      type: "timeseries",
      title,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: DATASOURCE,
      targets: targets.map(([expr, legendFormat], k) => ({ refId: String.fromCharCode(65 + k), expr, legendFormat })),
      fieldConfig: { defaults: { unit, min: 0, ...(extra.fieldConfig?.defaults ?? {}) }, overrides: [] },
      ...(extra.options ? { options: extra.options } : {}),
    });
  };
  const increase = (name: MetricName, by: string) => `sum by (${by}) (increase(${p(name)}{${HOST}}[1h]))`;
  const withLines = (warn: number, critical: number) => ({ fieldConfig: { defaults: { thresholds: thresholds(warn, critical), custom: { thresholdsStyle: { mode: "line" } } }, overrides: [] } });
  add("Delivered by receiver group (per hour)", [[increase("Delivered", "receiver_group"), "{{receiver_group}}"]], "short");
  add("Deferred by receiver group (per hour)", [[increase("Deferred", "receiver_group"), "{{receiver_group}}"]], "short");
  add("Bounced (per hour)", [[`sum(increase(${p("HardBounced")}{${HOST}}[1h]))`, "hard"], [`sum(increase(${p("SoftBounced")}{${HOST}}[1h]))`, "soft"]], "short");
  add("Bounce rate, 14 days", [[`max by (host) (${p("BounceRate")}{${HOST}})`, "{{host}}"]], "percent", withLines(BOUNCE_RATE_THRESHOLDS.warn * 100, BOUNCE_RATE_THRESHOLDS.critical * 100));
  add("Complaint rate, 14 days", [[`max by (host) (${p("ComplaintRate")}{${HOST}})`, "{{host}}"]], "percent", withLines(COMPLAINT_RATE_THRESHOLDS.warn * 100, COMPLAINT_RATE_THRESHOLDS.critical * 100));
  add("Complaints by receiver group (per day)", [[`sum by (receiver_group) (increase(${p("Complaints")}{${HOST}}[1d]))`, "{{receiver_group}}"]], "short");
  add("Submitted and delivered by sending domain (per hour)", [[increase("Submitted", "domain"), "{{domain}} submitted"], [increase("Delivered", "domain"), "{{domain}} delivered"]], "short");
  add("Refused at submission (per hour)", [[increase("Refused", "reason"), "{{reason}}"]], "short");
  add("Queue", [[`sum by (host) (${p("QueueSize")}{${HOST}})`, "{{host}} queued"], [`sum by (host) (${p("HeldMessages")}{${HOST}})`, "{{host}} held"]], "short");
  add("Oldest queued message", [[`max by (host) (${p("OldestQueuedAge")}{${HOST}})`, "{{host}}"]], "s", withLines(OLDEST_QUEUED_SECONDS, OLDEST_QUEUED_SECONDS * 2));
  add("Warm-up: today's cap and use", [[`max by (receiver_group) (${p("WarmupCap")}{${HOST}})`, "{{receiver_group}} cap"], [`max by (receiver_group) (${p("WarmupUsed")}{${HOST}})`, "{{receiver_group}} used"]], "short");
  add("Outbound TLS sessions (per hour)", [[increase("OutboundTlsSessions", "tls_level"), "{{tls_level}}"]], "short");
  add("Signing failures and unauthenticated reports (per hour)", [[`sum(increase(${p("DkimSigningFailures")}{${HOST}}[1h]))`, "DKIM signing failures"], [`sum(increase(${p("UnauthenticatedReports")}{${HOST}}[1h]))`, "unauthenticated reports"]], "short");
  add(
    "Syncs: time since the last good one",
    [[`max by (host) (${p("SuppressionSyncAge")}{${HOST}})`, "{{host}} suppression list copy"], [`max by (host) (${p("ConfigSyncAge")}{${HOST}})`, "{{host}} configuration"], [`sum by (host) (${p("SuppressionPending")}{${HOST}})`, "{{host}} changes pending"]],
    "s",
    withLines(SYNC_STALE_SECONDS, SYNC_STALE_SECONDS * 2),
  );
  add("Certificate days left", [[`min by (host) (${p("CertificateDaysLeft")}{${HOST}})`, "{{host}}"]], "d", { fieldConfig: { defaults: { thresholds: { mode: "absolute", steps: [{ color: "red", value: null }, { color: "green", value: CERTIFICATE_MINIMUM_DAYS }] }, custom: { thresholdsStyle: { mode: "line" } } }, overrides: [] } });
  add(
    "Receivers' reports (per day)",
    [
      [`sum(increase(${p("DmarcReportedMessages")}{${HOST}}[1d]))`, "DMARC: messages reported"],
      [`sum(increase(${p("DmarcReportedPassed")}{${HOST}}[1d]))`, "DMARC: passed"],
      [`sum(increase(${p("TlsReportedFailures")}{${HOST}}[1d]))`, "TLS: sessions failed"],
      [`sum(increase(${p("ReportsSetApart")}{${HOST}}[1d]))`, "reports set apart"],
    ],
    "short",
  );
  add("DNS blocklists listing the address", [[`max by (blocklist) (${p("DnsblListed")}{${HOST}})`, "{{blocklist}}"], [`max by (host) (${p("DnsblUnknown")}{${HOST}})`, "cannot tell"]], "short");
  return out;
}

/** The dashboard, as Grafana's import takes it (with the data source as an input to choose). */
export function grafanaDashboard(): Record<string, unknown> {
  return {
    __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", description: "The Prometheus that scrapes the mail hosts' exporters (port 9154)", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
    __requires: [{ type: "grafana", id: "grafana", name: "Grafana", version: "10.0.0" }, { type: "datasource", id: "prometheus", name: "Prometheus", version: "1.0.0" }],
    title: "Postforge mail hosts",
    uid: "postforge-mail-hosts",
    description: "Delivery, bounces, complaints, the queue, the warm-up, the syncs and the address's reputation, from each Postforge mail host's exporter",
    tags: ["postforge", "email"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    refresh: "1m",
    time: { from: "now-7d", to: "now" },
    templating: {
      list: [
        {
          name: "host",
          label: "Host",
          type: "query",
          datasource: DATASOURCE,
          query: { query: `label_values(${p("QueueSize")}, host)`, refId: "host" },
          definition: `label_values(${p("QueueSize")}, host)`,
          includeAll: true,
          multi: true,
          current: {},
          refresh: 2,
        },
      ],
    },
    panels: panels(),
  };
}

/** Every metric and label the dashboard's queries name, for the test that checks the exporter serves them. */
export function grafanaQueries(dashboard: Record<string, unknown> = grafanaDashboard()): { metric: string; labels: string[] }[] {
  const exprs = (dashboard.panels as Panel[]).flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
  return exprs.flatMap((expr) => {
    const by = /by \(([^)]*)\)/.exec(expr)?.[1].split(",").map((l) => l.trim()) ?? [];
    return [...expr.matchAll(/(postforge_\w+)\{([^}]*)\}/g)].map((m) => ({ metric: m[1], labels: [...new Set([...by, ...[...m[2].matchAll(/(\w+)=~?"/g)].map((l) => l[1])])] }));
  });
}
