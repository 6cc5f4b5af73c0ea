import { z } from "zod";
import { isoDate, warmupSchema } from "../sending/warmup";
import {
  cloudflareZoneId,
  domainName,
  hostname,
  httpsUrl,
  ipv4,
  ipv4Range,
  ipv6,
  ipv6Range,
  route53HostedZoneId,
  ttl,
} from "./fields";
import { alarmEmailsSchema, cidr, DEFAULT_QUEUE, DEFAULT_RATE_LIMITS, DEFAULT_ROLES, messageSizeLimitSchema, queueSchema, rateLimitsSchema, rolesSchema, secretName, senderSchema } from "../mta-host/config";

/**
 * The stack config, as zod schemas. Pulumi.yaml can only type scalars and
 * arrays of scalars, so the structured keys (`domains`, `parkedDomains`) are
 * declared there without a type and validated here instead.
 */

const policy = z.enum(["none", "quarantine", "reject"], { error: "must be one of none, quarantine, reject" });
const alignment = z.enum(["r", "s"], { error: "must be r (relaxed) or s (strict)" });

/** Where a zone's records are published: a Cloudflare zone by `zoneId`, or a Route53 hosted zone by `hostedZoneId`. */
export const dnsBackendSchema = z.discriminatedUnion(
  "provider",
  [
    z.strictObject({ provider: z.literal("cloudflare"), zoneId: cloudflareZoneId }),
    z.strictObject({ provider: z.literal("route53"), hostedZoneId: route53HostedZoneId }),
  ],
  { error: "must name a provider: cloudflare (with zoneId) or route53 (with hostedZoneId)" },
);
/** A zone's validated DNS provider and zone id, from which its DnsBackend is built. */
export type DnsBackendConfig = z.output<typeof dnsBackendSchema>;

const spfIncludeSchema = z.union(
  [
    domainName.transform((domain) => ({ domain, lookups: undefined as number | undefined })),
    z.strictObject({
      domain: domainName,
      lookups: z
        .number()
        .int()
        .min(1, { error: "must be at least 1 (the include itself costs one lookup)" })
        .max(10, { error: "must be at most 10: an include costing more can never fit the SPF limit" })
        .optional(),
    }),
  ],
  { error: "must be a domain such as _spf.google.com, or { domain, lookups }" },
);

/** A sending domain's SPF senders (RFC 7208); every list defaults to empty and `all` to `-all`. */
export const spfSchema = z.strictObject({
  /** IPv4 addresses or ranges that send for the domain. */
  ip4: z.array(ipv4Range).default([]),
  ip6: z.array(ipv6Range).default([]),
  /** Hosts whose A/AAAA records send for the domain (one DNS lookup each). */
  a: z.array(hostname).default([]),
  /** Whether the domain's MX hosts send (one DNS lookup). */
  mx: z.boolean().default(false),
  /** Third-party senders; their lookup cost is declared or taken from the known catalogue. */
  includes: z.array(spfIncludeSchema).default([]),
  all: z.enum(["-all", "~all"], { error: "must be -all (fail) or ~all (softfail); +all and ?all are not allowed" }).default("-all"),
});

/** A sending domain's DMARC tags, one field per tag as in DmarcIntent; only `p` is required. */
export const dmarcSchema = z.strictObject({
  p: policy,
  sp: policy.optional(),
  np: policy.optional(),
  adkim: alignment.optional(),
  aspf: alignment.optional(),
  rua: z.array(z.string()).optional(),
  ruf: z.array(z.string()).optional(),
  fo: z.array(z.enum(["0", "1", "d", "s"], { error: "must be one of 0, 1, d, s" })).optional(),
  /** RFC 9989 testing flag. */
  t: z.boolean().optional(),
  /** RFC 9989 public-suffix-domain flag. */
  psd: z.enum(["y", "n", "u"], { error: "must be y, n or u" }).optional(),
  /** RFC 7489 only. */
  pct: z.number().optional(),
});

const mxHostSchema = z.strictObject({
  host: hostname,
  priority: z.number().int().min(0).max(65535, { error: "must be 0..65535" }).default(10),
});

const hostAddressSchema = z.strictObject({
  name: hostname,
  ipv4: ipv4.optional(),
  ipv6: ipv6.optional(),
});

