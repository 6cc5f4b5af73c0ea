/**
 * Where everything lives on the mail host (Debian 12 package defaults where
 * they exist). Renderers and the boot script share these so a path is named
 * once; tests relocate every path under /etc, /var and /run into a temp dir.
 */
export const PATHS = {
  postfixDir: "/etc/postfix",
  postfixMainCf: "/etc/postfix/main.cf",
  postfixMasterCf: "/etc/postfix/master.cf",
  /** Recipients accepted for the sending domains (texthash: no postmap step). */
  virtualMailboxes: "/etc/postfix/virtual_mailboxes",
  /** postmaster@/abuse@ of the host name itself, and root, to the first domain's role boxes. */
  virtualAliases: "/etc/postfix/virtual_aliases",
  /** Networks that may connect to 587/465. */
  submissionClients: "/etc/postfix/submission_clients.cidr",
  /** Envelope sender domains authenticated clients may use: exactly the signing domains. */
  sendingDomains: "/etc/postfix/sending_domains",
  /** Which submission logins may use which envelope senders (smtpd_sender_login_maps). */
  senderLogins: "/etc/postfix/sender_logins",
  /** Submission only: the header From must be one address in a signed domain (pcre; see postfix.ts). */
  submissionHeaderChecks: "/etc/postfix/submission_header_checks.pcre",
  /** Deliberately empty: the host has no local users. */
  localRecipients: "/etc/postfix/local_recipients",
  /** Port 25: recipients refused before the address lookup (address literals). */
  recipientChecks: "/etc/postfix/recipient_checks.pcre",
  /** Postfix's own log (postlogd), read by operators and, later, by the host's delivery accounting. */
  postfixLog: "/var/log/postfix.log",
  postfixLogrotateCron: "/etc/cron.d/postforge-postfix-logrotate",
  postfixQueue: "/var/spool/postfix",
  postfixData: "/var/lib/postfix",

  /** Debian's opendkim.service reads /etc/opendkim.conf: the RSA signer, which also verifies. */
  opendkimConf: "/etc/opendkim.conf",
  opendkimDir: "/etc/opendkim",
  keyTable: "/etc/opendkim/KeyTable",
  signingTable: "/etc/opendkim/SigningTable",
  /** The Ed25519 signer: a second OpenDKIM (see opendkim.ts for why), with its own unit. */
  opendkimEd25519Conf: "/etc/opendkim-ed25519.conf",
  keyTableEd25519: "/etc/opendkim/KeyTable.ed25519",
  signingTableEd25519: "/etc/opendkim/SigningTable.ed25519",
  opendkimEd25519Unit: "/etc/systemd/system/opendkim-ed25519.service",
  trustedHosts: "/etc/opendkim/TrustedHosts",
  /** The signers' Unix sockets live here, owned opendkim:postfix 0750: only Postfix (and root) can reach them. */
  opendkimSocketDir: "/var/spool/postfix/opendkim",
  /** systemd drop-ins that restart a crashed daemon at once (Debian's dovecot.service has no Restart=). */
  dovecotRestartDropIn: "/etc/systemd/system/dovecot.service.d/postforge-restart.conf",
  opendkimRestartDropIn: "/etc/systemd/system/opendkim.service.d/postforge-restart.conf",
  dkimKeysDir: "/etc/opendkim/keys",
  opendkimRun: "/run/opendkim",

  dovecotConf: "/etc/dovecot/dovecot.conf",
  /** The role mailboxes' passwd-file, filled at boot from Secrets Manager; never rendered. */
  dovecotPasswd: "/etc/dovecot/passwd",
  /** The submission logins' passwd-file, filled at boot from Secrets Manager; never rendered. */
  dovecotSenders: "/etc/dovecot/senders",
  dovecotLog: "/var/log/dovecot.log",
  mailRoot: "/var/mail/vhosts",
  dovecotRun: "/run/dovecot",

  tlsDir: "/etc/postforge/tls",
  tlsCert: "/etc/postforge/tls/fullchain.pem",
  tlsKey: "/etc/postforge/tls/privkey.pem",
  /** The certificate for the mta-sts.<domain> names (its own lineage: a policy zone's failing challenge never holds up the host's). */
  mtaStsCert: "/etc/postforge/tls/mta-sts-fullchain.pem",
  mtaStsKey: "/etc/postforge/tls/mta-sts-privkey.pem",
  /** The MTA-STS policy files the host's HTTPS server serves, one per domain (mtaStsPolicyPath). */
  mtaStsDir: "/etc/postforge/mta-sts",
  cloudflareCredentials: "/etc/postforge/cloudflare.ini",
  bootScript: "/usr/local/sbin/postforge-boot",
  certDeployHook: "/usr/local/sbin/postforge-install-cert",
  syncScript: "/usr/local/sbin/postforge-sync",
  writeFilesScript: "/usr/local/sbin/postforge-write-files",
  syncService: "/etc/systemd/system/postforge-sync.service",
  syncTimer: "/etc/systemd/system/postforge-sync.timer",
  syncState: "/var/lib/postforge",

  /** The suppression list (state, not configuration: no manifest writes or removes it). */
  suppressionDir: "/var/lib/postforge/suppression",
  /** Its entries, one JSON object a line: the list itself, which the tool below rewrites. */
  suppressionList: "/var/lib/postforge/suppression/list.jsonl",
  /** Submission's check_recipient_access table (texthash), rendered from the list by the tool. */
  suppressionAccess: "/var/lib/postforge/suppression/postfix-access",
  /** Addresses whose change the DynamoDB copy has not taken yet (retried by `postforge-suppress sync`). */
  suppressionPending: "/var/lib/postforge/suppression/mirror-pending",
  /** Present while the list may lack the DynamoDB copy's entries (a restore failed): sync restores first. */
  suppressionRestoreNeeded: "/var/lib/postforge/suppression/restore-needed",
  /** Present once the whole list has reached the DynamoDB copy (a new host's restore, or sync's one full push after an upgrade). */
  suppressionMirrored: "/var/lib/postforge/suppression/mirrored",
  /** Every five minutes: pending changes to the DynamoDB copy, written again. */
  suppressionCron: "/etc/cron.d/postforge-suppression",
  /** The operator's and the host's tool: add, remove, list, export. */
  suppressTool: "/usr/local/sbin/postforge-suppress",

  /** The warm-up (warmup-gate.ts): its schedule as the host reads it, its tool, its cron line and its state (the day's counts, the mail it holds). */
  warmupSchedule: "/etc/postforge/warmup.conf",
  warmupTool: "/usr/local/sbin/postforge-warmup",
  warmupCron: "/etc/cron.d/postforge-warmup",
  /** Outside syncState (0700, root): the policy runs as HOST_TOOL_USER, which owns this. */
  warmupDir: "/var/lib/postforge-warmup",
  warmupState: "/var/lib/postforge-warmup/state",

  /** RFC 8058 one-click unsubscribe (unsubscribe.ts): the server, its unit, and the URLs' key (from Secrets Manager at boot, root-only). */
  unsubscribeServer: "/usr/local/sbin/postforge-unsubscribe",
  unsubscribeUnit: "/etc/systemd/system/postforge-unsubscribe.service",
  unsubscribeKey: "/etc/postforge/unsubscribe.key",

  /** Bounces and complaints read on arrival (components/sending/host-mailops.ts): the tool, its cron line, the intake's spool (HOST_TOOL_USER writes it) and apply's state (root). */
  mailopsTool: "/usr/local/sbin/postforge-mailops",
  mailopsCron: "/etc/cron.d/postforge-mailops",
  intakeSpool: "/var/spool/postforge-intake",
  mailopsState: "/var/lib/postforge/mailops",
  /** flock(1)'s file: apply and publish take turns. */
  mailopsLock: "/run/postforge-mailops.lock",
  /** transport_maps (pcre): each domain's VERP bounce addresses and feedback-loop intake to the pipes above. */
  transportMaps: "/etc/postfix/transport.pcre",
  /** virtual_mailbox_maps' second table (pcre): the VERP bounce addresses are recipients of ours. */
  verpBounceAddresses: "/etc/postfix/verp_bounce_addresses.pcre",
  /** Submission only: MAIL FROM asks for VERP (XVERP), so each recipient gets its own envelope sender. */
  submissionCommandFilter: "/etc/postfix/submission_command_filter.pcre",

  /** Monitoring (monitoring.ts): what postforge-mailops publishes needs to know (host, region, domains, admin networks), as JSON. */
  monitoringSettings: "/etc/postforge/monitoring.json",
  /** The host's counts (root's, beside the suppression decisions) and what CloudWatch has taken of them. */
  accountingState: "/var/lib/postforge/mailops/accounting.json",
  publishedState: "/var/lib/postforge/mailops/published.json",
  dnsblState: "/var/lib/postforge/mailops/dnsbl.json",
  /** Each day's warm-up caps per receiver group, as published: the report's cap against volume. */
  warmupCapsState: "/var/lib/postforge/mailops/warmup-caps.json",
  /** The Prometheus text the exporter serves: written by apply (root) every minute, readable by the exporter's user. */
  metricsDir: "/var/lib/postforge-metrics",
  metricsText: "/var/lib/postforge-metrics/metrics.prom",
  metricsUnit: "/etc/systemd/system/postforge-metrics.service",
  /** Every day: the host's address against the DNS blocklists, through its own resolver. */
  dnsblCron: "/etc/cron.d/postforge-dnsbl",
  /** Written by postforge-sync's ExecStartPost, so only after a run that succeeded: the config sync's heartbeat. */
  syncCheckedDropIn: "/etc/systemd/system/postforge-sync.service.d/postforge-checked.conf",
  syncChecked: "/var/lib/postforge/sync-checked",
  /** Written by postforge-suppress whenever the DynamoDB copy holds every change (nothing pending, nothing to restore). */
  suppressionInStep: "/var/lib/postforge/suppression/in-step",
} as const;

