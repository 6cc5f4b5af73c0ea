import { codeUnitOrder, roleMailboxes, type MailHostConfig } from "./config";
import { opendkimSigners } from "./opendkim";
import { HOST_TOOL_USER, OPENDKIM_MILTERS, PATHS, POSTFIX_SOCKETS, type RenderedFile } from "./layout";
import { WARMUP_POLICY_SERVICE } from "./warmup-gate";
import { complaintIntakeAddress, mailopsMasterRows, renderSubmissionCommandFilter, renderVerpBounceAddresses, renderTransportMaps } from "./mailops-tool";
import { regexQuote } from "./pcre";

/**
 * Postfix for a Postforge mail host:
 * - port 25 takes mail only for the host's own role mailboxes (virtual mailbox
 *   domains, delivered by LMTP to Dovecot), refuses address literals, unknown
 *   users and senders from domains that do not exist at RCPT time (so nothing
 *   is accepted that would later bounce to a forged sender), and relays for
 *   nobody, loopback included (local programs send with sendmail(1));
 * - 587 (STARTTLS required) and 465 (implicit TLS) take mail from the
 *   submission networks after SASL authentication through Dovecot; each login
 *   may use only the envelope senders its identity lists
 *   (smtpd_sender_login_maps), and the header From must be one address in a
 *   domain the host signs, so nothing leaves unsigned;
 * - every message passes OpenDKIM (signing and verifying); if the milter is
 *   down mail is deferred, never sent unsigned.
 * Tables are `texthash:` or `pcre:` so the boot needs no postmap step.
 */

type Setting = readonly [name: string, value: string | number];

function section(comment: string, settings: Setting[]): string {
  return [`# ${comment}`, ...settings.map(([name, value]) => (value === "" ? `${name} =` : `${name} = ${value}`))].join("\n");
}

/**
 * Mozilla's "intermediate" TLS 1.2 suites (ssl-config.mozilla.org, v5.7):
 * ECDHE or DHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305
 * (AEAD) only. TLS 1.3 suites are OpenSSL's defaults, all of which qualify.
 */
export const MOZILLA_INTERMEDIATE_TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-CHACHA20-POLY1305",
] as const;

/** The name of the cleanup service submitted mail goes through (header From checks apply there only). */
export const SUBMISSION_CLEANUP = "submission-cleanup";

