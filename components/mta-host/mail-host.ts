import { isIPv4 } from "node:net";
import { warmupSchedule, type WarmupSchedule } from "../sending/warmup";
import * as pulumi from "@pulumi/pulumi";
import { RandomBytes, RandomPassword } from "@pulumi/random";
// The module itself, not @pulumi/aws's index, which loads every service's (a tenth of a small plan).
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { Secret, SecretVersion } from "@pulumi/aws/secretsmanager";
import { Eip, EipAssociation, EipDomainName, getAmiOutput, Instance, SecurityGroup } from "@pulumi/aws/ec2";
import type { input as inputs } from "@pulumi/aws/types";
import { InstanceProfile, Role, RolePolicy, RolePolicyAttachment } from "@pulumi/aws/iam";
import { Table } from "@pulumi/aws/dynamodb";
import { z } from "zod";
import { familiesCoveredWhole } from "../address-ranges";
import { ipv4Range, ipv6Range } from "../config/fields";
import type { DnsRecordInput } from "../dns/backend";
import { parseOrThrow, ValidationError } from "../validation";
import { renderCloudInit } from "./cloud-init";
import { configManifestSecretName, encodeConfigManifest, renderConfigManifest, SECRET_VALUE_LIMIT } from "./config-manifest";
import { alarmEmailsSchema, mailHostConfigSchema, roleMailboxes, type MailHostConfig, type MailHostConfigInput } from "./config";
import { MAILBOX_PASSWORD_LENGTH, MAILBOX_SALT_BYTES, mailHostRolePolicy, renderPasswdFile } from "./host-secrets";
import { METRICS_PORT } from "./monitoring";
import { MtaStsPolicyServed } from "./mta-sts-served";
import { MailHostMonitoring } from "../monitoring/mail-host-monitoring";
import { suppressionTableName } from "./suppression";
import { unsubscribeKeySecretName } from "./unsubscribe";

/** The arguments of a MailHost: its configuration, its DKIM secrets, and where and how it runs on EC2. */
export interface MailHostArgs {
  /**
   * What the host's boot configuration is rendered from (see ./config.ts):
   * its hostname (the HELO and PTR name), domains, DKIM selectors and the
   * networks allowed to submit (587/465) and to administer it (993). Plain:
   * it is rendered into user-data at plan time, and the firewall opens
   * exactly the networks Postfix and Dovecot accept, from the same list.
   */
  config: MailHostConfigInput;
  /** ARNs of exactly this host's DKIM secrets (`DkimKeyring.secretArns`); the role may read these and nothing else. At least one. */
  dkimSecretArns: pulumi.Input<string>[];
  /** ARN of the KMS key that encrypts the DKIM secrets; the mailbox-password secret is encrypted with it too. */
  kmsKeyArn: pulumi.Input<string>;
  /**
   * With DNS-01 through Route53 (`config.tls.dnsChallenge.provider: route53`),
   * the hosted zone(s) certbot writes `_acme-challenge.<hostname>` in; the role
   * may change records in these zones only. Required for Route53, unused for Cloudflare.
   */
  route53HostedZoneIds?: pulumi.Input<string>[];
  /** VPC of the host's security group. */
  vpcId: pulumi.Input<string>;
  /** Public subnet of the instance (it needs a route to an internet gateway to send and receive mail). */
  subnetId: pulumi.Input<string>;
  /**
   * The forward record: the MailDomain that publishes `addressRecords` (or
   * the A record resource itself). The reverse DNS is set only after it,
   * because EC2 refuses a PTR whose name does not already resolve to the
   * address. The MailDomain needs `addressRecords` first, so it usually
   * cannot exist yet: leave this out and call `publishReverseDns` once it does
   * (MailStack does that for you):
   *
   *     const host = new MailHost("mx", { ... });
   *     const zone = new MailDomain("example.com", { records: [...host.addressRecords, ...], backend });
   *     host.publishReverseDns(zone);
   *
   * Until then the host has no PTR, which the policy pack's ptr-fcrdns rule refuses.
   */
  forwardRecord?: pulumi.Resource;
  /** EC2 instance type. Default `t3.small`. */
  instanceType?: pulumi.Input<string>;
  /** AMI to run. Default: the newest official Debian 12 amd64 image (owner 136693071363). */
  amiId?: pulumi.Input<string>;
  /** Root volume size in GiB (encrypted gp3). Default 20. */
  rootVolumeGiB?: number;
  /**
   * Networks allowed to SSH (port 22). Default none: use SSM Session Manager,
   * which the role allows. Plain: validated before anything is created.
   */
  sshCidrs?: string[];
  /** Accept `0.0.0.0/0` or `::/0` in `sshCidrs`. Default false. */
  allowSshFromAnywhere?: boolean;
  /** TTL of the host's A record. Default 3600. */
  addressTtl?: number;
  /** Protect the Elastic IP from deletion by Pulumi and keep it in the account if it is removed. Default true. */
  protectAddress?: boolean;
  /** Tags for every resource that takes them. */
  tags?: Record<string, string>;
  /**
   * Who gets the host's alarms by email (bounce and complaint rates, a stuck queue, stale syncs, an
   * expiring certificate, a blocklist listing, a failed status check): SNS email subscriptions, each
   * confirmed once by its owner. Default: none (the alarms still show on the dashboard and in the console).
   */
  alarmEmails?: string[];
}