/** Relative to the Postfix queue directory, where Postfix daemons run (and look up unix: sockets). */
export const POSTFIX_SOCKETS = {
  dovecotLmtp: "private/dovecot-lmtp",
  dovecotAuth: "private/auth",
} as const;

/**
 * The OpenDKIM signers listen on Unix sockets in a directory only Postfix's
 * group can enter: a TCP port on loopback would sign for any local process.
 */
export const OPENDKIM_MILTERS = {
  rsa: { socket: "/var/spool/postfix/opendkim/rsa.sock" },
  ed25519: { socket: "/var/spool/postfix/opendkim/ed25519.sock" },
} as const;

/** Where OpenDKIM reads the private key of one domain's selector, fetched there at boot. */
export function dkimKeyPath(domain: string, selector: string): string {
  return `${PATHS.dkimKeysDir}/${domain}/${selector}.private`;
}

/** Where the host keeps the MTA-STS policy it serves for `domain` at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export function mtaStsPolicyPath(domain: string): string {
  return `${PATHS.mtaStsDir}/${domain}.txt`;
}

/** A file the host needs, as cloud-init's write_files takes it. */
export interface RenderedFile {
  path: string;
  content: string;
  owner: string;
  /** Octal, as cloud-init wants it: "0644". */
  permissions: string;
}

/** The unprivileged user the host's own tools run as where Postfix starts them (the warm-up policy; spawn(8) and pipe(8) refuse root and postfix). */
export const HOST_TOOL_USER = "postforge";

/**
 * The PATH line of every cron file the host's tools run from: cron's own is /usr/bin:/bin, and the
 * tools call Postfix's postqueue, postsuper and postfix (in /usr/sbin) and each other (/usr/local/sbin).
 */
export const CRON_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
