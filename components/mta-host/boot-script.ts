import { mtaStsPolicyHost } from "../dns/protocols/mta-sts";
import type { MailHostConfig } from "./config";
import { renderDovecot, shellWord } from "./dovecot";
import { dkimKeyPath, HOST_TOOL_USER, PATHS } from "./layout";
import { opendkimSigners } from "./opendkim";
import { unsubscribeKeySecretName } from "./unsubscribe";

/**
 * The boot script (run by the sync script after each new configuration: it
 * fetches the secrets with the instance role, puts a certificate in place and
 * starts the services) and certbot's deploy hook. Pure renderers.
 */

/**
 * Packages the configuration needs beyond the first boot's (cloud-init.ts
 * mailHostPackages), installed by the boot script when missing: adding one to
 * a release reaches running hosts in place instead of replacing them.
 */
export const CONFIG_PACKAGES = [
  "postfix-pcre", // pcre: tables (the submission header From check, the port-25 recipient check)
  "python3", // postforge-suppress (suppression.ts); in every Debian 12 cloud image already, as cloud-init runs on it
  "nodejs", // postforge-mailops (mailops-tool.ts): Debian 12's Node.js 18, for which the bundle is built
  "unbound-host", // postforge-mailops dnsbl (monitoring.ts): resolves from the root itself, not through the VPC's shared resolver
] as const;

/** The certbot lineage (--cert-name) of the host's certificate for its mta-sts.<domain> names. */
export const MTA_STS_LINEAGE_SUFFIX = "-mta-sts";

/** The certbot lineages (--cert-name) the configuration uses: the host's, and its mta-sts names'. */
export function certificateLineages(config: MailHostConfig): { host: string; policyHosts: string } {
  const mode = config.tls.staging ? "-staging" : "";
  return { host: `${config.hostname}${mode}`, policyHosts: `${config.hostname}${MTA_STS_LINEAGE_SUFFIX}${mode}` };
}

/**
 * certbot's deploy hook: installs a new or renewed certificate where its
 * readers take it. The host's own lineage goes to Postfix, Dovecot and the
 * HTTPS server; the mta-sts one only to the HTTPS server. Only the lineages
 * the configuration uses now: a staging lineage left from before
 * (`certbot renew` renews every lineage it has) never replaces a trusted one.
 */
export function renderCertDeployHook(config: MailHostConfig): string {
  const lineages = certificateLineages(config);
  return `#!/bin/sh
# certbot --deploy-hook: install a new or renewed certificate for the services that read it.
set -eu
case "$(basename "$RENEWED_LINEAGE")" in
  ${lineages.policyHosts})
    install -m 0644 -o root -g root "$RENEWED_LINEAGE/fullchain.pem" ${PATHS.mtaStsCert}
    install -m 0600 -o root -g root "$RENEWED_LINEAGE/privkey.pem" ${PATHS.mtaStsKey}
    systemctl restart postforge-unsubscribe
    ;;
  ${lineages.host})
    install -m 0644 -o root -g root "$RENEWED_LINEAGE/fullchain.pem" ${PATHS.tlsCert}
    install -m 0600 -o root -g root "$RENEWED_LINEAGE/privkey.pem" ${PATHS.tlsKey}
    postfix reload
    doveadm reload
    systemctl restart postforge-unsubscribe
    ;;
  *)
    echo "postforge-install-cert: $RENEWED_LINEAGE is not a certificate this configuration uses; left alone" >&2
    ;;
esac
`;
}

/**
 * The names of the host's two certificates: its own (SMTP, IMAP, one-click
 * unsubscribe), and `mta-sts.<domain>` for each domain whose MTA-STS policy
 * it serves (RFC 8461 §3.3: the policy host's certificate must name it).
 * Two lineages, so a policy zone whose challenge fails (a Cloudflare token
 * scoped to the host's zone, a CAA record) never keeps the MX on its
 * self-signed certificate.
 */