export { MAIL_HOST_TYPE } from "../type-tokens";
import { MAIL_HOST_TYPE } from "../type-tokens";

/** Official Debian images on AWS (https://wiki.debian.org/Cloud/AmazonEC2Image). */
export const DEBIAN_AMI_OWNER = "136693071363";

/**
 * One mail host on EC2: a Debian 12 instance booted from the rendered
 * cloud-init, behind a security group that opens exactly the mail ports, with
 * an instance role that reads exactly its own DKIM secrets, a protected
 * Elastic IP, and reverse DNS matching the forward record (FCrDNS), so the
 * HELO name, the PTR name and the A record agree.
 *
 * IPv6 is not provisioned yet: the host is IPv4-only, so `addressRecords`
 * holds only an A record.
 */
export class MailHost extends pulumi.ComponentResource {
  /** The host's FQDN: HELO name, PTR name and A record name. */
  readonly hostname: string;
  /** The Elastic IP's address. */
  readonly publicIp: pulumi.Output<string>;
  /**
   * The PTR record EC2 publishes for the address. It resolves once
   * `publishReverseDns` has run (or at once with `forwardRecord`), so it is not
   * among the component's registered outputs.
   */
  readonly ptr: pulumi.Output<string>;
  readonly instanceId: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** The host's A record, for its domain's MailDomain. */
  readonly addressRecords: DnsRecordInput[];
  /**
   * By domain: done once the host serves that domain's MTA-STS policy. Pass
   * it as the MailDomain's `waitFor` for `_mta-sts.<domain>`, so the record's
   * id changes only after the file (RFC 8461 §3.3); that MailDomain also
   * publishes `mta-sts.<domain>` at `publicIp`.
   */
  readonly mtaStsPolicyServed: Record<string, MtaStsPolicyServed>;
  /**
   * The generated password of every role mailbox, by address, for operators
   * (IMAPS logins, SASL). A Pulumi secret: export it only as such. The host
   * itself receives only their hashes, through Secrets Manager.
   */
  readonly mailboxPasswords: pulumi.Output<Record<string, string>>;
  /** ARN of the secret holding the Dovecot passwd-file (`config.mailboxPasswordsSecretName`). */
  readonly mailboxPasswordsSecretArn: pulumi.Output<string>;
  /**
   * The generated password of every submission login (`config.senders`), by
   * login. A Pulumi secret. A login's password changes when its
   * `passwordVersion` does; the host receives only the hashes.
   */
  readonly senderPasswords: pulumi.Output<Record<string, string>>;
  /** The config manifest the host applies itself (./config-manifest.ts); public, no secret in it. */
  readonly configManifest: string;
  /**
   * The key of the host's one-click unsubscribe URLs (RFC 8058; see
   * components/sending/one-click.ts for making them). A Pulumi secret: the
   * applications that send through the host need it, nobody else.
   */
  readonly unsubscribeKey: pulumi.Output<string>;
  /** The SNS topic the host's alarms notify (subscribe more endpoints to it: chat, paging). */
  readonly alarmTopicArn: pulumi.Output<string>;
  /** The host's CloudWatch dashboard. */
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: MailHostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before super() so bad arguments register nothing at all.
    const checked = checkMailHostArgs(name, args);
    const config = checked.config;
    // Only public facts go to super(): they are recorded in state. They are registered as outputs too:
    // stack policies see a component's outputs, and the policy pack correlates them with DNS.
    const facts = mailHostFacts(config);
    super(MAIL_HOST_TYPE, name, facts, opts);
    this.hostname = config.hostname;
    const tags = { ...args.tags, "postforge:host": config.hostname };