const dkimPublicKeySchema = z.strictObject({
  selector: z.string(),
  algorithm: z.enum(["rsa", "ed25519"], { error: "must be rsa or ed25519" }).default("rsa"),
  /** PEM (SPKI) or base64; the private half never enters config. */
  publicKey: z.string().min(1, { error: "must be the selector's public key (PEM or base64)" }),
  testing: z.boolean().optional(),
  /** Publish an exactly-1024-bit RSA key for legacy receivers (Postforge refuses under 2048 otherwise). Default false. */
  allowLegacy1024RsaForOldReceivers: z.boolean().default(false),
});

/** A key Postforge generates and rotates (see components/dkim). Name it by `selector`, or by `quarter` with the domain's selector scheme. */
const dkimManagedKeySchema = z.strictObject({
  selector: z.string().optional(),
  /** Date stamp such as 2026q4: the selector becomes `<prefix><quarter>` (+ the Ed25519 suffix). */
  quarter: z.string().regex(/^\d{4}q[1-4]$/, { error: "must be a quarter such as 2026q4" }).optional(),
  algorithm: z.enum(["rsa", "ed25519"], { error: "must be rsa or ed25519" }).default("rsa"),
  /** RSA size: 2048 (default), 3072 or 4096. */
  bits: z.number().int().optional(),
  allowLegacy1024RsaForOldReceivers: z.boolean().default(false),
  state: z.enum(["pending", "active", "retiring", "revoked"], {
    error: "must be pending (published, not signing), active, retiring (published, not signing, mail in flight) or revoked",
  }),
});
/** One managed DKIM key as the config declares it, validated: selector or quarter, algorithm, size and state. */
export type DkimManagedKeyConfig = z.output<typeof dkimManagedKeySchema>;

const domainDkimSchema = z.strictObject({
  /** Keys held elsewhere (an ESP's): only their public half is published. */
  publicKeys: z.array(dkimPublicKeySchema).default([]),
  /** Keys Postforge generates, stores in Secrets Manager and rotates. */
  keys: z.array(dkimManagedKeySchema).default([]),
  /** Selector scheme for keys named by quarter: `<selectorPrefix><quarter>`, Ed25519 keys with `ed25519Suffix` appended. */
  selectorPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, { error: "must be a short lower-case prefix such as pf" }).default("pf"),
  ed25519Suffix: z.string().regex(/^[a-z0-9-]{1,8}$/, { error: "must be a short lower-case suffix such as e" }).default("e"),
});

const mtaStsSchema = z.strictObject({
  mode: z.enum(["enforce", "testing", "none"], { error: "must be enforce, testing or none" }),
  /** MX patterns; default: the domain's MX hosts. */
  mx: z.array(z.string()).optional(),
  maxAge: z.number().int().min(0).default(604800),
  /**
   * Who serves the policy file at https://mta-sts.<domain>/.well-known/mta-sts.txt:
   * "mail-host" (the stack's mail host, with a certificate for mta-sts.<domain>;
   * the default for a domain the host serves), "cloudfront" (S3, CloudFront and
   * an ACM certificate in us-east-1, for stacks without a host) or "elsewhere"
   * (you serve it; the plan prints it). Default: "mail-host" where the host
   * serves the domain, else "elsewhere".
   */
  serve: z.enum(["mail-host", "cloudfront", "elsewhere"], { error: 'must be "mail-host", "cloudfront" or "elsewhere"' }).optional(),
});

/**
 * One sending domain of the stack (`postforge:domains`): its zone and DNS
 * provider, MX, hosts, SPF, DKIM, DMARC and the optional MTA-STS, TLS-RPT,
 * BIMI and CAA records.
 */
export const sendingDomainSchema = z.strictObject({
  name: hostname,
  dns: dnsBackendSchema,
  ttl: ttl.optional(),
  /** Where mail for the domain is received. Give `mx` or set `nullMx: true`. */
  mx: z.array(mxHostSchema).min(1, { error: "must list at least one MX host, or use nullMx: true" }).optional(),
  nullMx: z.boolean().optional(),
  /** A/AAAA records for the domain's own hosts (MX targets, HELO names). */
  hosts: z.array(hostAddressSchema).default([]),
  /** SMTP HELO names in this zone; each gets `v=spf1 a -all`. */
  heloHosts: z.array(hostname).default([]),
  spf: spfSchema,
  dkim: domainDkimSchema.default({ publicKeys: [], keys: [], selectorPrefix: "pf", ed25519Suffix: "e" }),
  dmarc: dmarcSchema,
  mtaSts: mtaStsSchema.optional(),
  tlsRpt: z.strictObject({ rua: z.array(z.string()).min(1, { error: "must list at least one mailto: or https: URI" }) }).optional(),
  bimi: z.strictObject({ selector: z.string().optional(), logo: httpsUrl, evidence: httpsUrl.optional() }).optional(),
  caa: z.strictObject({ issue: z.array(z.string()).min(1), issuewild: z.array(z.string()).optional(), iodef: z.array(z.string()).optional() }).optional(),
});
/** One sending domain's validated config, defaults filled in. */
export type SendingDomainConfig = z.output<typeof sendingDomainSchema>;

