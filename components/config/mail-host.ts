import { dkimSecretName } from "../dkim/keyring";
import { parseMailHostConfig, type MailHostConfig } from "../mta-host/config";
import { ValidationError } from "../validation";
import type { StackRecords } from "./desired-records";
import type { StackConfig } from "./schema";

/**
 * From the stack's `postforge:mailHost` to what MailHost is built from. Pure:
 * the stack program adds only the resources (key secrets, KMS key, zone).
 */
export interface MailHostPlan {
  /** The host's boot configuration (rendered into user-data). */
  config: MailHostConfig;
  /** The zone that publishes the host's A record. */
  zone: string;
  /** The keys the host signs with, by domain: the role may read exactly their secrets. */
  signingKeys: { domain: string; selector: string }[];
  /** With the host's zone on Route53: where certbot writes the DNS-01 challenge. */
  route53HostedZoneIds: string[];
}

/** Default Secrets Manager name of the host's Dovecot passwd-file. */
export function mailboxPasswordsSecretName(hostname: string): string {
  return `postforge/mail-host/${hostname}/passwd`;
}

/** Default Secrets Manager name of the host's submission logins' passwd-file. */
export function senderPasswordsSecretName(hostname: string): string {
  return `postforge/mail-host/${hostname}/senders`;
}

/**
 * Build the MailHost plan, or throw naming the config key to fix. `awsRegion`
 * is the stack's `aws:region`, where the host's secrets live.
 */
export function mailHostPlanFor(config: StackConfig, desired: StackRecords, awsRegion: string | undefined, subject: string): MailHostPlan | undefined {
  const host = config.mailHost;
  const placement = desired.mailHost;
  if (!host || !placement) return undefined;
  if (!awsRegion) {
    throw new ValidationError(subject, ["aws:region = nothing: the mail host's instance and secrets need a region; set it with `pulumi config set aws:region eu-west-1`"]);
  }
  const zone = config.domains.find((d) => d.name === placement.zone)!;
  const domains = placement.domains.map((name) => {
    const zoneRecords = desired.domains.find((d) => d.domain === name)!;
    const keys = zoneRecords.dkimKeys.filter((k) => k.state === "active");
    return {
      domain: name,
      ...(zoneRecords.mtaStsServedBy === "mail-host" ? { mtaStsPolicy: zoneRecords.mtaStsPolicy! } : {}),
      selectors: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, secretName: dkimSecretName(name, k.selector) })),
      roles: host.roles,
      // Subdomain mail is signed with the domain's key only where that can align (adkim defaults to r).
      strictDkimAlignment: config.domains.find((d) => d.name === name)?.dmarc.adkim === "s",
    };
  });
  const dnsChallenge =
    zone.dns.provider === "route53"
      ? ({ provider: "route53" } as const)
      : ({ provider: "cloudflare", apiTokenSecretName: host.tls.cloudflareApiTokenSecretName! } as const);
  // The host's certificates name it and each mta-sts.<domain> it serves, and certbot answers every
  // DNS-01 challenge through the host zone's provider: those zones must be there too.
  const policyZones = domains.filter((d) => d.mtaStsPolicy !== undefined).map((d) => config.domains.find((z) => z.name === d.domain)!);
  const elsewhere = policyZones.filter((z) => z.dns.provider !== zone.dns.provider);
  if (elsewhere.length > 0) {
    throw new ValidationError(
      subject,
      elsewhere.map(
        (z) =>
          `domains[${config.domains.indexOf(z)}].mtaSts.serve = "mail-host": ${z.name} is on ${z.dns.provider} and the host's zone ${zone.name} on ${zone.dns.provider}; certbot answers the host's certificates' DNS-01 challenges through one DNS provider, so serve this policy with "cloudfront" or "elsewhere", or move the zone`,
      ),
    );
  }
  const mailHostConfig = parseMailHostConfig(
    {
      hostname: host.hostname,
      domains,
      submissionClients: host.submissionClients,
      adminClients: host.adminClients,
      messageSizeLimit: host.messageSizeLimit,
      rateLimits: host.rateLimits,
      queue: host.queue,
      senders: host.senders,
      rolesMaySend: host.rolesMaySend,
      awsRegion,
      mailboxPasswordsSecretName: host.mailboxPasswordsSecretName ?? mailboxPasswordsSecretName(host.hostname),
      senderPasswordsSecretName: host.senderPasswordsSecretName ?? senderPasswordsSecretName(host.hostname),
      tls: { acmeEmail: host.tls.acmeEmail, dnsChallenge, staging: host.tls.staging, selfSignedDays: host.tls.selfSignedDays },
      ...(host.warmup ? { warmup: host.warmup } : {}),
      ...(host.sendingSince ? { sendingSince: host.sendingSince } : {}),
    },
    `${subject} mailHost`,
  );
  return {
    config: mailHostConfig,
    zone: placement.zone,
    signingKeys: domains.flatMap((d) => d.selectors.map((s) => ({ domain: d.domain, selector: s.selector }))),
    route53HostedZoneIds:
      zone.dns.provider === "route53" ? [...new Set([zone, ...policyZones].map((z) => (z.dns as { hostedZoneId: string }).hostedZoneId))] : [],
  };
}