    const securityGroup = new SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `Postforge mail host ${config.hostname}`,
        ...mailHostFirewall(config, checked.sshCidrs),
        tags: { ...tags, Name: `${config.hostname}` },
      },
      { parent: this },
    );

    const role = new Role(
      `${name}-role`,
      {
        description: `Postforge mail host ${config.hostname}`,
        assumeRolePolicy: JSON.stringify(EC2_TRUST_POLICY),
        tags,
      },
      { parent: this },
    );

    // One generated password per role mailbox, with its own stable salt: the
    // passwd-file (hashes only) changes only when a mailbox is added or removed.
    const mailboxFile = this.passwdFileSecret(
      `${name}-mailbox-passwords`,
      { secretName: config.mailboxPasswordsSecretName, what: "role mailboxes", hostname: config.hostname, kmsKeyArn: args.kmsKeyArn, tags },
      roleMailboxes(config).map((m) => ({
        login: m.address,
        password: new RandomPassword(`${name}-password-${m.address}`, { length: MAILBOX_PASSWORD_LENGTH, special: false }, { parent: this }).result,
        salt: new RandomBytes(`${name}-salt-${m.address}`, { length: MAILBOX_SALT_BYTES }, { parent: this }).base64,
      })),
    );
    this.mailboxPasswords = mailboxFile.passwords;
    this.mailboxPasswordsSecretArn = mailboxFile.secret.arn;

    // The applications' submission logins: like the mailboxes, but a new passwordVersion issues a new
    // password (and salt) for that login alone.
    const senderFile = this.passwdFileSecret(
      `${name}-sender-passwords`,
      { secretName: config.senderPasswordsSecretName, what: "submission logins", hostname: config.hostname, kmsKeyArn: args.kmsKeyArn, tags },
      config.senders.map((s) => {
        const keepers = { passwordVersion: String(s.passwordVersion) };
        return {
          login: s.login,
          password: new RandomPassword(`${name}-sender-${s.login}`, { length: MAILBOX_PASSWORD_LENGTH, special: false, keepers }, { parent: this }).result,
          salt: new RandomBytes(`${name}-sender-salt-${s.login}`, { length: MAILBOX_SALT_BYTES, keepers }, { parent: this }).base64,
        };
      }),
    );
    this.senderPasswords = senderFile.passwords;

    // The configuration the host applies itself, every five minutes (./sync.ts): changing it
    // reconfigures the running host instead of replacing it. It holds no secret (the provider
    // still stores secretString as one); the component also registers it as an output, so plans show it.
    const configManifestText = renderConfigManifest(config);
    const configSecret = new Secret(
      `${name}-config`,
      {
        name: configManifestSecretName(config.hostname),
        description: `Configuration manifest (no secrets) of Postforge mail host ${config.hostname}`,
        kmsKeyId: args.kmsKeyArn,
        // Nothing secret to recover, and a host re-created under the same name needs the name free.
        recoveryWindowInDays: 0,
        tags,
      },
      { parent: this },
    );

    // RFC 8058 one-click unsubscribe (unsubscribe.ts): the key the URLs' MACs are made with, shared by the
    // host (from Secrets Manager) and the applications (the secret output unsubscribeKey).
    const unsubscribeKey = new RandomPassword(`${name}-unsubscribe-key`, { length: 43, special: false }, { parent: this });
    const unsubscribeSecret = new Secret(
      `${name}-unsubscribe-key`,
      { name: unsubscribeKeySecretName(config.hostname), description: `One-click unsubscribe key of Postforge mail host ${config.hostname}`, kmsKeyId: args.kmsKeyArn, tags },
      { parent: this },
    );
    const unsubscribeVersion = new SecretVersion(`${name}-unsubscribe-key-version`, { secretId: unsubscribeSecret.id, secretString: pulumi.secret(unsubscribeKey.result) }, { parent: this });
    this.unsubscribeKey = pulumi.secret(unsubscribeKey.result);

    // The suppression list's durable copy (suppression.ts): it outlives the instance, so a replacement
    // refuses what its predecessor refused. It cannot be recreated, so it is protected, kept in the
    // account if the program stops declaring it, and recoverable to any second of the last 35 days.
    const suppressionTable = new Table(
      `${name}-suppression`,
      {
        name: suppressionTableName(config.hostname),
        billingMode: "PAY_PER_REQUEST",
        hashKey: "address",
        attributes: [{ name: "address", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
        deletionProtectionEnabled: true,
        tags: { ...tags, Name: `${config.hostname} suppression list` },
      },
      { parent: this, protect: true, retainOnDelete: true },
    );

    const challenge = config.tls.dnsChallenge;
    // The Cloudflare token's secret is known by name: its ARN pattern needs the account.
    const accountId = challenge.provider === "cloudflare" ? getCallerIdentityOutput({}, { parent: this }).accountId : undefined;
    // Named for its first purpose; kept so, as renaming would replace it.
    const rolePolicy = new RolePolicy(
      `${name}-dkim-secrets`,
      {
        role: role.name,
        policy: pulumi
          .all([pulumi.all(args.dkimSecretArns), mailboxFile.secret.arn, senderFile.secret.arn, configSecret.arn, args.kmsKeyArn, pulumi.all(args.route53HostedZoneIds ?? []), accountId, pulumi.all([suppressionTable.arn, unsubscribeSecret.arn])])
          .apply(([dkimSecretArns, mailboxPasswordsSecretArn, senderPasswordsSecretArn, configSecretArn, kmsKeyArn, route53HostedZoneIds, accountId, [suppressionTableArn, unsubscribeKeySecretArn]]) =>
            JSON.stringify(
              mailHostRolePolicy(config, {
                dkimSecretArns,
                mailboxPasswordsSecretArn,
                senderPasswordsSecretArn,
                configSecretArn,
                kmsKeyArn,
                route53HostedZoneIds,
                accountId,
                suppressionTableArn,
                unsubscribeKeySecretArn,
              }),
            ),
          ),
      },
      { parent: this },
    );
    for (const [suffix, policyArn] of Object.entries(MANAGED_POLICIES)) {
      new RolePolicyAttachment(`${name}-${suffix}`, { role: role.name, policyArn }, { parent: this });
    }
    // Stored only once the role may read it and what it names (the keys, through their ARNs, and the
    // passwd-file) exists: a host that fetches it can apply it.
    const configVersion = new SecretVersion(
      `${name}-config-version`,
      { secretId: configSecret.id, secretString: encodeConfigManifest(configManifestText) },
      { parent: this, dependsOn: [rolePolicy, mailboxFile.version, senderFile.version] },
    );
    const profile = new InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent: this });

    const ami =
      args.amiId ??
      getAmiOutput(
        {
          owners: [DEBIAN_AMI_OWNER],
          mostRecent: true,
          filters: [
            { name: "name", values: ["debian-12-amd64-*"] },
            { name: "architecture", values: ["x86_64"] },
            { name: "virtualization-type", values: ["hvm"] },
          ],
        },
        { parent: this },
      ).id;

    const instance = new Instance(
      `${name}-instance`,
      {
        ami,
        instanceType: args.instanceType ?? "t3.small",
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [securityGroup.id],
        iamInstanceProfile: profile.name,
        // IMDSv2 only: a session token defeats SSRF-style reads of the role's credentials. One hop: no container on the host needs them.
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        // The mail queue and mailboxes live here.
        rootBlockDevice: { volumeType: "gp3", volumeSize: checked.rootVolumeGiB, encrypted: true, deleteOnTermination: true },
        // No secret and no configuration in it: the sync script fetches the config manifest, the boot
        // script in it the DKIM keys and the passwd-file, all with the role.
        userData: renderCloudInit(config),
        // cloud-init runs once per instance; user-data changes only with the host's name, region or
        // DNS provider (the sync machinery itself), and then a new instance is the way to apply it.
        userDataReplaceOnChange: true,
        tags: { ...tags, Name: config.hostname },
      },
      // The first apply fails if the role, the config manifest or the passwd-file is not in place yet.
      { parent: this, dependsOn: [mailboxFile.version, senderFile.version, configVersion, rolePolicy, unsubscribeVersion] },
    );

    // The address is the host's sending reputation (receivers' history, DNSBL
    // delistings, the PTR): losing it by a replace or a stray `destroy` costs
    // weeks of warm-up. Protect it, and keep it in the account even when a
    // program stops declaring it, so it can be re-imported.
    const protectAddress = args.protectAddress ?? true;
    const eip = new Eip(`${name}-eip`, { domain: "vpc", tags: { ...tags, Name: config.hostname } }, { parent: this, protect: protectAddress, retainOnDelete: protectAddress });
    const association = new EipAssociation(`${name}-eip-association`, { allocationId: eip.allocationId, instanceId: instance.id }, { parent: this });

    // Each MTA-STS policy the host serves, once it serves it: the _mta-sts TXT record waits for this (mta-sts-served.ts).
    this.mtaStsPolicyServed = Object.fromEntries(
      config.domains
        .filter((d) => d.mtaStsPolicy !== undefined)
        .map((d) => [
          d.domain,
          new MtaStsPolicyServed(`${name}-mta-sts-${d.domain}`, { domain: d.domain, address: eip.publicIp, policy: d.mtaStsPolicy! }, { parent: this, dependsOn: [configVersion, association] }),
        ]),
    );

    // What watches the host (components/monitoring): alarms to an SNS topic, and a dashboard of what it publishes.
    const monitoring = new MailHostMonitoring(
      `${name}-monitoring`,
      { hostname: config.hostname, instanceId: instance.id, region: config.awsRegion, domains: config.domains.map((d) => d.domain), alarmEmails: args.alarmEmails ?? [], tags },
      { parent: this },
    );
    this.alarmTopicArn = monitoring.topicArn;
    this.dashboardName = monitoring.dashboardName;

    this.addressRecords = [{ name: config.hostname, type: "A", ttl: checked.addressTtl, purpose: "host-address", address: eip.publicIp }];

    // The PTR names the HELO name; EC2 checks that name resolves to the address, so it waits for
    // the forward record (publishReverseDns).
    const [ptr, resolvePtr] = pulumi.deferredOutput<string>();
    this.reverseDns = { allocationId: eip.allocationId, hostname: config.hostname, name: `${name}-ptr`, resolve: resolvePtr };
    this.ptr = ptr;

    this.publicIp = eip.publicIp;
    this.instanceId = instance.id;
    this.securityGroupId = securityGroup.id;
    this.roleArn = role.arn;
    this.configManifest = configManifestText;
    this.registerOutputs({
      ...facts,
      configManifest: configManifestText,
      hostname: this.hostname,
      publicIp: this.publicIp,
      instanceId: this.instanceId,
      securityGroupId: this.securityGroupId,
      roleArn: this.roleArn,
      alarmTopicArn: this.alarmTopicArn,
      dashboardName: this.dashboardName,
    });
    if (args.forwardRecord) this.publishReverseDns(args.forwardRecord);
  }

  private readonly reverseDns: { allocationId: pulumi.Output<string>; hostname: string; name: string; resolve: (ptr: pulumi.Output<string>) => void };
  private reverseDnsPublished = false;

  /**
   * Set the address's reverse DNS (EipDomainName) to the host name, after
   * `forwardRecord`, the MailDomain or A record resource that publishes
   * `addressRecords` (FCrDNS: EC2 checks the name resolves to the address).
   * Once per host.
   */
  publishReverseDns(forwardRecord: pulumi.Resource): EipDomainName {
    if (this.reverseDnsPublished) throw new Error(`MailHost ${this.hostname}: publishReverseDns was already called; a host has one reverse DNS name`);
    this.reverseDnsPublished = true;
    const reverse = new EipDomainName(
      this.reverseDns.name,
      { allocationId: this.reverseDns.allocationId, domainName: this.reverseDns.hostname },
      { parent: this, dependsOn: [forwardRecord] },
    );
    this.reverseDns.resolve(reverse.ptrRecord);
    return reverse;
  }

  /**
   * A Dovecot passwd-file in one KMS-encrypted secret (hashes only, stored as a secret input),
   * and the generated passwords by login as a secret output.
   */
  private passwdFileSecret(
    resourceName: string,
    o: { secretName: string; what: string; hostname: string; kmsKeyArn: pulumi.Input<string>; tags: Record<string, string> },
    credentials: { login: string; password: pulumi.Output<string>; salt: pulumi.Output<string> }[],
  ): { secret: Secret; version: SecretVersion; passwords: pulumi.Output<Record<string, string>> } {
    const secret = new Secret(
      resourceName,
      { name: o.secretName, description: `Dovecot passwd-file (${o.what}) of Postforge mail host ${o.hostname}`, kmsKeyId: o.kmsKeyArn, tags: o.tags },
      { parent: this },
    );
    const version = new SecretVersion(
      `${resourceName}-version`,
      {
        secretId: secret.id,
        secretString: pulumi.secret(
          pulumi
            .all(credentials.map((c) => pulumi.all([c.password, c.salt])))
            .apply((pairs) => renderPasswdFile(pairs.map(([password, saltBase64], i) => ({ address: credentials[i].login, password, saltBase64 })), o.what)),
        ),
      },
      { parent: this },
    );
    const passwords = pulumi.secret(
      pulumi.all(credentials.map((c) => c.password)).apply((values) => Object.fromEntries(values.map((p, i) => [credentials[i].login, p]))),
    );
    return { secret, version, passwords };
  }
}

