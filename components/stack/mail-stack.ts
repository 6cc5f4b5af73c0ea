import * as pulumi from "@pulumi/pulumi";
import { Alias, Key } from "@pulumi/aws/kms";
import type { StackConfigInput } from "../config/schema";
import { StackSettings } from "../config/stack-settings";
import { DkimKeyring } from "../dkim/keyring";
import { MailDomain, vouchForMailDomainArgs } from "../dns/mail-domain";
import { policyHostRecord } from "../config/desired-records";
import { MailHost } from "../mta-host/mail-host";
import { MtaStsPolicySite } from "../mta-sts/policy-site";
import { MAIL_STACK_TYPE } from "../type-tokens";
import { planMailStack } from "./plan";

export { MAIL_STACK_TYPE };

/** The arguments of a MailStack: the stack's config, and the stack name and region it is built for. */
export interface MailStackArgs {
  /**
   * The stack's email setup, as a stack file holds it: the `postforge:*`
   * keys without their prefix (`{ environment, dmarcMode, defaultTtl,
   * domains, parkedDomains, dkim, mailHost }`), the input type of
   * `stackConfigSchema`. Plain, not `pulumi.Input`: it is validated as a whole
   * before anything is created, and every record is derived from it at plan
   * time. It holds no secret (secrets are referenced by Secrets Manager name).
   */
  config: StackConfigInput;
  /** The stack's name: it names the DKIM KMS key's alias (`alias/postforge-dkim-<stack>`) and the tags. Default: `pulumi.getStack()`. */
  stackName?: string;
  /** The region of the mail host and its secrets. Default: the `aws:region` config of the stack. Required when the config has a `mailHost`. */
  awsRegion?: string;
}

/**
 * Everything a Postforge stack builds from its config: every zone's
 * email-authentication records (one `MailDomain` per zone), the DKIM keys
 * Postforge manages (a `DkimKeyring` per zone, under one protected KMS key
 * unless the config names its own), the stack's mail host with its reverse
 * DNS set after its A record, and the `StackSettings` the policy pack reads.
 * The whole config is validated before the first resource is registered.
 *
 * Stacks that ran Postforge before this component existed upgrade without a
 * replacement: each child keeps its name and carries an alias for its old
 * place at the top of the stack (children of children inherit it).
 */
export class MailStack extends pulumi.ComponentResource {
  /** The zones this stack publishes, and how many records each holds. */
  readonly domains: Record<string, number>;
  /** The mail host by name (HELO, PTR and A name): its Elastic IP and the PTR EC2 publishes. */
  readonly mailHosts: pulumi.Output<Record<string, { publicIp: string; ptr: string }>> | Record<string, never>;
  /** Role mailbox passwords by address; a secret. Empty without a mail host. */
  readonly mailboxPasswords: pulumi.Output<Record<string, string>> | Record<string, never>;
  /** Submission logins' passwords by login; a secret. Empty without a mail host. */
  readonly senderPasswords: pulumi.Output<Record<string, string>> | Record<string, never>;
  /** The key of the mail host's one-click unsubscribe URLs, by host name (components/sending/one-click.ts); a secret. Empty without a mail host. */
  readonly unsubscribeKeys: pulumi.Output<Record<string, string>> | Record<string, never>;
  /** Declared worst-case DNS-lookup costs of SPF includes, so `postforge diff` counts them as the builder did. */
  readonly spfIncludeCosts: Record<string, number>;
  /** MTA-STS policy files to serve at https://mta-sts.<domain>/.well-known/mta-sts.txt, by domain. */
  readonly mtaStsPolicies: Record<string, string>;
  /** The stack's mail host, if the config has one. */
  readonly mailHost: MailHost | undefined;
  /** One MailDomain per zone, in the config's order. */
  readonly mailDomains: MailDomain[];
  /** The MTA-STS policy site on AWS, when a domain has `mtaSts.serve: cloudfront`. */
  readonly mtaStsPolicySite: MtaStsPolicySite | undefined;