/** A domain that must never send mail: it gets null MX, `v=spf1 -all`, DMARC reject and a revoked DKIM wildcard. */
export const parkedDomainSchema = z.strictObject({
  name: hostname,
  dns: dnsBackendSchema,
  ttl: ttl.optional(),
  /** Where to send aggregate reports of spoofing attempts. */
  rua: z.array(z.string()).optional(),
});
/** One parked domain's validated config. */
export type ParkedDomainConfig = z.output<typeof parkedDomainSchema>;

/** Stack-wide DKIM key lifecycle settings. */
export const dkimSettingsSchema = z.strictObject({
  /** An existing KMS key for the key secrets; default: the stack creates one (protected). */
  kmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, { error: "must be a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<uuid>" }).optional(),
  /** Days a key stays `retiring` before it may be revoked. Default 7; it must outlast the mail host's queue lifetime (mailHost.queue). */
  overlapDays: z.number().int().min(2, { error: "must be at least 2 days: mail in flight and DNS caches need time" }).max(90).default(7),
  /** Warn when an active key is older than this. Default 6 (M3AAWG recommends about six months). */
  rotationMonths: z.number().int().min(1).max(24).default(6),
  /** Protect active keys and their secrets from deletion. Default true. */
  protectActiveKeys: z.boolean().default(true),
});
/** The stack-wide DKIM settings, validated, defaults filled in. */
export type DkimSettings = z.output<typeof dkimSettingsSchema>;

/**
 * The stack's own mail host (components/mta-host): a Debian instance on a
 * dedicated, protected Elastic IP that signs, sends and receives for the
 * listed sending domains. Its A record goes into the zone of `hostname`
 * (a sending domain of this stack), and for each listed domain MX, SPF, the
 * DMARC and TLS-RPT report addresses default to the host (see desired-records).
 */
export const mailHostStackSchema = z.strictObject({
  /** The host's FQDN (HELO, PTR and A name), inside one of this stack's sending domains, such as mail.example.com. */
  hostname,
  /** Sending domains of this stack the host signs, sends and receives for; each needs an active managed DKIM key. */
  domains: z.array(hostname).min(1, { error: "must list at least one sending domain of this stack, such as [example.com]" }),
  /** VPC of the host's security group. */
  vpcId: z.string().regex(/^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, { error: "must be a VPC id such as vpc-0123456789abcdef0" }),
  /** A public subnet: a route to an internet gateway, and the host gets no other public address than its Elastic IP. */
  subnetId: z.string().regex(/^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, { error: "must be a subnet id such as subnet-0123456789abcdef0" }),
  /** Networks allowed to submit on 587/465; clients must also authenticate. */
  submissionClients: z.array(cidr).min(1, { error: "must list at least one network allowed to submit mail, such as 10.0.0.0/16" }),
  /** Networks allowed to read role mailboxes over IMAPS (993) and to scrape the Prometheus exporter (9154). */
  adminClients: z.array(cidr).default([]),
  /** Who gets the host's alarms by email (SNS subscriptions, each confirmed once by its owner); production stacks need at least one (policy host-alarms). */
  alarmEmails: alarmEmailsSchema,
  /** Networks allowed to SSH; default none (SSM Session Manager instead). */
  sshCidrs: z.array(cidr).default([]),
  allowSshFromAnywhere: z.boolean().default(false),
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as t3.small" }).default("t3.small"),
  /** A pinned AMI; default: the newest official Debian 12 image. */
  amiId: z.string().regex(/^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, { error: "must be an AMI id such as ami-0123456789abcdef0" }).optional(),
  rootVolumeGiB: z.number().int().min(8, { error: "must be at least 8 GiB (the Debian image's size)" }).max(16384).default(20),
  messageSizeLimit: messageSizeLimitSchema.default(26_214_400),
  rateLimits: rateLimitsSchema.default(DEFAULT_RATE_LIMITS),
  /** Local parts of the feedback-loop and report mailboxes, the same for every domain. */
  roles: rolesSchema.default(DEFAULT_ROLES),
  /** How long mail may wait in the queue: maximalLifetimeHours (default 48) and bounceLifetimeHours (default 24). */
  queue: queueSchema.default(DEFAULT_QUEUE),
  /**
   * Application credentials for submission (587/465): `{ login, allowed: [addresses or domains], passwordVersion }`.
   * Passwords are generated at deploy and exported as the secret stack output `senderPasswords`.
   */
  senders: z.array(senderSchema).default([]),
  /** Role mailboxes may submit too, each as its own address. Default false. */
  rolesMaySend: z.boolean().default(false),
  tls: z.strictObject({
    /** Let's Encrypt account e-mail (expiry notices). */
    acmeEmail: z.email({ error: "must be an e-mail address for Let's Encrypt notices, such as postmaster@example.com" }),
    staging: z.boolean().default(false),
    selfSignedDays: z.number().int().min(1).max(365).default(30),
    /** With the host's zone on Cloudflare: the Secrets Manager secret holding a DNS-edit API token for DNS-01. */
    cloudflareApiTokenSecretName: secretName.optional(),
  }),
  /** Secrets Manager name of the Dovecot passwd-file; default `postforge/mail-host/<hostname>/passwd`. */
  mailboxPasswordsSecretName: secretName.optional(),
  /** Secrets Manager name of the submission logins' passwd-file; default `postforge/mail-host/<hostname>/senders`. */
  senderPasswordsSecretName: secretName.optional(),
  /**
   * The address's warm-up: `{ startDate, ramp?, groups?, extraDomains? }`, daily caps per receiver group
   * from startDate, 45 days to 50,000 a day by default (components/sending/warmup.ts).
   */
  warmup: warmupSchema.optional(),
  /** The day the host's address started sending, for an address that is warm already: over 45 days ago, no warm-up is asked for. */
  sendingSince: isoDate.optional(),
});
/** The stack's mail host as its config declares it, validated, defaults filled in. */
export type MailHostStackConfig = z.output<typeof mailHostStackSchema>;