/** The host's main.cf: identity, virtual delivery to Dovecot, port 25 and submission restrictions, TLS, milters and limits. */
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
      section("Logging: Postfix's own log file (postlogd), rotated daily by `postfix logrotate` (cron).", [
        ["maillog_file", PATHS.postfixLog],
        ["maillog_file_prefixes", "/var/log"],
      ]),
      section("No local delivery: every address is virtual and goes to Dovecot over LMTP; nothing is local.", [
        ["mydestination", ""],
        // An empty table, not an empty setting: empty would accept any local part at an address literal.
        ["local_recipient_maps", `texthash:${PATHS.localRecipients}`],
        ["local_transport", "error:5.1.1 this host delivers no local mail"],
        ["alias_maps", ""],
        ["alias_database", ""],
        ["mynetworks", "127.0.0.0/8 [::1]/128"],
        ["recipient_delimiter", "+"],
        ["virtual_mailbox_domains", domains.join(" ")],
        // And every VERP bounce address of a sending domain (mailops-tool.ts), which transport_maps sends to the intake.
        ["virtual_mailbox_maps", `texthash:${PATHS.virtualMailboxes}, pcre:${PATHS.verpBounceAddresses}`],
        ["virtual_alias_domains", "$myhostname"],
        ["virtual_alias_maps", `texthash:${PATHS.virtualAliases}`],
        // Extensions are not carried into alias results: fbl+yahoo@ would otherwise expand into fbl+intake+yahoo@,
        // which the same alias expands again, until Postfix gives up. The mailbox and the intake get it as fbl@.
        ["propagate_unmatched_extensions", "canonical"],
        ["virtual_transport", `lmtp:unix:${POSTFIX_SOCKETS.dovecotLmtp}`],
      ]),
      section("Bounces and complaints come back to the host's own intake (mailops-tool.ts): each domain's bounce address and the feedback-loop copy go to pipes, one recipient at a time.", [
        ["transport_maps", `pcre:${PATHS.transportMaps}`],
        ["postforge-bounce_destination_recipient_limit", 1],
        ["postforge-complaint_destination_recipient_limit", 1],
      ]),
      section(
        "Port 25: mail for our own addresses only, decided at RCPT (no backscatter); relays for nobody. HELO and sender checks as SMTPD_ACCESS_README recommends for a receiving host.",
        [
          ["smtpd_helo_required", "yes"],
          ["disable_vrfy_command", "yes"],
          ["strict_rfc821_envelopes", "yes"],
          ["smtpd_sasl_auth_enable", "no"],
          ["smtpd_helo_restrictions", "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"],
          ["smtpd_sender_restrictions", "reject_non_fqdn_sender, reject_unknown_sender_domain"],
          // A sender domain DNS says does not exist (NXDOMAIN) is refused for good; a DNS failure still defers.
          ["unknown_address_reject_code", 550],
          ["smtpd_relay_restrictions", "reject_unauth_destination"],
          [
            "smtpd_recipient_restrictions",
            `reject_non_fqdn_recipient, check_recipient_access pcre:${PATHS.recipientChecks}, reject_unlisted_recipient, reject_unauth_destination`,
          ],
          ["smtpd_data_restrictions", "reject_unauth_pipelining, reject_multi_recipient_bounce"],
        ],
      ),
      section(
        "SMTP smuggling (CVE-2023-51764): only <CR><LF>.<CR><LF> ends DATA, and port 25 refuses a bare <LF> outright (other MTAs send CRLF; a bare LF there is an attack or a broken relay). Submission normalizes instead (master.cf): applications often send bare LF, and what we relay is re-encoded.",
        [
        ["smtpd_forbid_bare_newline", "reject"],
        ["smtpd_forbid_bare_newline_exclusions", "$mynetworks"],
        ["smtpd_forbid_unauth_pipelining", "yes"],
        ],
      ),
      section("Submission (587/465, see master.cf): listed networks, TLS, SASL via Dovecot, each login bound to its senders.", [
        ["smtpd_sasl_type", "dovecot"],
        ["smtpd_sasl_path", POSTFIX_SOCKETS.dovecotAuth],
        ["smtpd_sasl_security_options", "noanonymous"],
        ["smtpd_sender_login_maps", `texthash:${PATHS.senderLogins}`],
        ["postforge_submission_client_restrictions", `check_client_access cidr:${PATHS.submissionClients}, reject`],
        [
          "postforge_submission_sender_restrictions",
          `reject_non_fqdn_sender, reject_sender_login_mismatch, check_sender_access texthash:${PATHS.sendingDomains}, reject`,
        ],
        ["postforge_submission_relay_restrictions", "permit_sasl_authenticated, reject"],
        // A suppressed recipient is refused before anything else is judged: the reply names why and since when (suppression.ts).
        // Then the warm-up's cap (warmup-gate.ts): over it, HOLD, and the session goes on to permit.
        [
          "postforge_submission_recipient_restrictions",
          `reject_non_fqdn_recipient, check_recipient_access texthash:${PATHS.suppressionAccess}, ${config.warmup ? `check_policy_service unix:private/${WARMUP_POLICY_SERVICE}, ` : ""}permit_sasl_authenticated, reject`,
        ],
        // The policy process lives as long as the smtpd session it serves (spawn(8)'s default limit is 1000 s).
        [`${WARMUP_POLICY_SERVICE}_time_limit`, "3600s"],
        ["postforge_submission_message_rate_limit", limits.submissionMessagesPerMinute],
        ["postforge_submission_connection_rate_limit", limits.submissionConnectionsPerMinute],
        ["postforge_submission_connection_count_limit", limits.submissionConcurrentConnections],
        ["postforge_submission_recipient_rate_limit", limits.submissionRecipientsPerMinute],
      ]),
      section(
        "TLS. Port 25 stays opportunistic in both directions (RFC 7435: a sender that cannot negotiate our suites must still be able to deliver in the clear, which is no worse), but offers no anonymous suite, so a client that does TLS always sees the certificate. Submission (587/465, the mandatory settings) follows Mozilla's intermediate profile: TLS 1.2 or newer, forward-secret AEAD suites only.",
        [
          ["smtpd_tls_cert_file", PATHS.tlsCert],
          ["smtpd_tls_key_file", PATHS.tlsKey],
          ["smtpd_tls_security_level", "may"],
          ["smtpd_tls_auth_only", "yes"],
          ["smtpd_tls_protocols", ">=TLSv1"],
          ["smtpd_tls_ciphers", "medium"],
          ["smtpd_tls_exclude_ciphers", "aNULL, eNULL"],
          ["smtpd_tls_mandatory_protocols", ">=TLSv1.2"],
          ["smtpd_tls_mandatory_ciphers", "high"],
          ["tls_high_cipherlist", MOZILLA_INTERMEDIATE_TLS12_CIPHERS.join(":")],
          ["smtpd_tls_received_header", "yes"],
          ["smtpd_tls_loglevel", "1"],
          ["smtpd_tls_session_cache_database", "btree:${data_directory}/smtpd_scache"],
          ["smtp_tls_security_level", "may"],
          ["smtp_tls_loglevel", "1"],
          ["smtp_tls_session_cache_database", "btree:${data_directory}/smtp_scache"],
        ],
      ),
      section("DKIM: OpenDKIM signs (RSA, then Ed25519) and verifies, over sockets only Postfix can open; without it mail waits rather than leaving unsigned.", [
        ["milter_protocol", "6"],
        ["milter_default_action", "tempfail"],
        ["smtpd_milters", opendkimSigners(config).map((a) => `unix:${OPENDKIM_MILTERS[a].socket}`).join(", ")],
        ["non_smtpd_milters", "$smtpd_milters"],
      ]),
      section(
        "Queue: transactional mail that has not left in maximal_queue_lifetime bounces, so the application learns; the DKIM key overlap (postforge:dkim.overlapDays) outlasts it.",
        [
          ["maximal_queue_lifetime", `${config.queue.maximalLifetimeHours}h`],
          ["bounce_queue_lifetime", `${config.queue.bounceLifetimeHours}h`],
        ],
      ),
      section(
        "Limits, per client address and service per minute (anvil). Nobody is exempt: what a test measures is what every client gets. A daemon that dies at start (smtpd while Dovecot's auth is down) throttles its service for service_throttle_time: 2 s, not 60, so submission returns at once after an outage.",
        [
          ["message_size_limit", config.messageSizeLimit],
          ["mailbox_size_limit", 0],
          ["smtpd_recipient_limit", limits.recipientsPerMessage],
          ["anvil_rate_time_unit", "60s"],
          ["smtpd_client_event_limit_exceptions", ""],
          ["smtpd_client_connection_rate_limit", limits.connectionsPerMinute],
          ["smtpd_client_connection_count_limit", limits.concurrentConnections],
          ["smtpd_client_message_rate_limit", limits.messagesPerMinute],
          ["smtpd_client_recipient_rate_limit", limits.recipientsPerMinute],
          ["smtpd_client_auth_rate_limit", 30],
          ["service_throttle_time", "2s"],
        ],
      ),
    ].join("\n\n") + "\n"
  );
}