/** What the host is, publicly: its name, the domains it serves, its role mailboxes, submission logins and the keys it signs with. */
export function mailHostFacts(config: MailHostConfig): {
  hostname: string;
  domains: string[];
  mailboxes: string[];
  feedbackLoopAddresses: string[];
  senders: { login: string; allowed: string[] }[];
  signingKeys: string[];
  warmup?: WarmupSchedule;
  sendingSince?: string;
} {
  const mailboxes = roleMailboxes(config);
  return {
    hostname: config.hostname,
    domains: config.domains.map((d) => d.domain),
    mailboxes: mailboxes.map((m) => m.address),
    feedbackLoopAddresses: mailboxes.filter((m) => m.roles.includes("feedbackLoop")).map((m) => m.address),
    senders: config.senders.map((s) => ({ login: s.login, allowed: s.allowed })),
    signingKeys: config.domains.flatMap((d) => d.selectors.map((s) => `${d.domain}/${s.selector}`)),
    // The warm-up written out, each group's ramp day by day: what the plan shows and the policy reads.
    ...(config.warmup ? { warmup: warmupSchedule(config.warmup) } : {}),
    ...(config.sendingSince ? { sendingSince: config.sendingSince } : {}),
  };
}

const EC2_TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** AWS-managed policies the host's role carries, by the suffix of their attachment's name. */
export const MANAGED_POLICIES = {
  // Shell access through SSM Session Manager, so port 22 can stay closed.
  ssm: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  // No CloudWatchAgentServerPolicy: no agent runs on the host. It publishes its metrics itself, with the
  // inline PutMetricData statement limited to its namespace (host-secrets.ts, monitoring.ts).
} as const;

