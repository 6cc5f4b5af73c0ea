import { REQUIRED_ALARMS } from "../monitoring/alarms";
import { desiredRecordsForStack, dnsBackendFromConfig, hostAddressPlaceholder, mailHostPlanFor, type MailHostPlan, type StackRecords } from "../config";
import { HOST_ADDRESS_PLACEHOLDER, policyHostRecord } from "../config/desired-records";
import { stackConfigSchema, type StackConfig, type StackConfigInput } from "../config/schema";
import { dkimPlaceholderRecord } from "../dkim/records";
import type { DnsBackend, PreparedRecords } from "../dns/backend";
import { prepareOrThrow } from "../dns/mail-domain";
import { roleMailboxes } from "../mta-host/config";
import { mailHostPreflightProblems } from "../mta-host/mail-host";
import { parseOrThrow, ValidationError } from "../validation";
import { stackSizeProblem } from "./size-limit";

/**
 * Everything MailStack builds, decided before the first resource exists:
 * the validated config, every zone's records, the mail host's plan and each
 * zone's provider backend, with every zone checked to encode for its
 * provider. Pure apart from constructing the backends (no resource), so a
 * problem in the last zone cannot leave the first ones half-applied.
 */
export interface MailStackPlan {
  /** The validated config, defaults filled in. */
  config: StackConfig;
  /** Every zone's records and managed DKIM keys, with the warnings. */
  desired: StackRecords;
  /** The mail host's plan, when the config has a mail host. */
  mailHost: MailHostPlan | undefined;
  /** Each zone's backend, in `desired.domains` order. */
  backends: DnsBackend[];
  /**
   * Each zone's records encoded for its provider, in `desired.domains` order;
   * undefined for a zone that also publishes records made at deploy (managed
   * DKIM keys, the host's address), which were encoded with placeholders here.
   */
  prepared: (PreparedRecords | undefined)[];
  /** About how many resources MailStack will register (held against the size limit, ./size-limit.ts). */
  resourceEstimate: number;
}

/**
 * The MailStackPlan of a stack config: validates it, derives every zone's
 * records and the mail host's plan, and checks each zone encodes for its
 * provider. Throws a ValidationError on any problem; creates no resource.
 */
export function planMailStack(input: StackConfigInput, o: { stack: string; awsRegion: string | undefined }): MailStackPlan {
  const subject = `stack "${o.stack}" config`;
  const config = parseOrThrow(stackConfigSchema, input, subject);
  const desired = desiredRecordsForStack(config, subject);
  const mailHost = mailHostPlanFor(config, desired, o.awsRegion, subject);
  // Managed keys live in Secrets Manager: without a region their secrets cannot be created.
  if (!o.awsRegion && desired.domains.some((d) => d.dkimKeys.length > 0)) {
    const first = config.domains.findIndex((d) => d.dkim.keys.length > 0);
    throw new ValidationError(subject, [
      `aws:region = nothing: domains[${first}].dkim.keys are generated into Secrets Manager, which needs a region, whatever the DNS provider; set it with \`pulumi config set aws:region eu-west-1\``,
    ]);
  }
  // The mail host's own checks (SSH, manifest size) too, before the KMS key and the keys exist.
  // The CloudFront site's bucket is in the stack's region (its certificates in us-east-1).
  if (!o.awsRegion && desired.domains.some((d) => d.mtaStsServedBy === "cloudfront")) {
    const first = config.domains.findIndex((d) => d.mtaSts?.serve === "cloudfront");
    throw new ValidationError(subject, [
      `aws:region = nothing: domains[${first}].mtaSts.serve = "cloudfront" keeps the policy in an S3 bucket, which needs a region; set it with \`pulumi config set aws:region eu-west-1\``,
    ]);
  }
  if (mailHost && config.mailHost) {
    const problems = mailHostPreflightProblems(
      mailHost.config,
      { sshCidrs: config.mailHost.sshCidrs, allowSshFromAnywhere: config.mailHost.allowSshFromAnywhere },
      { sshCidrs: "mailHost.sshCidrs", allowSshFromAnywhere: "mailHost.allowSshFromAnywhere", domains: "mailHost.domains" },
    );
    if (problems.length > 0) throw new ValidationError(subject, problems);
  }
  // The record rules already ran over the whole stack (desiredRecordsForStack); what is left to know is
  // whether every zone encodes for its provider (names, TTL ranges). Managed DKIM keys take part
  // through a placeholder of their record, the host's A record through one of its own.
  const backends = desired.domains.map((zone) => dnsBackendFromConfig(zone.backend));
  const preparedCounts: number[] = [];
  const prepared = desired.domains.map((zone, i) => {
    const policyHost = policyHostRecord(zone, HOST_ADDRESS_PLACEHOLDER);
    const madeAtDeploy = zone.dkimKeys.length > 0 || zone.hostAddress !== undefined || policyHost !== undefined;
    const records = prepareOrThrow(zone.domain, backends[i], [
      ...zone.records,
      ...zone.dkimKeys.map((k) => dkimPlaceholderRecord(zone.domain, k.selector, k.algorithm, zone.ttl)),
      ...(zone.hostAddress ? [hostAddressPlaceholder(zone.hostAddress.name, zone.hostAddress.ttl)] : []),
      // mta-sts.<domain> at the host's Elastic IP.
      ...(policyHost ? [policyHost] : []),
    ]);
    preparedCounts.push(records.names.length);
    return madeAtDeploy ? undefined : records;
  });
  // Past what one Pulumi program can hold, refuse now, not by V8's out-of-memory abort mid-run.
  const resourceEstimate = estimatedResourceCount(desired, preparedCounts, mailHost, config.mailHost?.alarmEmails.length ?? 0);
  const sizeProblem = stackSizeProblem(resourceEstimate, desired.domains.length);
  if (sizeProblem) throw new ValidationError(subject, [sizeProblem]);
  return { config, desired, mailHost, backends, prepared, resourceEstimate };
}

/**
 * About how many resources the stack registers: its DNS records, a MailDomain
 * per zone, a DkimKeyring per zone with keys and three resources per key (the
 * key, its secret and version), the mail host's (about 24 of its own, and a
 * password and a salt per role mailbox and per submission login; its
 * monitoring: the component, the topic, a subscription per alarm address,
 * the alarms and the dashboard), the MTA-STS policies' serving, and the stack's own few.
 */
function estimatedResourceCount(desired: StackRecords, dnsRecordsPerZone: number[], mailHost: MailHostPlan | undefined, alarmEmails: number): number {
  const dns = dnsRecordsPerZone.reduce((n, c) => n + c, 0);
  const keys = desired.domains.reduce((n, d) => n + d.dkimKeys.length, 0);
  const keyrings = desired.domains.filter((d) => d.dkimKeys.length > 0).length;
  const host = mailHost ? 23 + 2 * (roleMailboxes(mailHost.config).length + mailHost.config.senders.length) + 3 + REQUIRED_ALARMS.length + alarmEmails : 0;
  // The wait for each policy the host serves (its mta-sts address record is among the zone's records above).
  const hostPolicies = desired.domains.filter((d) => d.mtaStsServedBy === "mail-host").length;
  // The MTA-STS site: its component, bucket, bucket privacy, origin access and bucket policy; per domain
  // the object, certificate, validation record, validation, distribution and CNAME.
  const sited = desired.domains.filter((d) => d.mtaStsServedBy === "cloudfront").length;
  const site = sited > 0 ? 5 + 6 * sited : 0;
  return dns + desired.domains.length + keyrings + 3 * keys + host + hostPolicies + site + 4;
}