/** The -o overrides shared by 587 and 465. */
const SUBMISSION_OVERRIDES = [
  "smtpd_tls_security_level=encrypt",
  "smtpd_sasl_auth_enable=yes",
  // Refuse strangers at connect time, before they can try passwords.
  "smtpd_delay_reject=no",
  "smtpd_forbid_bare_newline=normalize",
  "smtpd_client_restrictions=$postforge_submission_client_restrictions",
  "smtpd_helo_restrictions=",
  "smtpd_sender_restrictions=$postforge_submission_sender_restrictions",
  "smtpd_relay_restrictions=$postforge_submission_relay_restrictions",
  "smtpd_recipient_restrictions=$postforge_submission_recipient_restrictions",
  "smtpd_client_message_rate_limit=$postforge_submission_message_rate_limit",
  "smtpd_client_connection_rate_limit=$postforge_submission_connection_rate_limit",
  "smtpd_client_connection_count_limit=$postforge_submission_connection_count_limit",
  "smtpd_client_recipient_rate_limit=$postforge_submission_recipient_rate_limit",
  // One AUTH per session: an application that opens a session per message authenticates as often as it connects.
  "smtpd_client_auth_rate_limit=$postforge_submission_connection_rate_limit",
  `cleanup_service_name=${SUBMISSION_CLEANUP}`,
  "milter_macro_daemon_name=ORIGINATING",
  // The queue file exists from MAIL FROM, so the warm-up policy sees the queue ID of the message it holds.
  "smtpd_delay_open_until_valid_rcpt=no",
  // VERP for every submission with a sender (the application need not ask): each recipient's bounce names it.
  `smtpd_command_filter=pcre:${PATHS.submissionCommandFilter}`,
  "smtpd_authorized_verp_clients=0.0.0.0/0,[::]/0",
];