/** One inline security group rule, in the shape both `ingress` and `egress` take. */
export type FirewallRule = inputs.ec2.SecurityGroupIngress & inputs.ec2.SecurityGroupEgress;

/**
 * The host's security group rules, a pure function of its config so tests and
 * policies can read them. Inline rules: the group is replaced as one set, so
 * no rule outlives the host's config.
 */
export function mailHostFirewall(config: MailHostConfig, sshCidrs: string[] = []): { ingress: FirewallRule[]; egress: FirewallRule[] } {
  const tcp = (port: number, ranges: string[], description: string): FirewallRule[] => {
    const v4 = ranges.filter((r) => isIPv4(r.split("/")[0]));
    const v6 = ranges.filter((r) => !isIPv4(r.split("/")[0]));
    if (ranges.length === 0) return [];
    return [
      {
        description,
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        // A bare address in the config is one host; AWS wants it as a /32 or /128.
        ...(v4.length > 0 ? { cidrBlocks: v4.map((r) => (r.includes("/") ? r : `${r}/32`)) } : {}),
        ...(v6.length > 0 ? { ipv6CidrBlocks: v6.map((r) => (r.includes("/") ? r : `${r}/128`)) } : {}),
      },
    ];
  };
  const anywhere = ["0.0.0.0/0"];
  return {
    ingress: [
      // The host is its domains' MX: anyone may deliver their mail to it.
      ...tcp(25, anywhere, "SMTP: inbound mail for the host's domains"),
      // Submission (STARTTLS and implicit TLS) only from the networks Postfix accepts (they must also authenticate).
      ...tcp(587, config.submissionClients, "Submission (STARTTLS) from submission clients"),
      ...tcp(465, config.submissionClients, "Submission (implicit TLS) from submission clients"),
      // Role mailboxes (DMARC, TLS-RPT, abuse reports) are read from admin networks only.
      ...tcp(993, config.adminClients, "IMAPS from admin networks"),
      // The Prometheus exporter (monitoring.ts), which also refuses any other client itself.
      ...tcp(METRICS_PORT, config.adminClients, "Prometheus metrics from admin networks"),
      // RFC 8058 one-click unsubscribe: mailbox providers POST from anywhere (unsubscribe.ts).
      ...tcp(443, anywhere, "HTTPS: one-click unsubscribe (RFC 8058)"),
      ...tcp(22, sshCidrs, "SSH from the given networks"),
    ],
    egress: [
      // Delivery to other domains' MX hosts.
      ...tcp(25, anywhere, "SMTP: outbound delivery"),
      // DNS: MX, DKIM, SPF and DMARC lookups; DNSSEC answers can exceed UDP, hence TCP too.
      ...tcp(53, anywhere, "DNS over TCP"),
      { description: "DNS", protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: anywhere },
      // Debian package mirrors (apt over HTTP, signed).
      ...tcp(80, anywhere, "HTTP: Debian package mirrors"),
      // AWS APIs (Secrets Manager, SSM, CloudWatch), Let's Encrypt ACME, the DNS provider's API for DNS-01.
      ...tcp(443, anywhere, "HTTPS: AWS APIs, ACME, DNS provider API"),
    ],
  };
}

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

