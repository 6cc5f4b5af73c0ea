/**
 * The Postforge stack program: read and validate the stack config, derive
 * every zone's email-authentication records, generate and store the DKIM keys
 * Postforge manages, and publish each zone through a MailDomain. Validation
 * happens in full before the first resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import { Alias, Key } from "@pulumi/aws/kms";
import { desiredRecordsForStack, dnsBackendFromConfig, hostAddressPlaceholder, mailHostPlanFor, readStackConfig } from "./components/config";
import { DkimKeyring } from "./components/dkim/keyring";
import { dkimPlaceholderRecord } from "./components/dkim/records";
import { MailDomain, prepareOrThrow } from "./components/dns/mail-domain";
import { MailHost } from "./components/mta-host/mail-host";
import { StackSettings } from "./components/config/stack-settings";

const stack = pulumi.getStack();
const config = readStackConfig(stack);
const desired = desiredRecordsForStack(config, `stack "${stack}" config`);
for (const warning of desired.warnings) pulumi.log.warn(warning);
const mailHostPlan = mailHostPlanFor(config, desired, new pulumi.Config("aws").get("region"), `stack "${stack}" config`);

// The record rules already ran over the whole stack (desiredRecordsForStack);
// what is left to know before the first resource exists is whether every zone
// encodes for its provider (names, TTL ranges). So a problem in the last zone
// cannot leave the first ones half-applied. Managed DKIM keys take part through
// a placeholder of their record.
const backends = desired.domains.map((zone) => dnsBackendFromConfig(zone.backend));
desired.domains.forEach((zone, i) =>
  prepareOrThrow(zone.domain, backends[i], [
    ...zone.records,
    ...zone.dkimKeys.map((k) => dkimPlaceholderRecord(zone.domain, k.selector, k.algorithm, zone.ttl)),
    ...(zone.hostAddress ? [hostAddressPlaceholder(zone.hostAddress.name, zone.hostAddress.ttl)] : []),
  ]),
);

// One KMS key encrypts every DKIM private key in Secrets Manager, unless the stack names its own.
// Protected: deleting it would make every stored key unreadable.
const needsKeys = desired.domains.some((d) => d.dkimKeys.length > 0);
const dkimKmsKeyArn: pulumi.Input<string> | undefined =
  config.dkim.kmsKeyArn ??
  (needsKeys ? createDkimKmsKey() : undefined);

function createDkimKmsKey(): pulumi.Output<string> {
  const key = new Key(
    "postforge-dkim",
    { description: `Encrypts Postforge DKIM private keys (stack ${stack})`, enableKeyRotation: true, deletionWindowInDays: 30 },
    { protect: config.dkim.protectActiveKeys },
  );
  new Alias("postforge-dkim-alias", { name: `alias/postforge-dkim-${stack}`, targetKeyId: key.keyId });
  return key.arn;
}

const keyrings = desired.domains.map((zone) =>
  zone.dkimKeys.length > 0
    ? new DkimKeyring(zone.domain, {
        domain: zone.domain,
        keys: zone.dkimKeys.map(({ selector, algorithm, bits, allowLegacy1024, state }) => ({ selector, algorithm, bits, allowLegacy1024, state })),
        kmsKeyId: dkimKmsKeyArn!,
        ttl: zone.ttl,
        overlapSeconds: config.dkim.overlapDays * 86400,
        protectActiveKeys: config.dkim.protectActiveKeys,
      })
    : undefined,
);

// The mail host's reverse DNS waits for its A record, which the MailDomain of
// its zone publishes, and that MailDomain needs the host's Elastic IP: so the
// host gets a promise of the MailDomain, resolved once it exists.
let resolveForwardRecord: ((record: pulumi.Resource) => void) | undefined;
const mailHost = mailHostPlan && createMailHost(mailHostPlan);

function createMailHost(plan: NonNullable<typeof mailHostPlan>): MailHost {
  const keyringOf = (domain: string) => keyrings[desired.domains.findIndex((d) => d.domain === domain)]!;
  const host = config.mailHost!;
  return new MailHost(plan.config.hostname, {
    config: plan.config,
    dkimSecretArns: plan.signingKeys.map((k) => keyringOf(k.domain).secretArns[k.selector]),
    kmsKeyArn: dkimKmsKeyArn!,
    ...(plan.route53HostedZoneIds.length > 0 ? { route53HostedZoneIds: plan.route53HostedZoneIds } : {}),
    vpcId: host.vpcId,
    subnetId: host.subnetId,
    instanceType: host.instanceType,
    ...(host.amiId ? { amiId: host.amiId } : {}),
    rootVolumeGiB: host.rootVolumeGiB,
    sshCidrs: host.sshCidrs,
    allowSshFromAnywhere: host.allowSshFromAnywhere,
    addressTtl: desired.domains.find((d) => d.domain === plan.zone)!.ttl,
    protectAddress: true,
    forwardRecord: new Promise<pulumi.Resource>((resolve) => (resolveForwardRecord = resolve)),
    tags: { "postforge:stack": stack },
  });
}

const mailDomains = desired.domains.map((zone, i) => {
  const domain = new MailDomain(zone.domain, {
    domain: zone.domain,
    records: [...zone.records, ...(keyrings[i]?.records ?? []), ...(zone.hostAddress && mailHost ? mailHost.addressRecords : [])],
    backend: backends[i],
    ...(zone.mtaStsPolicy ? { mtaStsPolicy: zone.mtaStsPolicy } : {}),
  });
  if (zone.hostAddress) resolveForwardRecord?.(domain);
  return domain;
});

/** The zones this stack publishes, and how many records each holds. */
export const domains = Object.fromEntries(
  mailDomains.map((d, i) => [d.domain, desired.domains[i].records.length + desired.domains[i].dkimKeys.length + (desired.domains[i].hostAddress ? 1 : 0)]),
);

/** The mail host by name (HELO, PTR and A name): its Elastic IP and the PTR EC2 publishes. */
export const mailHosts = mailHost ? pulumi.output({ [mailHost.hostname]: { publicIp: mailHost.publicIp, ptr: mailHost.ptr } }) : {};

/** Role mailbox passwords (IMAPS and SASL logins), by address. A secret: `pulumi stack output --show-secrets mailboxPasswords`. */
export const mailboxPasswords = mailHost ? mailHost.mailboxPasswords : {};

/** Submission logins' passwords (587/465), by login. A secret: `pulumi stack output --show-secrets senderPasswords`. */
export const senderPasswords = mailHost ? mailHost.senderPasswords : {};

/** Declared worst-case DNS-lookup costs of SPF includes, so `postforge diff` counts them as the builder did. */
export const spfIncludeCosts: Record<string, number> = Object.fromEntries(
  config.domains.flatMap((d) => d.spf.includes.filter((i) => i.lookups !== undefined).map((i) => [i.domain, i.lookups!])),
);

// What the policy pack needs to know about the stack as a whole (see components/config/stack-settings.ts).
new StackSettings("postforge-settings", { environment: config.environment, dmarcMode: config.dmarcMode, spfIncludeCosts });

/** MTA-STS policy files to serve at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export const mtaStsPolicies = Object.fromEntries(desired.domains.filter((d) => d.mtaStsPolicy).map((d) => [d.domain, d.mtaStsPolicy!]));