export function certificateNames(config: MailHostConfig): { host: string[]; policyHosts: string[] } {
  return { host: [config.hostname], policyHosts: config.domains.filter((d) => d.mtaStsPolicy !== undefined).map((d) => mtaStsPolicyHost(d.domain)) };
}

/**
 * One certbot run for `names` under `lineage`, then its certificate installed
 * by the deploy hook even when certbot kept it (--keep-until-expiring runs no
 * hook): turning staging off onto a trusted lineage still valid installs it.
 */
function certbotCommand(config: MailHostConfig, names: string[], lineage: string): string {
  const tls = config.tls;
  const args = [
    // A name added or removed (a domain's MTA-STS served from here) changes the certificate under its
    // --cert-name: non-interactive certbot accepts the new list and asks Let's Encrypt at once.
    "certbot certonly --non-interactive --agree-tos --keep-until-expiring",
    `--email ${shellWord(tls.acmeEmail)}`,
    ...names.map((name) => `-d ${name}`),
    // A staging certificate has its own name, so turning staging off fetches a trusted one
    // instead of keeping the staging one until it expires.
    `--cert-name ${lineage}`,
    `--deploy-hook ${PATHS.certDeployHook}`,
  ];
  if (tls.dnsChallenge.provider === "route53") args.push("--dns-route53");
  else args.push("--dns-cloudflare", `--dns-cloudflare-credentials ${PATHS.cloudflareCredentials}`, "--dns-cloudflare-propagation-seconds 60");
  if (tls.staging) args.push("--staging");
  return `{ ${args.join(" \\\n    ")} &&\n    RENEWED_LINEAGE=/etc/letsencrypt/live/${lineage} ${PATHS.certDeployHook}; }`;
}

/**
 * The boot script: installs missing packages, fetches DKIM keys and passwd-files
 * from Secrets Manager, serves a self-signed certificate, checks and starts the
 * services, removes keys no longer configured, then asks Let's Encrypt. Holds no secret.
 */
