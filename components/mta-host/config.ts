import { isIPv4 } from "node:net";
import { ipv6Groups } from "../ip-address";
import { z } from "zod";
import { hostname, ipv4Range, ipv6Range } from "../config/fields";
import { isSelector } from "../dns/protocols/common";
import { checkMtaStsPolicy } from "../dns/protocols/mta-sts";
import { parseOrThrow } from "../validation";
import { isoDate, warmupSchema } from "../sending/warmup";

/**
 * What a mail host's boot configuration is rendered from: plain, validated
 * data with no Pulumi in it and no secret in it. Secrets are referenced by
 * their Secrets Manager names only; the host fetches them at boot with its
 * instance role (see cloud-init.ts).
 */

/** A local part we put in file names, Postfix tables and shell lines: lower-case dot-atom, no quoting needed. */
export const localPart = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/, {
    error: "must be a lower-case local part of letters, digits and . _ - (such as dmarc-reports; + is the address-extension delimiter), starting and ending with a letter or digit",
  })
  .refine((v) => !v.includes(".."), { error: "must not contain two dots in a row" });

/** Secrets Manager's own name alphabet; it also keeps the name safe inside a shell word. */
export const secretName = z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, {
  error: "must be a Secrets Manager secret name of letters, digits and / _ + = . @ - (such as postforge/dkim/example.com/pf2026q4)",
});

/**
 * Postfix's cidr tables skip a range with host bits set (10.0.0.1/8) with
 * only a log warning, so such a range is refused here, naming the network.
 */
export const cidr = z
  .union([ipv4Range, ipv6Range], { error: "must be an IPv4 or IPv6 address or CIDR range such as 10.0.0.0/16" })
  .superRefine((value, ctx) => {
    const network = networkOf(value);
    if (network !== value) ctx.addIssue({ code: "custom", input: value, message: `has host bits set; write the network, ${network}` });
  });

/** The range with its host bits cleared (`10.0.0.1/8` → `10.0.0.0/8`); a bare address is returned as is. */
export function networkOf(range: string): string {
  const [address, prefix] = range.split("/");
  if (prefix === undefined) return range;
  const bits = Number(prefix);
  const v4 = isIPv4(address);
  const groups = v4 ? address.split(".").map(Number) : ipv6Groups(address).map((g) => parseInt(g, 16));
  const width = v4 ? 8 : 16;
  const cleared = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(width, bits - i * width));
    return keep === 0 ? 0 : g & ~((1 << (width - keep)) - 1) & ((1 << width) - 1);
  });
  if (cleared.every((g, i) => g === groups[i])) return range;
  return `${v4 ? cleared.join(".") : cleared.map((g) => g.toString(16)).join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}/${prefix}`;
}

const selectorSchema = z.strictObject({
  /** The DKIM selector; the key record is `<selector>._domainkey.<domain>`. */
  selector: z.string().refine(isSelector, { error: "must be a DKIM selector: letters, digits and hyphens in dot-separated labels, such as pf2026q4" }),
  algorithm: z.enum(["rsa", "ed25519"], { error: "must be rsa or ed25519" }),
  /** Where the private half is, from `dkimSecretName(domain, selector)`. */
  secretName,
});
/** One signing DKIM selector of a sending domain, with where its private key is kept. */
export type MailHostSelector = z.output<typeof selectorSchema>;

/**
 * Role mailboxes other than postmaster@ and abuse@, which RFC 5321 §4.5.1 and
 * RFC 2142 name and so are not configurable.
 */
export const rolesSchema = z.strictObject({
  /** Feedback-loop (ARF, RFC 5965) reports. */
  feedbackLoop: localPart.default("fbl"),
  /** DMARC aggregate reports (`rua=mailto:`). */
  dmarcAggregate: localPart.default("dmarc-rua"),
  /** DMARC failure reports (`ruf=mailto:`). */
  dmarcFailure: localPart.default("dmarc-ruf"),
  /** TLS-RPT reports (RFC 8460 `rua=mailto:`). */
  tlsReports: localPart.default("tls-rpt"),
});