/**
 * The whole stack config: every `postforge:*` key without its prefix. Also
 * refuses a DKIM overlap shorter than the mail host's queue lifetime.
 */
export const stackConfigSchema = z.strictObject({
  /** Production stacks are held to DMARC enforcement by the policy packs. */
  environment: z.enum(["production", "staging", "development"], { error: "must be production, staging or development" }).default("development"),
  /** DMARC dialect: RFC 9989 (default) or RFC 7489 for older receivers. */
  dmarcMode: z.enum(["rfc9989", "rfc7489"], { error: "must be rfc9989 or rfc7489" }).default("rfc9989"),
  defaultTtl: ttl.default(3600),
  domains: z.array(sendingDomainSchema).default([]),
  parkedDomains: z.array(parkedDomainSchema).default([]),
  dkim: dkimSettingsSchema.default({ overlapDays: 7, rotationMonths: 6, protectActiveKeys: true }),
  mailHost: mailHostStackSchema.optional(),
}).superRefine((config, ctx) => {
  if (config.domains.length === 0 && config.parkedDomains.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["domains"],
      input: config.domains,
      message: "and parkedDomains are both empty: the stack would publish no zone, and deploying it would delete every record it published; list at least one domain",
    });
  }
  // A message signed just before its key retires may wait in the queue for the whole lifetime and is
  // verified on arrival: the key must stay published (retiring) at least that long.
  const queue = config.mailHost?.queue;
  if (queue && config.dkim.overlapDays * 24 < queue.maximalLifetimeHours) {
    ctx.addIssue({
      code: "custom",
      path: ["dkim", "overlapDays"],
      input: config.dkim.overlapDays,
      message: `is shorter than mailHost.queue.maximalLifetimeHours (${queue.maximalLifetimeHours} h): mail queued that long would arrive after its key is revoked; raise overlapDays to at least ${Math.ceil(queue.maximalLifetimeHours / 24)} or shorten the queue lifetime`,
    });
  }
});
/** The validated stack config, defaults filled in: what every record and resource is derived from. */
export type StackConfig = z.output<typeof stackConfigSchema>;
/** The stack config as a stack file holds it, before validation: keys with a default may be left out. */
export type StackConfigInput = z.input<typeof stackConfigSchema>;

/** The `postforge:*` keys the program reads, in the order Pulumi.yaml declares them. */
export const STACK_CONFIG_KEYS = ["environment", "dmarcMode", "defaultTtl", "domains", "parkedDomains", "dkim", "mailHost"] as const;
