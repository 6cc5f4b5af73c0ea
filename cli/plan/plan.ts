import { decodeCloudflareRecord } from "../../components/dns/providers/cloudflare-encoding";
import { todayUtc, warmupDayOn, type WarmupDay, type WarmupSchedule } from "../../components/sending/warmup";
import { decodeRoute53RecordSet } from "../../components/dns/providers/route53-encoding";
import { compareRecords, compareText, enclosingZone, rdataText, type DnsRecord } from "../../components/dns/model";
import { inferPurpose } from "../../components/dns/purpose";
// Type tokens from their own module: the components themselves (and zod, Pulumi) need not load for the plan.
import { DKIM_KEY_TYPE, MAIL_DOMAIN_TYPE, MAIL_HOST_MONITORING_TYPE, MAIL_HOST_TYPE, MTA_STS_POLICY_SERVED_TYPE, MTA_STS_POLICY_SITE_TYPE } from "../../components/type-tokens";
import type { CapturedResource, OfflineRunResult } from "./engine";
import type { PlannedViolation } from "./policies";

/**
 * A plan: what `pulumi up` would publish, per zone, read back from the
 * provider resources the program registered (not from what the program meant
 * to publish), so an encoding bug shows up here. `postforge plan --json`
 * prints it; `postforge diff` and `verify` read it.
 */

export const CLOUDFLARE_RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord";
export const ROUTE53_RECORD_TYPE = "aws:route53/record:Record";

export type PlannedRecord = DnsRecord & {
  /** The logical name of the provider resource that publishes it. */
  resource: string;
  /** Presentation-format rdata, as in a zone file. */
  value: string;
  /** A CAA record's own value (`value` above is its whole rdata, which replaced it). */
  caaValue?: string;
};

/** The model record a planned one came from: a CAA record gets its own value back (`value` holds the rdata). */
export function modelRecord(planned: PlannedRecord): DnsRecord {
  const { resource: _resource, caaValue, ...record } = planned;
  if (record.type === "CAA") return { ...record, value: caaValue ?? record.value } as DnsRecord;
  const { value: _value, ...rest } = record as DnsRecord & { value?: string };
  return rest as DnsRecord;
}

export interface PlannedDomain {
  domain: string;
  provider: "cloudflare" | "route53" | "mixed";
  records: PlannedRecord[];
}

/** A DKIM key the stack manages, and where it is in its rotation. */
export interface PlannedDkimKey {
  domain: string;
  selector: string;
  algorithm: string;
  bits: number;
  state: string;
  /** Whether the key is protected from deletion. */
  protected: boolean;
}

/** A mail host the stack runs, as its resources describe it. */
export interface PlannedMailHost {
  /** HELO, PTR and A name. */
  hostname: string;
  /** The Elastic IP (a documentation address offline). */
  publicIp: string;
  /** The name EC2's reverse DNS gives the address. */
  ptr: string;
  addressProtected: boolean;
  instanceType: string;
  ami: string;
  imdsV2Required: boolean;
  rootVolumeEncrypted: boolean;
  /** Inbound ports and who may reach them. */
  ingress: { port: number; protocol: string; sources: string[]; description: string }[];
  /** Role mailboxes the host creates (passwords generated at deploy, stack output `mailboxPasswords`). */
  mailboxes: string[];
  /** `domain/selector` of every key the host signs with. */
  signingKeys: string[];
  /** Submission logins and the senders each may use (passwords generated at deploy, stack output `senderPasswords`). */
  senders: { login: string; allowed: string[] }[];
  /** The cloud-init user-data the instance boots with (no secret in it); a change replaces the instance. */
  userData: string;
  /** The config manifest the host applies itself (no secret in it); a change reconfigures it in place. */
  config: string;
  /** The address's warm-up, when the host has one: each group's ramp, and where today (UTC, or POSTFORGE_TODAY) is in it. */
  warmup?: PlannedWarmup;
  /** The day the address started sending, when the config says it is warm already. */
  sendingSince?: string;
  /** The host's alarms (components/monitoring/alarms.ts), as registered: what each watches and when it fires. */
  alarms: PlannedAlarm[];
  /** Who the alarms notify by email (the SNS topic's subscriptions). */
  alarmEmails: string[];
  /** The host's CloudWatch dashboard. */
  dashboard?: string;
}