/** The role mailboxes' local parts when the config names none: fbl, dmarc-rua, dmarc-ruf, tls-rpt. */
export const DEFAULT_ROLES: z.output<typeof rolesSchema> = { feedbackLoop: "fbl", dmarcAggregate: "dmarc-rua", dmarcFailure: "dmarc-ruf", tlsReports: "tls-rpt" };

const domainSchema = z.strictObject({
  domain: hostname,
  /** The selectors that sign (state active); an RSA and an Ed25519 one dual-sign. */
  selectors: z.array(selectorSchema).min(1, { error: "must list at least one active selector: every sending domain is DKIM-signed" }),
  roles: rolesSchema.default(DEFAULT_ROLES),
  /**
   * The domain's DMARC asks for strict DKIM alignment (adkim=s). Mail with a
   * header From in a subdomain is then refused at submission: signed with
   * this domain's key (d=<domain>) it could not align. Default false: such
   * mail is signed with this domain's key, which aligns under relaxed adkim.
   */
  strictDkimAlignment: z.boolean().default(false),
  /**
   * The domain's MTA-STS policy file (mtaStsPolicyText), when the host serves
   * it at https://mta-sts.<domain>/.well-known/mta-sts.txt: its certificate
   * then names mta-sts.<domain> too.
   */
  mtaStsPolicy: z
    .string()
    .refine((text) => !checkMtaStsPolicy(text).some((f) => f.severity === "error"), { error: "must be a valid MTA-STS policy (RFC 8461 §3.2), as mtaStsPolicyText makes it" })
    .optional(),
});
/** One sending domain of a mail host, validated: its signing selectors, role mailboxes and DKIM alignment. */
export type MailHostDomain = z.output<typeof domainSchema>;

/**
 * Postfix's per-client limits (anvil), on port 25 and on submission. Each
 * default is the DEFAULT_RATE_LIMITS figure.
 */
export const rateLimitsSchema = z.strictObject({
  // Port 25 (other MTAs delivering to the role mailboxes): anvil limits per client address.
  /** New connections per client per minute (anvil; smtpd_client_connection_rate_limit). */
  connectionsPerMinute: z.number().int().min(1).max(100_000).default(60),
  /** Simultaneous connections per client (smtpd_client_connection_count_limit). */
  concurrentConnections: z.number().int().min(1).max(1000).default(20),
  /** Messages per client per minute on port 25 (smtpd_client_message_rate_limit). */
  messagesPerMinute: z.number().int().min(1).max(100_000).default(100),
  /** Recipient addresses per client per minute (smtpd_client_recipient_rate_limit). */
  recipientsPerMinute: z.number().int().min(1).max(1_000_000).default(500),
  /** Recipients of one message (smtpd_recipient_limit). */
  recipientsPerMessage: z.number().int().min(1).max(10_000).default(100),
  // Submission (587/465, authenticated applications): the same anvil limits, per client address and
  // service, sized for an application that sends a few thousand messages a minute over fresh sessions.
  /** Messages per submission client per minute. */
  submissionMessagesPerMinute: z.number().int().min(1).max(1_000_000).default(6000),
  /** New submission connections (and AUTH commands) per client per minute. */
  submissionConnectionsPerMinute: z.number().int().min(1).max(1_000_000).default(6000),
  /** Simultaneous submission connections per client. */
  submissionConcurrentConnections: z.number().int().min(1).max(10_000).default(100),
  /** Recipient addresses per submission client per minute. */
  submissionRecipientsPerMinute: z.number().int().min(1).max(10_000_000).default(60_000),
});

/** Largest accepted message in bytes (message_size_limit). */
export const messageSizeLimitSchema = z
  .number()
  .int()
  .min(1_048_576, { error: "must be at least 1048576 bytes (1 MiB): DMARC and ARF reports need room" })
  .max(157_286_400, { error: "must be at most 157286400 bytes (150 MiB)" });

