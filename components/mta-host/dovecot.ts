import { roleMailboxes, type MailHostConfig, type RoleMailbox } from "./config";
import { PATHS, type RenderedFile } from "./layout";
import { MOZILLA_INTERMEDIATE_TLS12_CIPHERS } from "./postfix";
import { renderRestartDropIn } from "./systemd";

/**
 * Dovecot 2.3 for a Postforge mail host: the role mailboxes (postmaster@,
 * abuse@ per RFC 2142, the feedback loop, DMARC and TLS-RPT reports), stored
 * as Maildir under one vmail user, delivered by Postfix over LMTP, read over
 * IMAPS (993) from the admin networks; and the SASL service Postfix
 * authenticates submission clients with.
 *
 * Passwords are never rendered: both passwd-files (the role mailboxes', and
 * the submission logins') are written at boot from Secrets Manager (see
 * `renderPasswdFetchStep`). The mailbox file must list every role mailbox,
 * because LMTP refuses a recipient the userdb does not know.
 *
 * Who may log in where: IMAP (and every service but SMTP) knows the role
 * mailboxes only, from loopback and the admin networks; SMTP AUTH (Postfix's
 * SASL, service "smtp") knows the application logins only, from the
 * submission networks, and the role mailboxes too when rolesMaySend is set.
 */

const POSTFIX_QUEUE_PRIVATE = `${PATHS.postfixQueue}/private`;

/** The host's dovecot.conf: role mailboxes over LMTP and IMAPS, and the SASL service for submission (see above). */
export function renderDovecotConf(config: MailHostConfig): string {
  const imapNets = ["127.0.0.1/32", "::1/128", ...config.adminClients];
  const submissionNets = config.submissionClients;
  const passdb = (file: string, nets: string[]) => `  passdb {
    driver = passwd-file
    args = scheme=SHA512-CRYPT username_format=%Lu ${file}
    override_fields = allow_nets=${nets.join(",")}
  }`;
  const postmaster = `postmaster@${config.domains[0].domain}`;
  return `# Dovecot for ${config.hostname}, rendered by Postforge. Self-contained (no conf.d includes). Regenerate rather than edit.
protocols = imap lmtp
listen = *, ::
base_dir = ${PATHS.dovecotRun}/
instance_name = dovecot
hostname = ${config.hostname}
log_path = ${PATHS.dovecotLog}
auth_verbose = yes

# TLS only: IMAP is served on 993 alone; plaintext auth is refused everywhere.
ssl = required
ssl_cert = <${PATHS.tlsCert}
ssl_key = <${PATHS.tlsKey}
# Mozilla's intermediate profile, as on submission (see postfix.ts).
ssl_min_protocol = TLSv1.2
ssl_cipher_list = ${MOZILLA_INTERMEDIATE_TLS12_CIPHERS.join(":")}
ssl_prefer_server_ciphers = no
disable_plaintext_auth = yes
auth_mechanisms = plain login

# All mailboxes belong to one system user.
mail_location = maildir:~/Maildir
first_valid_uid = 100
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no

# Passwd-files written at boot from Secrets Manager: ${PATHS.dovecotPasswd} (role mailboxes,
# also their userdb) and ${PATHS.dovecotSenders} (application logins, SMTP AUTH only).
# IMAP: the role mailboxes, from loopback and the admin networks.
protocol !smtp {
${passdb(PATHS.dovecotPasswd, imapNets)}
}
# SMTP AUTH (Postfix): the application logins${config.rolesMaySend ? " and the role mailboxes (rolesMaySend)" : ""}, from the submission networks.
protocol smtp {
${passdb(PATHS.dovecotSenders, submissionNets)}${config.rolesMaySend ? `
${passdb(PATHS.dovecotPasswd, submissionNets)}` : ""}
}
userdb {
  driver = passwd-file
  args = username_format=%Lu ${PATHS.dovecotPasswd}
  default_fields = uid=vmail gid=vmail home=${PATHS.mailRoot}/%Ld/%Ln
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}

# Postfix delivers here (virtual_transport = lmtp:unix:private/dovecot-lmtp).
service lmtp {
  unix_listener ${POSTFIX_QUEUE_PRIVATE}/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}

# Postfix authenticates submission clients here (smtpd_sasl_path = private/auth).
service auth {
  unix_listener ${POSTFIX_QUEUE_PRIVATE}/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
    user = vmail
  }
}

protocol lmtp {
  postmaster_address = ${postmaster}
}
`;
}

/**
 * The boot step that installs the passwd-file: fetched from Secrets Manager
 * with the instance role, readable by root and Dovecot only, and refused (the
 * boot fails, naming the address) if a role mailbox is missing from it.
 * Expects the boot script's `install_secret` function.
 */
export function renderPasswdFetchStep(config: MailHostConfig): string {
  const checks = roleMailboxes(config).map((m) => `require_mailbox ${m.address}`);
  return [
    "# Password hashes (Dovecot passwd-file lines) of the role mailboxes and the submission logins, never part of user-data.",
    `install_secret ${shellWord(config.mailboxPasswordsSecretName)} ${PATHS.dovecotPasswd} root:dovecot 0640`,
    ...checks,
    `install_secret ${shellWord(config.senderPasswordsSecretName)} ${PATHS.dovecotSenders} root:dovecot 0640`,
  ].join("\n");
}

/** What renderDovecot returns: the config, the role mailboxes it serves and the boot step that fetches their passwords. */
export interface DovecotFiles {
  /** The rendered dovecot.conf. */
  conf: string;
  /** Every role mailbox of every domain; each must be in the passwd-file secret. */
  mailboxes: RoleMailbox[];
  /** Boot script lines that fetch the passwd-file (see renderPasswdFetchStep). */
  bootStep: string;
  /** dovecot.conf and the restart drop-in, for cloud-init's write_files. */
  files: RenderedFile[];
}

/** Every Dovecot file the host needs, with the role mailboxes and the passwd-file boot step. */
export function renderDovecot(config: MailHostConfig): DovecotFiles {
  const conf = renderDovecotConf(config);
  return {
    conf,
    mailboxes: roleMailboxes(config),
    bootStep: renderPasswdFetchStep(config),
    files: [
      { path: PATHS.dovecotConf, content: conf, owner: "root:root", permissions: "0644" },
      { path: PATHS.dovecotRestartDropIn, content: renderRestartDropIn("dovecot.service"), owner: "root:root", permissions: "0644" },
    ],
  };
}

/** Single-quote for sh; values here are already restricted to safe alphabets, so this is belt and braces. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9/_+=.@:,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
