import { REQUIRED_ALARMS } from "../../components/monitoring/alarms";
import { isUnknown, type StackResource } from "../model/resources";
import { INSTANCE, SECURITY_GROUP, type StackView } from "../model/view";
import { describePorts, groupsOf, ingressRules, mailHostOf, mxExchanges, opensTcpPort, subject, worldRanges, type Ingress } from "./host-support";
import type { Rule, Violation } from "./rule";
import { DEFAULT_RAMP_DAYS, daysBetween, todayUtc } from "../../components/sending/warmup";
import { isProductionStack, PRODUCTION_CONFIG, type ProductionConfig } from "./production";

/**
 * The instances that handle mail: each a mail host's, or attached to a
 * security group that lets SMTP (25) in from any source.
 */
function mailInstances(view: StackView): StackResource[] {
  const smtpGroups = new Set(
    ingressRules(view)
      .filter((i) => opensTcpPort(i, 25))
      .map((i) => i.group?.urn)
      .filter((urn): urn is string => urn !== undefined),
  );
  return view.ofType(INSTANCE).filter((i) => mailHostOf(view, i) !== undefined || groupsOf(view, i).some((g) => smtpGroups.has(g.urn)));
}

/** A nested prop (`metadataOptions.httpTokens`): the value, or UNKNOWN when it or an enclosing object is unknown. */
function nested(resource: StackResource, path: string[]): unknown {
  let value: unknown = resource.props;
  for (const key of path) {
    if (isUnknown(value)) return value;
    if (!value || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export const hostImdsv2: Rule = {
  name: "host-imdsv2",
  group: "Host hardening",
  profile: "baseline",
  description: "Every mail instance (a mail host's, or one that accepts SMTP) requires IMDSv2 session tokens (metadataOptions.httpTokens: required).",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "AWS EC2 User Guide, \"Use IMDSv2\"; CIS AWS Foundations Benchmark 5.6",
  check(view) {
    const violations: Violation[] = [];
    for (const instance of mailInstances(view)) {
      const tokens = nested(instance, ["metadataOptions", "httpTokens"]);
      if (tokens === "required" || isUnknown(tokens)) continue;
      violations.push({
        message: `${subject(view, instance, "instance")} allows IMDSv1 (metadataOptions.httpTokens is ${tokens === undefined ? "unset, so optional" : `"${String(tokens)}"`}); a server-side request forgery on a mail host can then read its role's credentials, and with them its DKIM private keys; set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }`,
        urn: instance.urn,
      });
    }
    return violations;
  },
};

export const hostRootEncrypted: Rule = {
  name: "host-root-encrypted",
  group: "Host hardening",
  profile: "baseline",
  description: "Every mail instance's root volume, which holds the mail queue, mailboxes and DKIM keys, is encrypted.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "AWS EC2 User Guide, \"Amazon EBS encryption\"; CIS AWS Foundations Benchmark 2.2.1",
  check(view) {
    const violations: Violation[] = [];
    for (const instance of mailInstances(view)) {
      const encrypted = nested(instance, ["rootBlockDevice", "encrypted"]);
      if (encrypted === true || isUnknown(encrypted)) continue;
      violations.push({
        message: `${subject(view, instance, "instance")} has an unencrypted root volume (rootBlockDevice.encrypted is ${encrypted === undefined ? "unset" : String(encrypted)}); it holds the mail queue, the mailboxes and the DKIM private keys fetched at boot, and its snapshots would too; set rootBlockDevice: { encrypted: true } (this replaces the instance)`,
        urn: instance.urn,
      });
    }
    return violations;
  },
};

/** `mail.example.com: security group mail.example.com-sg ingress[4]`, or a standalone rule with its group; the host is the group's. */
function ruleLabel(view: StackView, ingress: Ingress): string {
  const host = mailHostOf(view, ingress.group ?? ingress.resource);
  const what =
    ingress.resource.type === SECURITY_GROUP
      ? `security group ${ingress.resource.name} ${ingress.label}`
      : `security group rule ${ingress.resource.name}${ingress.group ? ` (group ${ingress.group.name})` : ""}`;
  return host ? `${host.hostname}: ${what}` : what;
}

export const hostNoWorldSsh: Rule = {
  name: "host-no-world-ssh",
  group: "Host hardening",
  profile: "baseline",
  description: "No security group opens SSH (port 22) to the whole internet (0.0.0.0/0 or ::/0).",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "CIS AWS Foundations Benchmark 5.2 and 5.3; MailHost sshCidrs",
  check(view) {
    const violations: Violation[] = [];
    for (const ingress of ingressRules(view)) {
      const world = worldRanges(ingress);
      if (world.length === 0 || !opensTcpPort(ingress, 22)) continue;
      violations.push({
        message: `${ruleLabel(view, ingress)} opens SSH (port 22, ${describePorts(ingress)}) to ${world.join(" and ")}; SSH open to the internet is brute-forced within minutes of boot; list your admin networks instead (MailHost sshCidrs) or use SSM Session Manager, which the mail host's role allows`,
        urn: ingress.resource.urn,
      });
    }
    return violations;
  },
};

export const hostPort25Receivers: Rule = {
  name: "host-port25-receivers",
  group: "Host hardening",
  profile: "baseline",
  description: "Only the security group of a mail host that receives mail (the MX of a domain in the stack) opens SMTP (port 25) to the internet.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 5321 §5.1 (mail arrives at the MX); M3AAWG guidance on open relays and exposed MTAs",
  check(view) {
    const violations: Violation[] = [];
    const mx = mxExchanges(view);
    for (const ingress of ingressRules(view)) {
      const world = worldRanges(ingress);
      if (world.length === 0 || !opensTcpPort(ingress, 25)) continue;
      const host = ingress.group ? mailHostOf(view, ingress.group) : undefined;
      if (host && mx.byHost.has(host.hostname)) continue;
      if (host && mx.unknown) continue; // an MX unknown at preview may name it
      if (host && host.domains.some((d) => !view.manages(d))) continue; // its MX may be published by the stack that owns that zone
      const why = host
        ? `mail host ${host.hostname} is the MX of no domain in this stack, so nothing should deliver to it`
        : `it belongs to no mail host of the stack that receives mail`;
      const fix = host
        ? `publish MX <domain> → ${host.hostname} for the domains it receives for, or remove the inbound port 25 rule`
        : `remove the inbound port 25 rule, or receive mail with a Postforge MailHost that is a domain's MX`;
      violations.push({
        message: `${ruleLabel(view, ingress)} opens SMTP (port 25, ${describePorts(ingress)}) to ${world.join(" and ")}, but ${why}; an MTA listening to the internet that is no MX only draws relay probes and spam; ${fix}`,
        urn: (ingress.group ?? ingress.resource).urn,
      });
    }
    return violations;
  },
};

export const hostWarmup: Rule<ProductionConfig> = {
  name: "host-warmup",
  group: "Sending reputation",
  profile: "baseline",
  description: `In a production stack every mail host whose address has sent for less than ${DEFAULT_RAMP_DAYS} days (mailHost.sendingSince; without it, the address is new) declares a warm-up schedule (mailHost.warmup).`,
  enforcementLevel: "mandatory",
  severity: "high",
  source:
    "Amazon SES Developer Guide, \"Warming up dedicated IP addresses\" (45 days to 50,000 messages a day); Twilio SendGrid, \"Warming up an IP address\" (automated hourly schedule); Google, \"Email sender guidelines\"",
  config: PRODUCTION_CONFIG,
  check(view, config) {
    if (!isProductionStack(view, config)) return [];
    const today = todayUtc();
    const violations: Violation[] = [];
    for (const host of view.mailHosts) {
      if (host.warmup) continue;
      const age = host.sendingSince === undefined ? undefined : daysBetween(host.sendingSince, today);
      if (age !== undefined && age >= DEFAULT_RAMP_DAYS) continue;
      const since = age === undefined ? "its address is new (no mailHost.sendingSince)" : `its address has sent only since ${host.sendingSince} (${age} days)`;
      violations.push({
        message: `mail host ${host.hostname} has no warm-up schedule, and ${since}: at full speed from the first day, mail from a cold address is deferred, refused or filed as spam by Gmail, Microsoft and Yahoo; add mailHost.warmup: { startDate: "${today}" } (${DEFAULT_RAMP_DAYS} days to 50,000 messages a day per receiver group), or, for an address that has sent for ${DEFAULT_RAMP_DAYS} days or more, mailHost.sendingSince: "YYYY-MM-DD"`,
        urn: host.resource.urn,
      });
    }
    return violations;
  },
};

const SUPPRESSION_TABLE_TYPE = "aws:dynamodb/table:Table";

export const hostSuppressionListKept: Rule = {
  name: "host-suppression-list-kept",
  group: "Sending reputation",
  profile: "baseline",
  description:
    "Every mail host's suppression list has its durable copy (a DynamoDB table of the host's): protected from a replace or destroy, with deletion protection and point-in-time recovery, so a replacement host refuses what its predecessor refused.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "Gmail and Yahoo bulk-sender requirements (2024: honour unsubscribes, keep complaints under 0.3%); Amazon SES account-level suppression list; RFC 8058",
  check(view) {
    const violations: Violation[] = [];
    for (const host of view.mailHosts) {
      const tables = host.children.filter((c) => c.type === SUPPRESSION_TABLE_TYPE);
      if (tables.length === 0) {
        violations.push({
          message: `mail host ${host.hostname} has no suppression-list table: its list lives only on the instance's disk, so a replacement host mails every address that bounced, complained or unsubscribed again; upgrade Postforge (MailHost creates the table) rather than removing it`,
          urn: host.resource.urn,
        });
        continue;
      }
      for (const table of tables) {
        const missing = [
          ...(table.protect ? [] : ["protect: true (Pulumi; MailHost sets it)"]),
          ...(table.props.deletionProtectionEnabled === true ? [] : ["deletionProtectionEnabled: true (AWS refuses a delete)"]),
          ...((table.props.pointInTimeRecovery as { enabled?: unknown } | undefined)?.enabled === true ? [] : ["pointInTimeRecovery: { enabled: true } (restore to any second of 35 days)"]),
        ];
        if (missing.length === 0) continue;
        violations.push({
          message: `mail host ${host.hostname}: suppression-list table ${table.name} lacks ${missing.join(", ")}; the list cannot be recreated (every hard bounce, complaint and unsubscribe since the host started), and losing it mails those addresses again, which is what gets a sender blocked; set ${missing.map((m) => m.split(" (")[0]).join(" and ")} on it`,
          urn: table.urn,
        });
      }
    }
    return violations;
  },
};

const METRIC_ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC_SUBSCRIPTION_TYPE = "aws:sns/topicSubscription:TopicSubscription";

export const hostAlarms: Rule<ProductionConfig> = {
  name: "host-alarms",
  group: "Sending reputation",
  profile: "baseline",
  description: `In a production stack every mail host has its alarms (${REQUIRED_ALARMS.join(", ")}), each notifying a topic, and someone subscribed to them (mailHost.alarmEmails).`,
  enforcementLevel: "mandatory",
  severity: "high",
  source:
    "Amazon SES reputation dashboard (bounce rate review at 5%, pause at 10%; complaints at 0.1%); Gmail and Yahoo bulk-sender rules (2024: spam rate under 0.1%, never 0.3%); RFC 8461 (certificates); AWS EC2 status checks",
  config: PRODUCTION_CONFIG,
  check(view, config) {
    if (!isProductionStack(view, config)) return [];
    const violations: Violation[] = [];
    for (const host of view.mailHosts) {
      const mine = (type: string) => view.ofType(type).filter((r) => mailHostOf(view, r)?.resource.urn === host.resource.urn);
      const alarms = mine(METRIC_ALARM_TYPE);
      const byId = (id: string) => alarms.find((a) => typeof a.props.name === "string" && a.props.name.endsWith(`-${id}`));
      const missing = REQUIRED_ALARMS.filter((id) => !byId(id));
      if (missing.length > 0) {
        violations.push({
          message: `mail host ${host.hostname} lacks the alarms ${missing.join(", ")}: a bounce or complaint rate that climbs, a stuck queue or a blocklist listing goes unseen until a provider blocks the address; upgrade Postforge (MailHost creates them) rather than removing them`,
          urn: host.resource.urn,
        });
      }
      const silent = REQUIRED_ALARMS.map(byId).filter((a): a is NonNullable<typeof a> => a !== undefined && !(Array.isArray(a.props.alarmActions) && a.props.alarmActions.length > 0));
      for (const alarm of silent) {
        violations.push({ message: `mail host ${host.hostname}: alarm ${alarm.name} notifies nobody (no alarmActions); give it the host's alarm topic`, urn: alarm.urn });
      }
      if (mine(TOPIC_SUBSCRIPTION_TYPE).length === 0) {
        violations.push({
          message: `mail host ${host.hostname}: nobody is subscribed to its alarms, so they fire unseen; set mailHost.alarmEmails: [ops@example.com] (each address confirms AWS's message once), or subscribe an endpoint to the host's alarm topic (MailHost.alarmTopicArn)`,
          urn: host.resource.urn,
        });
      }
    }
    return violations;
  },
};

export const HOST_RULES = [hostImdsv2, hostRootEncrypted, hostNoWorldSsh, hostPort25Receivers, hostWarmup, hostSuppressionListKept, hostAlarms];