/** The rate limits a host gets when its config sets none: the defaults of rateLimitsSchema. */
export const DEFAULT_RATE_LIMITS: z.output<typeof rateLimitsSchema> = {
  connectionsPerMinute: 60,
  concurrentConnections: 20,
  messagesPerMinute: 100,
  recipientsPerMinute: 500,
  recipientsPerMessage: 100,
  submissionMessagesPerMinute: 6000,
  submissionConnectionsPerMinute: 6000,
  submissionConcurrentConnections: 100,
  submissionRecipientsPerMinute: 60_000,
};

/**
 * How long mail may wait in the queue. Postfix's defaults (5 days, 5 days)
 * suit personal mail; a transactional message (a sign-in code, a receipt)
 * that has not left in two days is better bounced, so the application learns.
 */
export const queueSchema = z
  .strictObject({
    /** Hours a message is retried before it bounces (maximal_queue_lifetime). Default 48. */
    maximalLifetimeHours: z.number().int().min(1).max(30 * 24).default(48),
    /** Hours a bounce message is retried before it is dropped (bounce_queue_lifetime). Default 24. */
    bounceLifetimeHours: z.number().int().min(1).max(30 * 24).default(24),
  })
  .superRefine((q, ctx) => {
    if (q.bounceLifetimeHours > q.maximalLifetimeHours) {
      ctx.addIssue({
        code: "custom",
        path: ["bounceLifetimeHours"],
        input: q.bounceLifetimeHours,
        message: `must not exceed maximalLifetimeHours (${q.maximalLifetimeHours}); Postfix would cap it there anyway`,
      });
    }
  });
/** The queue lifetimes when the config sets none: 48 hours for mail, 24 for bounces. */
export const DEFAULT_QUEUE: z.output<typeof queueSchema> = { maximalLifetimeHours: 48, bounceLifetimeHours: 24 };

/** A SASL login name for an application: lower-case letters, digits and . _ -, no @ (so it is never a mailbox). */
export const senderLogin = z.string().regex(/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/, {
  error: "must be a login name of lower-case letters, digits and . _ - (such as billing-app), starting and ending with a letter or digit",
});

/**
 * One application's credentials for submission (587/465): its login, and the
 * envelope senders it may use, as addresses (`billing@example.com`) or whole
 * domains (`example.com`: every address there). Postfix refuses any other
 * sender for that login (smtpd_sender_login_maps).
 */
export const senderSchema = z.strictObject({
  /** The SASL login. */
  login: senderLogin,
  /** Addresses or domains this login may send as; each in a domain the host signs, or a subdomain of one. */
  allowed: z.array(z.string().toLowerCase()).min(1, { error: "must list at least one address or domain the login may send as, such as [billing@example.com]" }),
  /** Raise to issue a new generated password (the old one stops working once the host applies it). Default 1. */
  passwordVersion: z.number().int().min(1).default(1),
});
/** One application's validated submission credentials: its login, allowed senders and password version. */
export type SenderIdentity = z.output<typeof senderSchema>;

const dnsChallengeSchema = z.discriminatedUnion(
  "provider",
  [
    /** Route53: certbot uses the instance role (it needs route53:ChangeResourceRecordSets on the zone). */
    z.strictObject({ provider: z.literal("route53") }),
    /** Cloudflare: a DNS-edit API token, fetched from Secrets Manager at boot. */
    z.strictObject({ provider: z.literal("cloudflare"), apiTokenSecretName: secretName }),
  ],
  { error: "must name the stack's DNS provider: route53, or cloudflare (with apiTokenSecretName)" },
);

const tlsSchema = z.strictObject({
  /** Let's Encrypt account e-mail (expiry notices). */
  acmeEmail: z.email({ error: "must be an e-mail address for Let's Encrypt notices, such as postmaster@example.com" }),
  /** DNS-01 challenge through the stack's DNS provider. */
  dnsChallenge: dnsChallengeSchema,
  /** Use Let's Encrypt's staging CA (untrusted certificates; for test stacks). Default false. */
  staging: z.boolean().default(false),
  /** Days the self-signed fallback certificate is valid. Default 30. */
  selfSignedDays: z.number().int().min(1).max(365).default(30),
});