/** One alarm as the plan shows it. */
export interface PlannedAlarm {
  name: string;
  severity: string;
  /** The condition, as a reviewer reads it: `Maximum BounceRate >= 5 (5 min x 1)`. */
  condition: string;
  /** Whether it notifies a topic when it fires and when it clears. */
  notifies: boolean;
}

/** A mail host's warm-up as the plan shows it. */
export interface PlannedWarmup extends WarmupSchedule {
  today: WarmupDay & { date: string };
}

export interface Plan {
  formatVersion: 1;
  project: string;
  stack: string;
  /** Every resource the program registered, the stack itself excluded. */
  resourceCount: number;
  resourcesByType: Record<string, number>;
  domains: PlannedDomain[];
  dkimKeys: PlannedDkimKey[];
  /** MTA-STS policy files per domain, from the program's `mtaStsPolicies` output. */
  mtaStsPolicies: Record<string, string>;
  /** Who serves each domain's MTA-STS policy, where Postforge does: "the mail host <name>" or "CloudFront". Absent: served elsewhere. */
  mtaStsServedBy?: Record<string, string>;
  /** The mail hosts the stack runs (postforge:mta:MailHost). */
  mailHosts: PlannedMailHost[];
  /** Declared SPF include costs (lookups, include counted), from the program's `spfIncludeCosts` output. */
  spfIncludeCosts: Record<string, number>;
  warnings: string[];
  /** Violations of the policy pack's rules (policies/), judged over the captured resources; mandatory ones fail the plan. */
  policyViolations: PlannedViolation[];
  /** With --reports: what the DMARC reports say of each domain's next policy step (./evidence.ts). */
  dmarcEvidence?: import("./evidence").PlannedEvidence[];
}

export function isDnsResource(resource: CapturedResource): boolean {
  return resource.type === CLOUDFLARE_RECORD_TYPE || resource.type === ROUTE53_RECORD_TYPE;
}

/** The canonical records one provider resource publishes (a Route53 set may hold several). */
export function decodeDnsResource(resource: CapturedResource): DnsRecord[] {
  const records =
    resource.type === CLOUDFLARE_RECORD_TYPE ? [decodeCloudflareRecord(resource.inputs)] : decodeRoute53RecordSet(resource.inputs);
  return records.map((r) => ({ ...r, purpose: inferPurpose(r) }) as DnsRecord);
}

