import { codeUnitOrder, roleMailboxes, type MailHostConfig } from "./config";
import { opendkimSigners } from "./opendkim";
import { OPENDKIM_MILTERS, PATHS, POSTFIX_SOCKETS, type RenderedFile } from "./layout";

/**
 * Postfix for a Postforge mail host:
 * - port 25 takes mail only for the host's own role mailboxes (virtual mailbox
 *   domains, delivered by LMTP to Dovecot) and relays for nobody, loopback
 *   included (local programs send with sendmail(1), which does not use port 25);
 * - 587 (STARTTLS required) and 465 (implicit TLS) take mail from the
 *   submission networks after SASL authentication through Dovecot, and only
 *   from the domains OpenDKIM signs, so nothing leaves unsigned;
 * - every message passes OpenDKIM (signing and verifying); if the milter is
 *   down mail is deferred, never sent unsigned.
 * Tables are `texthash:` so the boot needs no postmap step.
 */

type Setting = readonly [name: string, value: string | number];

function section(comment: string, settings: Setting[]): string {
  return [`# ${comment}`, ...settings.map(([name, value]) => (value === "" ? `${name} =` : `${name} = ${value}`))].join("\n");
}

export function renderPostfixMainCf(config: MailHostConfig): string {
  const limits = config.rateLimits;
  const domains = config.domains.map((d) => d.domain);
  return (
    [
      `# Postfix main.cf for ${config.hostname}, rendered by Postforge. Regenerate rather than edit.`,
      section("Identity: myhostname is the EHLO name and must match the PTR record (RFC 5321 §4.1.4).", [
        ["compatibility_level", "3.6"],
        ["myhostname", config.hostname],
        ["smtp_helo_name", "$myhostname"],
        ["myorigin", "$myhostname"],
        ["smtpd_banner", "$myhostname ESMTP"],
        ["biff", "no"],
        ["append_dot_mydomain", "no"],
        ["readme_directory", "no"],
        ["queue_directory", PATHS.postfixQueue],
        ["data_directory", PATHS.postfixData],
        ["inet_interfaces", "all"],
        ["inet_protocols", "all"],
      ]),
      section("No local delivery: every address is virtual and goes to Dovecot over LMTP.", [
        ["mydestination", ""],
        ["local_recipient_maps", ""],
        ["alias_maps", ""],
        ["alias_database", ""],
        ["mynetworks", "127.0.0.0/8 [::1]/128"],
        ["recipient_delimiter", "+"],
        ["virtual_mailbox_domains", domains.join(" ")],
        ["virtual_mailbox_maps", `texthash:${PATHS.virtualMailboxes}`],
        ["virtual_alias_domains", "$myhostname"],
        ["virtual_alias_maps", `texthash:${PATHS.virtualAliases}`],
        ["virtual_transport", `lmtp:unix:${POSTFIX_SOCKETS.dovecotLmtp}`],
      ]),
      section("Port 25: mail for our own addresses only; it relays for nobody (local programs use sendmail).", [
        ["smtpd_helo_required", "yes"],
        ["disable_vrfy_command", "yes"],
        ["smtpd_sasl_auth_enable", "no"],
        ["smtpd_relay_restrictions", "reject_unauth_destination"],
        ["smtpd_recipient_restrictions", "reject_non_fqdn_recipient, reject_unlisted_recipient, reject_unauth_destination"],
      ]),
      section("Submission (587/465, see master.cf): listed networks, TLS, SASL via Dovecot, our domains as senders.", [
        ["smtpd_sasl_type", "dovecot"],
        ["smtpd_sasl_path", POSTFIX_SOCKETS.dovecotAuth],
        ["smtpd_sasl_security_options", "noanonymous"],
        ["postforge_submission_client_restrictions", `check_client_access cidr:${PATHS.submissionClients}, reject`],
        ["postforge_submission_sender_restrictions", `reject_non_fqdn_sender, check_sender_access texthash:${PATHS.sendingDomains}, reject`],
        ["postforge_submission_relay_restrictions", "permit_sasl_authenticated, reject"],
        ["postforge_submission_recipient_restrictions", "reject_non_fqdn_recipient, permit_sasl_authenticated, reject"],
        ["postforge_submission_message_rate_limit", limits.submissionMessagesPerMinute],
      ]),
      section("TLS: opportunistic on 25 in both directions (RFC 7435); required on submission (master.cf).", [
        ["smtpd_tls_cert_file", PATHS.tlsCert],
        ["smtpd_tls_key_file", PATHS.tlsKey],
        ["smtpd_tls_security_level", "may"],
        ["smtpd_tls_auth_only", "yes"],
        ["smtpd_tls_protocols", ">=TLSv1"],
        ["smtpd_tls_mandatory_protocols", ">=TLSv1.2"],
        ["smtpd_tls_received_header", "yes"],
        ["smtpd_tls_loglevel", "1"],
        ["smtpd_tls_session_cache_database", "btree:${data_directory}/smtpd_scache"],
        ["smtp_tls_security_level", "may"],
        ["smtp_tls_loglevel", "1"],
        ["smtp_tls_session_cache_database", "btree:${data_directory}/smtp_scache"],
      ]),
      section("DKIM: OpenDKIM signs (RSA, then Ed25519) and verifies; without it mail waits rather than leaving unsigned.", [
        ["milter_protocol", "6"],
        ["milter_default_action", "tempfail"],
        ["smtpd_milters", opendkimSigners(config).map((a) => `inet:${OPENDKIM_MILTERS[a].address}:${OPENDKIM_MILTERS[a].port}`).join(", ")],
        ["non_smtpd_milters", "$smtpd_milters"],
      ]),
      section("Limits, per client and per minute (anvil); loopback is exempt.", [
        ["message_size_limit", config.messageSizeLimit],
        ["mailbox_size_limit", 0],
        ["smtpd_recipient_limit", limits.recipientsPerMessage],
        ["anvil_rate_time_unit", "60s"],
        ["smtpd_client_event_limit_exceptions", "$mynetworks"],
        ["smtpd_client_connection_rate_limit", limits.connectionsPerMinute],
        ["smtpd_client_connection_count_limit", limits.concurrentConnections],
        ["smtpd_client_message_rate_limit", limits.messagesPerMinute],
        ["smtpd_client_recipient_rate_limit", limits.recipientsPerMinute],
        ["smtpd_client_auth_rate_limit", 30],
      ]),
    ].join("\n\n") + "\n"
  );
}