const AWS_REGION = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Alarm recipients: addresses, each once (SNS would subscribe a repeated one once and the second resource would fail). */
export const alarmEmailsSchema = z
  .array(z.email({ error: "must be an e-mail address for the host's alarms, such as ops@example.com" }))
  .refine((list) => new Set(list.map((e) => e.toLowerCase())).size === list.length, { error: "lists an address twice; list each once" })
  .default([]);

/**
 * The schema of a mail host's configuration: its name, sending domains,
 * networks, limits, submission logins, secret names and TLS. Defaults fill in
 * what is left out; MailHostConfig is what it outputs.
 */
export const mailHostConfigSchema = z
  .strictObject({
    /** The host's FQDN: myhostname, the HELO/EHLO name and the PTR name (RFC 5321 §4.1.4). */
    hostname,
    /** The sending domains the host accepts mail for and signs. */
    domains: z.array(domainSchema).min(1, { error: "must list at least one sending domain" }),
    /** Networks allowed to submit on 587/465 (they must also authenticate). */
    submissionClients: z.array(cidr).min(1, { error: "must list at least one network allowed to submit mail, such as 10.0.0.0/16" }),
    /** Networks allowed to read role mailboxes over IMAPS (993) and to administer the host. */
    adminClients: z.array(cidr).default([]),
    /** Largest accepted message in bytes (message_size_limit). Default 25 MiB. */
    messageSizeLimit: messageSizeLimitSchema.default(26_214_400),
    rateLimits: rateLimitsSchema.default(DEFAULT_RATE_LIMITS),
    queue: queueSchema.default(DEFAULT_QUEUE),
    /** Application credentials for submission; each login may send as its listed addresses or domains only. */
    senders: z.array(senderSchema).default([]),
    /** Role mailboxes may also submit mail, each as its own address only. Default false: they receive and are read. */
    rolesMaySend: z.boolean().default(false),
    /** Region of the host's secrets. */
    awsRegion: z.string().regex(AWS_REGION, { error: "must be an AWS region such as eu-west-1" }),
    /**
     * Secret holding the Dovecot passwd-file lines (`user@domain:{SHA512-CRYPT}...`, written by MailHost) for
     * every role mailbox; it must list them all (LMTP refuses a recipient the userdb lacks).
     */
    mailboxPasswordsSecretName: secretName,
    /** Secret holding the submission logins' passwd-file (`login:{SHA512-CRYPT}...`, written by MailHost). */
    senderPasswordsSecretName: secretName,
    tls: tlsSchema,
    /** The address's warm-up: daily caps per receiver group from startDate (see ../sending/warmup.ts). */
    warmup: warmupSchema.optional(),
    /** The day the host's address started sending, for an address warm already (the warm-up policy reads it). */
    sendingSince: isoDate.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.domains.forEach((d, i) => {
      if (seen.has(d.domain)) ctx.addIssue({ code: "custom", path: ["domains", i, "domain"], input: d.domain, message: "is listed twice; list each sending domain once" });
      seen.add(d.domain);
      const selectors = d.selectors.map((s) => s.selector);
      d.selectors.forEach((s, j) => {
        if (selectors.indexOf(s.selector) !== j) {
          ctx.addIssue({ code: "custom", path: ["domains", i, "selectors", j, "selector"], input: s.selector, message: "is listed twice for this domain" });
        }
      });
      for (const algorithm of ["rsa", "ed25519"] as const) {
        if (d.selectors.filter((s) => s.algorithm === algorithm).length > 1) {
          ctx.addIssue({
            code: "custom",
            path: ["domains", i, "selectors"],
            input: selectors,
            message: `has more than one active ${algorithm} selector; at most one key per algorithm signs (rotate through pending/active/retiring)`,
          });
        }
      }
    });
    const logins = new Set<string>();
    config.senders.forEach((sender, i) => {
      if (logins.has(sender.login)) ctx.addIssue({ code: "custom", path: ["senders", i, "login"], input: sender.login, message: "is listed twice; give each application its own login" });
      logins.add(sender.login);
      sender.allowed.forEach((entry, j) => {
        const problem = senderEntryProblem(config.domains, entry);
        if (problem) ctx.addIssue({ code: "custom", path: ["senders", i, "allowed", j], input: entry, message: problem });
      });
    });
    if (seen.has(config.hostname)) {
      ctx.addIssue({
        code: "custom",
        path: ["hostname"],
        input: config.hostname,
        message: "is also a sending domain; give the host its own name such as mail.example.com",
      });
    }
  });

