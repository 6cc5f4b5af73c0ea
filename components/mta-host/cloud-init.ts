import { stringify } from "yaml";
import type { MailHostConfig } from "./config";
import { PATHS, type RenderedFile } from "./layout";
import { syncFiles } from "./sync";

/**
 * The mail host's user-data: cloud-init installs the packages and the sync
 * machinery (./sync.ts), enables its timer and runs it once. The sync script
 * fetches the config manifest (every rendered file and the boot script, see
 * ./config-manifest.ts) and runs the boot script, which fetches the secrets
 * with the instance role, puts a certificate in place and starts the services.
 * User-data so depends only on the host's name, region and DNS provider: a
 * configuration change reaches the running host instead of replacing it.
 *
 * User-data is readable by anything on the host that can reach the instance
 * metadata service and is kept in the launch template, so it holds no secret:
 * only the names of the secrets to fetch. Everything here is derived from the
 * config, which has no field for secret material.
 */

/**
 * Debian 12 packages the host's first boot installs. Fixed: a package a later
 * configuration needs goes in the boot script's CONFIG_PACKAGES instead, since
 * a change here changes user-data, which replaces the instance.
 */
export function mailHostPackages(config: MailHostConfig): string[] {
  const dnsPlugin = config.tls.dnsChallenge.provider === "route53" ? "python3-certbot-dns-route53" : "python3-certbot-dns-cloudflare";
  return [
    "awscli",
    "ca-certificates",
    "certbot",
    "cron",
    "dns-root-data", // OpenDKIM's TrustAnchorFile
    "dovecot-core",
    "dovecot-imapd",
    "dovecot-lmtpd",
    "opendkim",
    "openssl",
    "postfix",
    "python3", // postforge-write-files
    dnsPlugin,
  ];
}

function cloudInitFile(file: RenderedFile): Record<string, unknown> {
  // Deferred to the final stage: the owners (opendkim, dovecot) exist only once the packages are in.
  return { path: file.path, owner: file.owner, permissions: file.permissions, defer: true, content: file.content };
}

/**
 * The host's user-data as a `#cloud-config` document: the packages, the sync
 * machinery, and commands that enable its timer and run it once. Holds no secret.
 */
export function renderCloudInit(config: MailHostConfig): string {
  const document = {
    package_update: true,
    package_upgrade: true,
    apt: {
      // Our main.cf is the whole configuration: the postfix package must not write one.
      debconf_selections: { postfix: "postfix postfix/main_mailer_type select No configuration\n" },
    },
    packages: mailHostPackages(config),
    write_files: syncFiles(config).map(cloudInitFile),
    // The timer first, so a failed first apply (say, the manifest not readable yet) is retried.
    runcmd: [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "postforge-sync.timer"], [PATHS.syncScript]],
  };
  return `#cloud-config\n# Postforge mail host ${config.hostname}. Holds no secret; see ${PATHS.syncScript}.\n${stringify(document, { lineWidth: 0 })}`;
}