export function buildPlan(meta: { project: string; stack: string }, run: OfflineRunResult): Plan {
  const resources = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  // By type name, not registration order (which follows when inputs resolve): the same stack plans the same text.
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  const resourcesByType: Record<string, number> = Object.fromEntries([...counts].sort(([a], [b]) => compareText(a, b)));

  // Records belong to the MailDomain that parents them; hand-made records to the longest matching zone.
  const zoneOfComponent = new Map<string, string>();
  for (const r of resources) if (r.type === MAIL_DOMAIN_TYPE) zoneOfComponent.set(r.urn, String(r.inputs.domain));
  const zones = new Map([...zoneOfComponent.values()].map((z) => [z, z]));

  const domains = new Map<string, PlannedDomain>();
  for (const resource of resources) {
    if (!isDnsResource(resource)) continue;
    const provider = resource.type === CLOUDFLARE_RECORD_TYPE ? "cloudflare" : "route53";
    for (const record of decodeDnsResource(resource)) {
      const zone =
        (resource.parent && zoneOfComponent.get(resource.parent)) ??
        enclosingZone(record.name, zones) ??
        record.name;
      let planned = domains.get(zone);
      if (!planned) domains.set(zone, (planned = { domain: zone, provider, records: [] }));
      else if (planned.provider !== provider) planned.provider = "mixed";
      planned.records.push({ ...record, resource: resource.name, value: rdataText(record), ...(record.type === "CAA" ? { caaValue: record.value } : {}) });
    }
  }
  const sorted = [...domains.values()].sort((a, b) => compareText(a.domain, b.domain));
  for (const d of sorted) d.records.sort(compareRecords);
  const dkimKeys = resources
    .filter((r) => r.type === DKIM_KEY_TYPE)
    .map((r) => ({
      domain: String(r.inputs.domain),
      selector: String(r.inputs.selector),
      algorithm: String(r.inputs.algorithm),
      bits: Number(r.inputs.bits),
      state: String(r.inputs.state),
      protected: r.protect,
    }))
    .sort((a, b) => compareText(a.domain, b.domain) || compareText(a.selector, b.selector));
  return {
    formatVersion: 1,
    project: meta.project,
    stack: meta.stack,
    resourceCount: resources.length,
    resourcesByType,
    domains: sorted,
    dkimKeys,
    mtaStsPolicies: stringMap(run.outputs.mtaStsPolicies),
    mtaStsServedBy: policyServers(resources),
    mailHosts: plannedMailHosts(resources, run.outputs.mailHosts),
    spfIncludeCosts: numberMap(run.outputs.spfIncludeCosts),
    warnings: run.warnings,
    policyViolations: [],
  };
}

/** Who serves each domain's MTA-STS policy, read from the resources that serve it. */
function policyServers(resources: readonly CapturedResource[]): Record<string, string> {
  const served: [string, string][] = [];
  for (const r of resources) {
    if (r.type === MTA_STS_POLICY_SERVED_TYPE) {
      const host = resources.find((h) => h.urn === r.parent);
      served.push([String(r.inputs.domain), `the mail host ${String(host?.inputs.hostname ?? "")}`]);
    }
    if (r.type === MTA_STS_POLICY_SITE_TYPE) for (const d of (r.outputs?.domains as string[] | undefined) ?? []) served.push([d, "CloudFront (S3, ACM in us-east-1)"]);
  }
  return Object.fromEntries(served.sort(([a], [b]) => compareText(a, b)));
}

/**
 * Each MailHost component and the children that make it, read from their
 * recorded inputs; the address and PTR (computed by AWS) from the program's
 * `mailHosts` output.
 */
function plannedMailHosts(resources: CapturedResource[], hostsOutput: unknown): PlannedMailHost[] {
  const addresses = (hostsOutput ?? {}) as Record<string, Record<string, unknown> | undefined>;
  return resources
    .filter((r) => r.type === MAIL_HOST_TYPE)
    .map((host) => {
      const child = (type: string) => resources.find((r) => r.parent === host.urn && r.type === type);
      const instance = child("aws:ec2/instance:Instance")?.inputs ?? {};
      const eip = child("aws:ec2/eip:Eip");
      const address = addresses[String(host.inputs.hostname)] ?? {};
      const group = child("aws:ec2/securityGroup:SecurityGroup")?.inputs ?? {};
      const metadata = (instance.metadataOptions ?? {}) as Record<string, unknown>;
      const root = (instance.rootBlockDevice ?? {}) as Record<string, unknown>;
      const ingress = ((group.ingress ?? []) as Record<string, unknown>[]).map((rule) => ({
        port: Number(rule.fromPort),
        protocol: String(rule.protocol),
        sources: [...((rule.cidrBlocks ?? []) as string[]), ...((rule.ipv6CidrBlocks ?? []) as string[])],
        description: String(rule.description ?? ""),
      }));
      return {
        hostname: String(host.inputs.hostname),
        publicIp: typeof address.publicIp === "string" ? address.publicIp : "",
        ptr: typeof address.ptr === "string" ? address.ptr : "",
        addressProtected: eip?.protect ?? false,
        instanceType: String(instance.instanceType ?? ""),
        ami: String(instance.ami ?? ""),
        imdsV2Required: metadata.httpTokens === "required",
        rootVolumeEncrypted: root.encrypted === true,
        ingress,
        mailboxes: ((host.inputs.mailboxes ?? []) as string[]).map(String),
        signingKeys: ((host.inputs.signingKeys ?? []) as string[]).map(String),
        senders: ((host.inputs.senders ?? []) as { login: unknown; allowed: unknown[] }[]).map((s) => ({ login: String(s.login), allowed: (s.allowed ?? []).map(String) })),
        userData: String(instance.userData ?? ""),
        config: typeof host.outputs?.configManifest === "string" ? host.outputs.configManifest : "",
        ...plannedWarmup(host.inputs.warmup),
        ...(typeof host.inputs.sendingSince === "string" ? { sendingSince: host.inputs.sendingSince } : {}),
        ...plannedMonitoring(resources, host.urn),
      };
    })
    .sort((a, b) => compareText(a.hostname, b.hostname));
}