/**
 * master.cf, complete (it replaces Debian's). No service is chrooted: the
 * Dovecot sockets live in the queue directory either way, and without chroot
 * the host needs no copies of resolv.conf and friends kept in sync.
 */
export function renderPostfixMasterCf(config: MailHostConfig): string {
  // Columns are whitespace-separated: a field as wide as its column still gets one space.
  const cell = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));
  const row = (service: string, type: string, priv: string, unpriv: string, chroot: string, wakeup: string, maxproc: string, command: string) =>
    `${cell(service, 12)}${cell(type, 11)}${cell(priv, 8)}${cell(unpriv, 8)}${cell(chroot, 8)}${cell(wakeup, 8)}${cell(maxproc, 8)}${command}`;
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
      // Submitted mail only: the header From check, and a From added from the (login-bound) envelope sender when missing.
      row(SUBMISSION_CLEANUP, "unix", "n", "-", "n", "-", "0", "cleanup"),
      ...overrides([
        `header_checks=pcre:${PATHS.submissionHeaderChecks}`,
        // Attached messages and MIME part headers are not the message's own From.
        "mime_header_checks=",
        "nested_header_checks=",
        "always_add_missing_headers=yes",
      ]),
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
      // The warm-up's policy service (warmup-gate.ts), one process per submission session, unprivileged.
      row(WARMUP_POLICY_SERVICE, "unix", "-", "n", "n", "-", "0", "spawn"),
      `  user=${HOST_TOOL_USER} argv=${PATHS.warmupTool} policy`,
      // Bounces and complaints to the host's intake (mailops-tool.ts).
      ...mailopsMasterRows(config).flatMap((r) => [row(r.service, "unix", "-", "n", "n", "-", "10", "pipe"), `  ${r.args}`]),
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
    // The feedback-loop mailbox keeps every report, and a copy goes to the complaint intake (which maps to itself: expansion stops there).
    ...config.domains.flatMap((d) => [
      `${d.roles.feedbackLoop}@${d.domain} ${d.roles.feedbackLoop}@${d.domain}, ${complaintIntakeAddress(d)}`,
      `${complaintIntakeAddress(d)} ${complaintIntakeAddress(d)}`,
    ]),
  ].join("\n") + "\n";
}

/** local_recipients: deliberately empty; the host has no local users (see main.cf). */
export function renderLocalRecipients(): string {
  return "# No local recipients: every address this host takes is virtual (virtual_mailboxes).\n";
}

/** recipient_checks (pcre, port 25): refused before any address lookup. */
export function renderRecipientChecks(): string {
  return [
    "# Port 25 recipients refused at RCPT, rendered by Postforge.",
    "# An address literal (user@[192.0.2.1]) names no domain of ours: refuse it rather than queue it.",
    "/@\\[[^]]*\\]$/ REJECT 5.1.2 address literals are not accepted here; write to an address in a domain this host serves",
    "",
  ].join("\n");
}

/**
 * submission_header_checks (pcre, submitted mail only): the header From must
 * be one address in a domain the host signs (or a subdomain of one, signed
 * with that domain's key), so nothing leaves unsigned and nothing claims a
 * domain we cannot authenticate. Several addresses, a group or a foreign
 * domain are refused with 5.7.1 naming the domains; a subdomain of a domain
 * whose DMARC asks for strict alignment (adkim=s) is refused by name.
 */