/** The -o overrides shared by 587 and 465. */
const SUBMISSION_OVERRIDES = [
  "smtpd_tls_security_level=encrypt",
  "smtpd_sasl_auth_enable=yes",
  // Refuse strangers at connect time, before they can try passwords.
  "smtpd_delay_reject=no",
  "smtpd_client_restrictions=$postforge_submission_client_restrictions",
  "smtpd_helo_restrictions=",
  "smtpd_sender_restrictions=$postforge_submission_sender_restrictions",
  "smtpd_relay_restrictions=$postforge_submission_relay_restrictions",
  "smtpd_recipient_restrictions=$postforge_submission_recipient_restrictions",
  "smtpd_client_message_rate_limit=$postforge_submission_message_rate_limit",
  "milter_macro_daemon_name=ORIGINATING",
];

/**
 * master.cf, complete (it replaces Debian's). No service is chrooted: the
 * Dovecot sockets live in the queue directory either way, and without chroot
 * the host needs no copies of resolv.conf and friends kept in sync.
 */
export function renderPostfixMasterCf(_config: MailHostConfig): string {
  const row = (service: string, type: string, priv: string, unpriv: string, chroot: string, wakeup: string, maxproc: string, command: string) =>
    `${service.padEnd(12)}${type.padEnd(11)}${priv.padEnd(8)}${unpriv.padEnd(8)}${chroot.padEnd(8)}${wakeup.padEnd(8)}${maxproc.padEnd(8)}${command}`;
  const overrides = (options: string[]) => options.map((o) => `  -o ${o}`);
  return (
    [
      "# Postfix master.cf, rendered by Postforge. Regenerate rather than edit.",
      row("# service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command + args"),
      row("smtp", "inet", "n", "-", "n", "-", "-", "smtpd"),
      row("submission", "inet", "n", "-", "n", "-", "-", "smtpd"),
      ...overrides(["syslog_name=postfix/submission", ...SUBMISSION_OVERRIDES]),
      row("submissions", "inet", "n", "-", "n", "-", "-", "smtpd"),
      ...overrides(["syslog_name=postfix/submissions", "smtpd_tls_wrappermode=yes", ...SUBMISSION_OVERRIDES]),
      row("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
      row("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
      row("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
      row("tlsmgr", "unix", "-", "-", "n", "1000?", "1", "tlsmgr"),
      row("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
      row("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
      row("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
      row("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
      row("verify", "unix", "-", "-", "n", "-", "1", "verify"),
      row("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
      row("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
      row("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
      row("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
      row("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
      ...overrides(["syslog_name=postfix/$service_name"]),
      row("showq", "unix", "n", "-", "n", "-", "-", "showq"),
      row("error", "unix", "-", "-", "n", "-", "-", "error"),
      row("retry", "unix", "-", "-", "n", "-", "-", "error"),
      row("discard", "unix", "-", "-", "n", "-", "-", "discard"),
      row("lmtp", "unix", "-", "-", "n", "-", "-", "lmtp"),
      row("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
      row("scache", "unix", "-", "-", "n", "-", "1", "scache"),
      row("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
    ].join("\n") + "\n"
  );
}

/** virtual_mailboxes: every role mailbox of every sending domain (the value is unused with LMTP delivery). */
export function renderVirtualMailboxes(config: MailHostConfig): string {
  return roleMailboxes(config)
    .map((m) => `${m.address} OK`)
    .join("\n") + "\n";
}

/**
 * virtual_aliases: the host name's own postmaster@ and abuse@ (RFC 5321
 * §4.5.1; also the null sender's SPF HELO identity), and root (cron, bounces
 * addressed to the host), into the first sending domain's mailboxes.
 */
export function renderVirtualAliases(config: MailHostConfig): string {
  const first = config.domains[0].domain;
  return [
    `abuse@${config.hostname} abuse@${first}`,
    `postmaster@${config.hostname} postmaster@${first}`,
    `root@${config.hostname} postmaster@${first}`,
  ].join("\n") + "\n";
}

export function renderSubmissionClients(config: MailHostConfig): string {
  return config.submissionClients.map((c) => `${c} OK`).join("\n") + "\n";
}

export function renderSendingDomains(config: MailHostConfig): string {
  return [...config.domains.map((d) => d.domain)].sort(codeUnitOrder).map((d) => `${d} OK`).join("\n") + "\n";
}

/** Every Postfix file the host needs. */
export function renderPostfix(config: MailHostConfig): RenderedFile[] {
  const file = (path: string, content: string): RenderedFile => ({ path, content, owner: "root:root", permissions: "0644" });
  return [
    file(PATHS.postfixMainCf, renderPostfixMainCf(config)),
    file(PATHS.postfixMasterCf, renderPostfixMasterCf(config)),
    file(PATHS.virtualMailboxes, renderVirtualMailboxes(config)),
    file(PATHS.virtualAliases, renderVirtualAliases(config)),
    file(PATHS.submissionClients, renderSubmissionClients(config)),
    file(PATHS.sendingDomains, renderSendingDomains(config)),
  ];
}