const OPERATORS: Record<string, string> = { GreaterThanOrEqualToThreshold: ">=", GreaterThanThreshold: ">", LessThanThreshold: "<", LessThanOrEqualToThreshold: "<=" };

function seconds(period: unknown): string {
  const n = Number(period);
  return n % 3600 === 0 ? `${n / 3600} h` : n % 60 === 0 ? `${n / 60} min` : `${n} s`;
}

/** The alarms, topic subscriptions and dashboard under a host's monitoring component. */
function plannedMonitoring(resources: CapturedResource[], hostUrn: string): Pick<PlannedMailHost, "alarms" | "alarmEmails" | "dashboard"> {
  const monitoring = resources.filter((r) => r.parent === hostUrn && r.type === MAIL_HOST_MONITORING_TYPE).map((r) => r.urn);
  const under = (type: string) => resources.filter((r) => r.type === type && r.parent !== undefined && monitoring.includes(r.parent));
  const alarms = under("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => {
    const i = a.inputs;
    const queries = (i.metricQueries ?? []) as { expression?: string; label?: string; metric?: { period?: number } }[];
    const math = queries.find((q) => q.expression);
    const watched = math ? `${math.label ?? ""} [${math.expression}]`.trim() : `${String(i.statistic)} ${String(i.metricName)}`;
    const period = queries.length > 0 ? queries.find((q) => q.metric)?.metric?.period : i.period;
    return {
      name: String(i.name),
      severity: String(((i.tags ?? {}) as Record<string, unknown>)["postforge:severity"] ?? ""),
      condition: `${watched} ${OPERATORS[String(i.comparisonOperator)] ?? String(i.comparisonOperator)} ${String(i.threshold)} (${seconds(period)} x ${String(i.evaluationPeriods)}${i.treatMissingData === "breaching" ? ", no data fires" : ""})`,
      notifies: Array.isArray(i.alarmActions) && i.alarmActions.length > 0,
    };
  });
  const dashboard = under("aws:cloudwatch/dashboard:Dashboard")[0]?.inputs.dashboardName;
  return {
    alarms: alarms.sort((a, b) => compareText(a.name, b.name)),
    alarmEmails: under("aws:sns/topicSubscription:TopicSubscription").map((s) => String(s.inputs.endpoint)),
    ...(typeof dashboard === "string" ? { dashboard } : {}),
  };
}

/** A host's warm-up schedule (from its facts) with today's place in it. */
function plannedWarmup(value: unknown): { warmup?: PlannedWarmup } {
  if (!value || typeof value !== "object" || typeof (value as WarmupSchedule).startDate !== "string") return {};
  const schedule = value as WarmupSchedule;
  const date = todayUtc();
  return { warmup: { ...schedule, today: { date, ...warmupDayOn(schedule, date) } } };
}

function numberMap(value: unknown): Record<string, number> {
  if (!value || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => Number.isInteger(e[1])).sort(([a], [b]) => compareText(a, b)));
}

/** Only a plain map of strings is taken from program outputs (nothing else, so no secret can ride along). */
function stringMap(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string").sort(([a], [b]) => compareText(a, b)));
}