  constructor(name: string, args: MailStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const stack = args.stackName ?? pulumi.getStack();
    // Validate everything before super(): a bad config registers nothing at all.
    const plan = planMailStack(args.config, { stack, awsRegion: args.awsRegion ?? new pulumi.Config("aws").get("region") });
    super(MAIL_STACK_TYPE, name, {}, opts);
    const { config, desired } = plan;
    for (const warning of desired.warnings) pulumi.log.warn(warning);

    // Before this component, these were the stack's own top-level resources: alias each to its old place.
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ ...extra, parent: this, aliases: [{ parent: pulumi.rootStackResource }] });

    // One KMS key encrypts every DKIM private key in Secrets Manager, unless the stack names its own.
    // Protected: deleting it would make every stored key unreadable.
    const needsKeys = desired.domains.some((d) => d.dkimKeys.length > 0);
    let dkimKmsKeyArn: pulumi.Input<string> | undefined = config.dkim.kmsKeyArn;
    if (!dkimKmsKeyArn && needsKeys) {
      const key = new Key(
        "postforge-dkim",
        { description: `Encrypts Postforge DKIM private keys (stack ${stack})`, enableKeyRotation: true, deletionWindowInDays: 30 },
        child({ protect: config.dkim.protectActiveKeys }),
      );
      new Alias("postforge-dkim-alias", { name: `alias/postforge-dkim-${stack}`, targetKeyId: key.keyId }, child());
      dkimKmsKeyArn = key.arn;
    }

    const keyrings = desired.domains.map((zone) =>
      zone.dkimKeys.length > 0
        ? new DkimKeyring(
            zone.domain,
            {
              domain: zone.domain,
              keys: zone.dkimKeys.map(({ selector, algorithm, bits, allowLegacy1024, state }) => ({ selector, algorithm, bits, allowLegacy1024, state })),
              kmsKeyId: dkimKmsKeyArn!,
              ttl: zone.ttl,
              overlapSeconds: config.dkim.overlapDays * 86400,
              protectActiveKeys: config.dkim.protectActiveKeys,
            },
            child(),
          )
        : undefined,
    );
    const keyringOf = (domain: string) => keyrings[desired.domains.findIndex((d) => d.domain === domain)]!;

    const hostPlan = plan.mailHost;
    const hostConfig = config.mailHost;
    const mailHost =
      hostPlan && hostConfig
        ? new MailHost(
            hostPlan.config.hostname,
            {
              config: hostPlan.config,
              dkimSecretArns: hostPlan.signingKeys.map((k) => keyringOf(k.domain).secretArns[k.selector]),
              kmsKeyArn: dkimKmsKeyArn!,
              ...(hostPlan.route53HostedZoneIds.length > 0 ? { route53HostedZoneIds: hostPlan.route53HostedZoneIds } : {}),
              vpcId: hostConfig.vpcId,
              subnetId: hostConfig.subnetId,
              instanceType: hostConfig.instanceType,
              ...(hostConfig.amiId ? { amiId: hostConfig.amiId } : {}),
              rootVolumeGiB: hostConfig.rootVolumeGiB,
              sshCidrs: hostConfig.sshCidrs,
              allowSshFromAnywhere: hostConfig.allowSshFromAnywhere,
              addressTtl: desired.domains.find((d) => d.domain === hostPlan.zone)!.ttl,
              protectAddress: true,
              tags: { "postforge:stack": stack },
              alarmEmails: hostConfig.alarmEmails,
            },
            child(),
          )
        : undefined;

    // MTA-STS policies served on AWS (mtaSts.serve: cloudfront): S3, CloudFront and ACM in us-east-1.
    const sited = desired.domains.map((zone, i) => ({ zone, i })).filter(({ zone }) => zone.mtaStsServedBy === "cloudfront");
    const policySite =
      sited.length > 0
        ? new MtaStsPolicySite(
            "postforge-mta-sts",
            { domains: sited.map(({ zone, i }) => ({ domain: zone.domain, policy: zone.mtaStsPolicy!, backend: plan.backends[i], ttl: zone.ttl })), tags: { "postforge:stack": stack } },
            { parent: this },
          )
        : undefined;
    // Where the _mta-sts record waits for its policy to be served (RFC 8461 §3.3: the file first).
    const policyServed = (domain: string): pulumi.Resource[] | undefined =>
      mailHost?.mtaStsPolicyServed[domain] ? [mailHost.mtaStsPolicyServed[domain]] : policySite?.policyReady[domain];
    // mta-sts.<domain> at the host's Elastic IP, where the host serves the domain's policy.
    const policyHost = (zone: (typeof desired.domains)[number]) => (mailHost ? policyHostRecord(zone, mailHost.publicIp) : undefined);

    const waitForPolicy = (domain: string) => {
      const served = policyServed(domain);
      return served ? { waitFor: { [`_mta-sts.${domain}`]: served } } : {};
    };

    this.mailDomains = desired.domains.map((zone, i) => {
      // planMailStack checked every record of every zone, and encoded those it could: not again.
      const args = vouchForMailDomainArgs(
        {
          domain: zone.domain,
          records: [
            ...zone.records,
            ...(keyrings[i]?.records ?? []),
            ...(zone.hostAddress && mailHost ? mailHost.addressRecords : []),
            ...(mailHost && policyHost(zone) ? [policyHost(zone)!] : []),
          ],
          backend: plan.backends[i],
          ...(zone.mtaStsPolicy ? { mtaStsPolicy: zone.mtaStsPolicy } : {}),
          // The policy's id changes only once the host serves the file it names (RFC 8461 §3.3).
          ...waitForPolicy(zone.domain),
        },
        plan.prepared[i],
      );
      const domain = new MailDomain(zone.domain, args, child());
      // The host's reverse DNS waits for its A record, which this zone publishes (FCrDNS).
      if (zone.hostAddress && mailHost) mailHost.publishReverseDns(domain);
      return domain;
    });

    this.domains = Object.fromEntries(
      desired.domains.map((d) => [d.domain, d.records.length + d.dkimKeys.length + (d.hostAddress ? 1 : 0)]),
    );
    this.mailHost = mailHost;
    this.mtaStsPolicySite = policySite;
    this.mailHosts = mailHost ? pulumi.output({ [mailHost.hostname]: { publicIp: mailHost.publicIp, ptr: mailHost.ptr } }) : {};
    this.mailboxPasswords = mailHost ? mailHost.mailboxPasswords : {};
    this.senderPasswords = mailHost ? mailHost.senderPasswords : {};
    this.unsubscribeKeys = mailHost ? pulumi.secret(pulumi.output({ [mailHost.hostname]: mailHost.unsubscribeKey })) : {};
    this.spfIncludeCosts = Object.fromEntries(
      config.domains.flatMap((d) => d.spf.includes.filter((inc) => inc.lookups !== undefined).map((inc) => [inc.domain, inc.lookups!])),
    );
    this.mtaStsPolicies = Object.fromEntries(desired.domains.filter((d) => d.mtaStsPolicy).map((d) => [d.domain, d.mtaStsPolicy!]));

    // What the policy pack needs to know about the stack as a whole.
    new StackSettings("postforge-settings", { environment: config.environment, dmarcMode: config.dmarcMode, spfIncludeCosts: this.spfIncludeCosts }, child());

    // Public facts only: the passwords stay properties, exported as secrets by the program.
    this.registerOutputs({ domains: this.domains, spfIncludeCosts: this.spfIncludeCosts, mtaStsPolicies: this.mtaStsPolicies });
  }
}