const argsShape = z
  .object({
    config: mailHostConfigSchema,
    dkimSecretArns: z.array(z.any()).min(1, { error: "must list at least one DKIM secret ARN (DkimKeyring.secretArns); a host that signs needs its keys" }),
    kmsKeyArn: z.any().refine((v) => v !== undefined && v !== "", { error: "must be the ARN of the KMS key that encrypts the DKIM secrets" }),
    vpcId: z.any().refine((v) => v !== undefined && v !== "", { error: "must be the id of the host's VPC, such as vpc-0123456789abcdef0" }),
    subnetId: z.any().refine((v) => v !== undefined && v !== "", { error: "must be the id of a public subnet, such as subnet-0123456789abcdef0" }),
    forwardRecord: z
      .custom<pulumi.Resource>((v) => pulumi.Resource.isInstance(v), {
        error: "must be the MailDomain (or A record resource) that publishes addressRecords; or leave it out and call publishReverseDns once that exists",
      })
      .optional(),
    rootVolumeGiB: z.number().int().min(8, { error: "must be at least 8 GiB (the Debian image's size)" }).max(16384).default(20),
    sshCidrs: z.array(z.union([ipv4Range, ipv6Range], { error: "must be an IPv4 or IPv6 CIDR range such as 203.0.113.0/24" })).default([]),
    allowSshFromAnywhere: z.boolean().default(false),
    addressTtl: z.number().int().min(60).max(86400).default(3600),
    route53HostedZoneIds: z.array(z.any().refine((v) => v !== undefined && v !== "", { error: "must be a Route53 hosted zone id, such as Z0123456789ABCDEFGHIJ" })).optional(),
    alarmEmails: alarmEmailsSchema,
  })
  .loose()
  .superRefine((args, ctx) => {
    if (args.config?.tls?.dnsChallenge?.provider === "route53" && (args.route53HostedZoneIds ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["route53HostedZoneIds"],
        input: args.route53HostedZoneIds,
        message: "must list the hosted zone(s) certbot writes the DNS-01 challenge in, as config.tls.dnsChallenge.provider is route53; the role may change records there only",
      });
    }
  });