export function renderBootScript(config: MailHostConfig): string {
  const dovecot = renderDovecot(config);
  const signers = opendkimSigners(config);
  const checks = signers.map((a) => `opendkim -n -x ${a === "rsa" ? PATHS.opendkimConf : PATHS.opendkimEd25519Conf}`);
  const units = [...signers.map((a) => (a === "rsa" ? "opendkim" : "opendkim-ed25519")), "dovecot", "postfix", "postforge-unsubscribe", "postforge-metrics"].join(" ");
  const keyDirs = config.domains.map((d) => `install -d -o opendkim -g opendkim -m 0750 ${PATHS.dkimKeysDir}/${d.domain}`);
  const keyPaths = config.domains.flatMap((d) => d.selectors.map((s) => dkimKeyPath(d.domain, s.selector)));
  const keys = config.domains.flatMap((d) =>
    d.selectors.map((s) => `install_secret ${shellWord(s.secretName)} ${dkimKeyPath(d.domain, s.selector)} opendkim:opendkim 0600`),
  );
  const names = certificateNames(config);
  const lineages = certificateLineages(config);
  const cloudflare =
    config.tls.dnsChallenge.provider === "cloudflare"
      ? [
          "  # The Cloudflare DNS-edit token, as certbot's credentials file.",
          `  install_secret ${shellWord(config.tls.dnsChallenge.apiTokenSecretName)} ${PATHS.cloudflareCredentials}.token root:root 0600`,
          `  { printf 'dns_cloudflare_api_token = '; cat ${PATHS.cloudflareCredentials}.token; echo; } > ${PATHS.cloudflareCredentials}`,
          `  rm -f ${PATHS.cloudflareCredentials}.token`,
        ]
      : [];
  return `#!/bin/bash
# Boot of the Postforge mail host ${config.hostname}, rendered by Postforge.
# This script holds no secret: it fetches them from Secrets Manager with the
# instance role. Safe to re-run; "${PATHS.bootScript} certificate" retries
# only the Let's Encrypt step.
set -euo pipefail
umask 077
REGION=${config.awsRegion}

log() { echo "postforge-boot: $*" >&2; }
fail() { log "$*"; exit 1; }

# Write a secret's value to a file atomically, with the given owner and mode.
# The value goes from the AWS CLI straight to the file: never argv, never the log.
install_secret() {
  local name=$1 dest=$2 owner=$3 mode=$4 tmp
  tmp=$(mktemp "$(dirname "$dest")/.postforge.XXXXXX")
  if ! aws secretsmanager get-secret-value --secret-id "$name" --region "$REGION" --query SecretString --output text >"$tmp"; then
    rm -f "$tmp"
    fail "cannot read secret $name in $REGION: does the instance role allow secretsmanager:GetSecretValue on it?"
  fi
  if [ ! -s "$tmp" ]; then
    rm -f "$tmp"
    fail "secret $name is empty"
  fi
  chown "$owner" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
}

require_mailbox() {
  grep -q "^$1:" ${PATHS.dovecotPasswd} ||
    fail "mailbox $1 is missing from secret ${config.mailboxPasswordsSecretName}: add a passwd-file line for it (MailHost writes one SHA512-CRYPT line per mailbox; doveadm pw -s SHA512-CRYPT makes a hash by hand)"
}

# Let's Encrypt over DNS-01; until it succeeds the self-signed certificate
# serves and an hourly cron job retries. certbot renews from then on.
certificate() {
${cloudflare.join("\n")}${cloudflare.length > 0 ? "\n" : ""}  local ok=1
  ${certbotCommand(config, names.host, lineages.host)} || ok=0
${names.policyHosts.length > 0 ? `  # The MTA-STS policy hosts' names: a lineage of their own.
  ${certbotCommand(config, names.policyHosts, lineages.policyHosts)} || ok=0
` : ""}  if [ "$ok" = 1 ]; then
    rm -f /etc/cron.d/postforge-certificate
  else
    log "Let's Encrypt failed; keeping the self-signed certificate and retrying hourly"
    echo "17 * * * * root ${PATHS.bootScript} certificate" >/etc/cron.d/postforge-certificate
    chmod 0644 /etc/cron.d/postforge-certificate
  fi
}

if [ "\${1:-}" = certificate ]; then
  certificate
  exit 0
fi

# 0. Packages this configuration needs beyond the first boot's.
missing=""
for package in ${CONFIG_PACKAGES.join(" ")}; do
  dpkg-query -W -f='\${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  log "installing$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# 1. The owner of every mailbox.
getent group vmail >/dev/null || groupadd --system vmail
getent passwd vmail >/dev/null || useradd --system --gid vmail --home-dir ${PATHS.mailRoot} --no-create-home --shell /usr/sbin/nologin vmail
install -d -o vmail -g vmail -m 0750 ${PATHS.mailRoot}
#    The user the host's own tools run as under Postfix (the warm-up policy), and the state it keeps.
getent group ${HOST_TOOL_USER} >/dev/null || groupadd --system ${HOST_TOOL_USER}
getent passwd ${HOST_TOOL_USER} >/dev/null || useradd --system --gid ${HOST_TOOL_USER} --home-dir ${PATHS.warmupDir} --no-create-home --shell /usr/sbin/nologin ${HOST_TOOL_USER}
install -d -o ${HOST_TOOL_USER} -g ${HOST_TOOL_USER} -m 0755 ${PATHS.warmupDir}
install -d -o ${HOST_TOOL_USER} -g ${HOST_TOOL_USER} -m 0750 ${PATHS.intakeSpool}
install -d -m 0700 ${PATHS.mailopsState}
#    The Prometheus text: written by root's apply, read by the exporter (${HOST_TOOL_USER}).
install -d -o root -g root -m 0755 ${PATHS.metricsDir}

# 2. DKIM private keys, readable by opendkim alone (RequireSafeKeys); the signers' sockets, reachable by Postfix alone.
install -d -o opendkim -g opendkim -m 0750 ${PATHS.dkimKeysDir}
install -d -o opendkim -g postfix -m 0750 ${PATHS.opendkimSocketDir}
${keyDirs.join("\n")}
${keys.join("\n")}

# 3. Role mailboxes.
${dovecot.bootStep}

# 4. A self-signed certificate first, so every service starts before Let's Encrypt answers.
install -d -o root -g root -m 0755 ${PATHS.tlsDir}
if [ ! -s ${PATHS.tlsCert} ] || [ ! -s ${PATHS.tlsKey} ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days ${config.tls.selfSignedDays} \\
    -subj "/CN=${config.hostname}" -addext "subjectAltName=DNS:${config.hostname}" \\
    -keyout ${PATHS.tlsKey} -out ${PATHS.tlsCert} 2>/dev/null
  chmod 0600 ${PATHS.tlsKey}
  chmod 0644 ${PATHS.tlsCert}
fi${
    names.policyHosts.length > 0
      ? `
if [ ! -s ${PATHS.mtaStsCert} ] || [ ! -s ${PATHS.mtaStsKey} ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days ${config.tls.selfSignedDays} \\
    -subj "/CN=postforge-self-signed" -addext "subjectAltName=${names.policyHosts.map((n) => `DNS:${n}`).join(",")}" \\
    -keyout ${PATHS.mtaStsKey} -out ${PATHS.mtaStsCert} 2>/dev/null
  chmod 0600 ${PATHS.mtaStsKey}
  chmod 0644 ${PATHS.mtaStsCert}
fi`
      : ""
  }

# 4b. The one-click unsubscribe key (RFC 8058): root's alone; the server reads it before it drops to ${HOST_TOOL_USER}.
install_secret ${shellWord(unsubscribeKeySecretName(config.hostname))} ${PATHS.unsubscribeKey} root:root 0600

# 5. The suppression list: a new host's from its DynamoDB copy (a replaced host refuses what the old one did), then
#    the submission table, rendered from it before Postfix reads it. A list that cannot be read must not keep the
#    host down: submission then starts with what it has, and cron's sync restores the copy when it can.
${PATHS.suppressTool} restore || log "the suppression list's DynamoDB copy could not be read (see above); postforge-suppress sync retries every five minutes"
if ! ${PATHS.suppressTool} render; then
  log "the suppression list could not be rendered (see above); submission starts without it until it is fixed"
  install -d -m 0750 ${PATHS.suppressionDir}
  [ -e ${PATHS.suppressionAccess} ] || install -m 0644 /dev/null ${PATHS.suppressionAccess}
fi

# 6. Services, checked before they start; a signer no longer configured stops.
postfix -c ${PATHS.postfixDir} check
doveconf -c ${PATHS.dovecotConf} -n >/dev/null
${checks.join("\n")}
systemctl daemon-reload
${signers.includes("ed25519") ? "" : "systemctl disable --now opendkim-ed25519 2>/dev/null || true\n"}systemctl enable ${units}
systemctl restart ${units}

# 7. Keys no longer configured (retired, revoked) leave the host.
find ${PATHS.dkimKeysDir} -name '*.private' -type f | while read -r key; do
  case "$key" in
${keyPaths.map((k) => `    ${k}) ;;`).join("\n")}
    *) rm -f "$key"; log "removed $key: no longer a signing key" ;;
  esac
done

# 8. The real certificate; a failure here leaves the self-signed one serving and is retried hourly.
( certificate ) || { log "certificate step failed; retrying hourly"; echo "17 * * * * root ${PATHS.bootScript} certificate" >/etc/cron.d/postforge-certificate; chmod 0644 /etc/cron.d/postforge-certificate; }
log "done"
`;
}