export function renderSubmissionHeaderChecks(config: MailHostConfig): string {
  const domains = config.domains.map((d) => d.domain);
  const anyDomain = `(?:[a-z0-9-]+\\.)*(?:${domains.map(regexQuote).join("|")})`;
  // A comment, with RFC 5322's quoted-pairs: an escaped ")" does not end it (a parser reads on past it), no nesting.
  const comment = `\\((?:[^()\\\\]|\\\\.)*\\)`;
  // A display name: quoted strings, comments and atom text; no unquoted @ , ; : < > (which would make it several addresses or a group).
  const phrase = `(?:"(?:[^"\\\\]|\\\\.)*"|${comment}|[^"<>@,;:\\\\()])*`;
  const local = `[^\\s"<>@,;:()\\[\\]\\\\]+`;
  const strict = config.domains
    .filter((d) => d.strictDkimAlignment)
    .map(
      (d) =>
        `/^From:.*@(?:[a-z0-9-]+\\.)+${regexQuote(d.domain)}>?\\s*(?:${comment}\\s*)?$/ REJECT 5.7.1 header From is in a subdomain of ${d.domain}, whose DMARC policy asks for strict DKIM alignment (adkim=s): it cannot be signed so it aligns; send as an address @${d.domain}`,
    );
  return [
    "# Header From of submitted mail, rendered by Postforge. First match wins; pcre tables match case-insensitively.",
    ...strict,
    `/^From:\\s*${phrase}<${local}@${anyDomain}>\\s*(?:${comment}\\s*)?$/ DUNNO`,
    `/^From:\\s*${local}@${anyDomain}\\s*(?:${comment}\\s*)?$/ DUNNO`,
    `/^From:/ REJECT 5.7.1 header From must be one address in a domain this host signs (${domains.join(", ")}); mail From anywhere else would leave unsigned`,
    "",
  ].join("\n");
}

/**
 * sender_logins (smtpd_sender_login_maps): envelope sender (address, or
 * `@domain` for a whole domain) to the logins that may use it. Postfix takes
 * the first key that matches (the address before `@domain`), so an address
 * also lists the logins allowed its whole domain. Role mailboxes own their
 * own address when rolesMaySend is set.
 */
export function renderSenderLogins(config: MailHostConfig): string {
  const owners = new Map<string, Set<string>>();
  const own = (key: string, login: string) => owners.set(key, (owners.get(key) ?? new Set()).add(login));
  for (const sender of config.senders) {
    for (const entry of sender.allowed) own(entry.includes("@") ? entry : `@${entry}`, sender.login);
  }
  if (config.rolesMaySend) for (const m of roleMailboxes(config)) own(m.address, m.address);
  for (const [key, logins] of owners) {
    if (!key.startsWith("@")) for (const login of owners.get(`@${key.split("@")[1]}`) ?? []) logins.add(login);
  }
  const rows = [...owners.keys()].sort(codeUnitOrder).map((key) => `${key} ${[...owners.get(key)!].sort(codeUnitOrder).join(",")}`);
  return ["# Envelope sender -> the submission logins that may use it, rendered by Postforge.", ...rows, ""].join("\n");
}

/** The cidr table of networks that may connect to 587/465, one `<network> OK` line each. */
export function renderSubmissionClients(config: MailHostConfig): string {
  return config.submissionClients.map((c) => `${c} OK`).join("\n") + "\n";
}

/** The table of envelope sender domains authenticated clients may use: exactly the signing domains, sorted. */
export function renderSendingDomains(config: MailHostConfig): string {
  return [...config.domains.map((d) => d.domain)].sort(codeUnitOrder).map((d) => `${d} OK`).join("\n") + "\n";
}

/** Daily rotation of Postfix's log file (maillog_file is not rotated by logrotate, which knows nothing of postlogd). */
export function renderPostfixLogrotateCron(): string {
  return `# Rotate ${PATHS.postfixLog} daily (postfix logrotate keeps the previous files, compressed), rendered by Postforge.\n13 0 * * * root /usr/sbin/postfix -c ${PATHS.postfixDir} logrotate\n`;
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
    file(PATHS.senderLogins, renderSenderLogins(config)),
    file(PATHS.submissionHeaderChecks, renderSubmissionHeaderChecks(config)),
    file(PATHS.recipientChecks, renderRecipientChecks()),
    file(PATHS.localRecipients, renderLocalRecipients()),
    file(PATHS.postfixLogrotateCron, renderPostfixLogrotateCron()),
    file(PATHS.transportMaps, renderTransportMaps(config)),
    file(PATHS.verpBounceAddresses, renderVerpBounceAddresses(config)),
    file(PATHS.submissionCommandFilter, renderSubmissionCommandFilter()),
  ];
}