/**
 * What a mail host's config must also pass beyond its schema, creating
 * nothing: SSH is not open to the whole internet (by 0.0.0.0/0, or by ranges
 * that together hold every address) unless allowSshFromAnywhere, and the
 * config manifest fits Secrets Manager. MailStack runs it before its first
 * resource; MailHost before it registers. `fields` names the settings as
 * the caller's input spells them.
 */
export function mailHostPreflightProblems(
  config: MailHostConfig,
  o: { sshCidrs: string[]; allowSshFromAnywhere: boolean },
  fields: { sshCidrs: string; allowSshFromAnywhere: string; domains: string } = { sshCidrs: "sshCidrs", allowSshFromAnywhere: "allowSshFromAnywhere", domains: "config.domains" },
): string[] {
  const problems: string[] = [];
  if (!o.allowSshFromAnywhere) {
    o.sshCidrs.forEach((range, i) => {
      if (WORLD.has(range)) {
        problems.push(`${fields.sshCidrs}[${i}] = "${range}": opens SSH to the whole internet; list your admin networks, use SSM Session Manager, or set ${fields.allowSshFromAnywhere}: true`);
      }
    });
    for (const family of familiesCoveredWhole(o.sshCidrs.filter((r) => !WORLD.has(r)))) {
      problems.push(
        `${fields.sshCidrs} = ${JSON.stringify(o.sshCidrs)}: together these ranges hold every ${family} address, which opens SSH to the whole internet; list your admin networks, use SSM Session Manager, or set ${fields.allowSshFromAnywhere}: true`,
      );
    }
  }
  const stored = encodeConfigManifest(renderConfigManifest(config)).length;
  if (stored > SECRET_VALUE_LIMIT) {
    problems.push(`${fields.domains}: ${config.domains.length} domains make a config manifest of ${stored} bytes (compressed), over Secrets Manager's ${SECRET_VALUE_LIMIT}; serve them from several hosts`);
  }
  return problems;
}

/** Validate a MailHost's arguments, creating nothing: what the constructor does before it registers. */
export function checkMailHostArgs(
  name: string,
  args: MailHostArgs,
): { config: MailHostConfig; sshCidrs: string[]; rootVolumeGiB: number; addressTtl: number } {
  const subject = `MailHost "${name}"`;
  const checked = parseOrThrow(argsShape, args, subject);
  const problems = mailHostPreflightProblems(checked.config, { sshCidrs: checked.sshCidrs, allowSshFromAnywhere: checked.allowSshFromAnywhere });
  if (problems.length > 0) throw new ValidationError(subject, problems);
  return { config: checked.config, sshCidrs: checked.sshCidrs, rootVolumeGiB: checked.rootVolumeGiB, addressTtl: checked.addressTtl };
}