/** The served domain an address or domain falls under (itself or a parent), if any. */
export function servingDomain(domains: readonly { domain: string }[], name: string): { domain: string; strictDkimAlignment?: boolean } | undefined {
  return domains.find((d) => name === d.domain || name.endsWith(`.${d.domain}`));
}

/** The first few names of a list, then how many more. */
function listSome(names: string[], shown = 5): string {
  return names.length <= shown ? names.join(", ") : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}

/** Why a sender entry (address or domain) cannot be allowed, or undefined when it can. */
function senderEntryProblem(domains: MailHostDomain[], entry: string): string | undefined {
  const at = entry.lastIndexOf("@");
  const local = at >= 0 ? entry.slice(0, at) : undefined;
  const domain = at >= 0 ? entry.slice(at + 1) : entry;
  if (local !== undefined && !/^[a-z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)*$/.test(local)) {
    return "must be an address with a plain local part (dot-atom, such as billing@example.com) or a domain such as example.com";
  }
  if (!hostname.safeParse(domain).success) return "must be an address such as billing@example.com or a domain such as example.com";
  const served = servingDomain(domains, domain);
  if (!served) return `is not in a domain this host signs (${listSome(domains.map((d) => d.domain))}); mail from it would leave unsigned, so it cannot be allowed`;
  if (served.domain !== domain && served.strictDkimAlignment) {
    return `is a subdomain of ${served.domain}, whose DMARC asks for strict DKIM alignment (adkim=s): signed with ${served.domain}'s key it cannot align; send as @${served.domain}, or set adkim: r on ${served.domain}`;
  }
  return undefined;
}

/** A mail host's configuration as written, before validation: optional fields may be left out. */
export type MailHostConfigInput = z.input<typeof mailHostConfigSchema>;
/** A mail host's validated configuration, defaults filled in: what its boot files are rendered from. */
export type MailHostConfig = z.output<typeof mailHostConfigSchema>;

/** Validate a mail host configuration and return it with defaults filled in; throws a ValidationError listing every problem. */
export function parseMailHostConfig(input: unknown, subject = "MailHost config"): MailHostConfig {
  return parseOrThrow(mailHostConfigSchema, input, subject);
}

/** What a role mailbox receives: postmaster@ and abuse@ mail (RFC 2142), or one kind of report. */
export type MailboxRole = "postmaster" | "abuse" | "feedbackLoop" | "dmarcAggregate" | "dmarcFailure" | "tlsReports";

/** One role mailbox, e.g. `{ address: "abuse@example.com", roles: ["abuse"] }`; one address may serve several roles. */
export interface RoleMailbox {
  address: string;
  domain: string;
  localPart: string;
  roles: MailboxRole[];
}

/** Every role mailbox of every domain, in domain order then local-part order, each address once. */
export function roleMailboxes(config: MailHostConfig): RoleMailbox[] {
  const out: RoleMailbox[] = [];
  for (const d of config.domains) {
    const byLocal = new Map<string, MailboxRole[]>();
    const add = (local: string, role: MailboxRole) => byLocal.set(local, [...(byLocal.get(local) ?? []), role]);
    add("postmaster", "postmaster");
    add("abuse", "abuse");
    add(d.roles.feedbackLoop, "feedbackLoop");
    add(d.roles.dmarcAggregate, "dmarcAggregate");
    add(d.roles.dmarcFailure, "dmarcFailure");
    add(d.roles.tlsReports, "tlsReports");
    for (const local of [...byLocal.keys()].sort(codeUnitOrder)) {
      out.push({ address: `${local}@${d.domain}`, domain: d.domain, localPart: local, roles: byLocal.get(local)! });
    }
  }
  return out;
}

/** Code-unit order, the same on every ICU (the zone files rely on it too). */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
