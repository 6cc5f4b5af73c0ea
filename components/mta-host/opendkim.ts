import type { MailHostConfig } from "./config";
import { dkimKeyPath, OPENDKIM_MILTERS, PATHS, type RenderedFile } from "./layout";

/**
 * OpenDKIM for a Postforge mail host: every sending domain signed with each of
 * its active selectors, inbound mail verified. Keys are the files the boot
 * script fetches from Secrets Manager; nothing here holds key material.
 *
 * Dual signing (RSA + Ed25519, RFC 8463) takes two OpenDKIM instances:
 * OpenDKIM 2.11 (Debian 12) signs every message with one global
 * SignatureAlgorithm, and an Ed25519 key under the default rsa-sha256 fails
 * with "4.7.0 resource unavailable" (found by running it; see
 * test/support/mta-daemons.ts). So /etc/opendkim.conf (Debian's unit) signs
 * RSA and verifies, and /etc/opendkim-ed25519.conf, with its own unit, signs
 * Ed25519 only; Postfix runs them as two milters, RSA first. The second
 * instance exists only when some domain has an Ed25519 selector.
 */

export type DkimAlgorithm = "rsa" | "ed25519";

/** The OpenDKIM instances this host runs: always the RSA one (it also verifies), then Ed25519 if any domain has such a selector. */
export function opendkimSigners(config: MailHostConfig): DkimAlgorithm[] {
  const ed25519 = config.domains.some((d) => d.selectors.some((s) => s.algorithm === "ed25519"));
  return ed25519 ? ["rsa", "ed25519"] : ["rsa"];
}

/** `<selector>._domainkey.<domain> <domain>:<selector>:<key file>`, one line per active selector of the algorithm. */
export function renderKeyTable(config: MailHostConfig, algorithm: DkimAlgorithm): string {
  return lines(
    config.domains.flatMap((d) =>
      d.selectors
        .filter((s) => s.algorithm === algorithm)
        .map((s) => `${s.selector}._domainkey.${d.domain} ${d.domain}:${s.selector}:${dkimKeyPath(d.domain, s.selector)}`),
    ),
  );
}

/** refile SigningTable: `*@<domain> <KeyTable entry>` for the algorithm's selectors. */
export function renderSigningTable(config: MailHostConfig, algorithm: DkimAlgorithm): string {
  return lines(
    config.domains.flatMap((d) =>
      d.selectors.filter((s) => s.algorithm === algorithm).map((s) => `*@${d.domain} ${s.selector}._domainkey.${d.domain}`),
    ),
  );
}

/** Hosts whose mail is signed rather than verified (InternalHosts) and never checked (ExternalIgnoreList): loopback only; submission clients are signed because they authenticate. */
export function renderTrustedHosts(_config: MailHostConfig): string {
  return lines(["127.0.0.1", "::1", "localhost"]);
}

const TABLES = {
  rsa: { keyTable: PATHS.keyTable, signingTable: PATHS.signingTable, pid: "opendkim.pid", mode: "sv", signatureAlgorithm: "rsa-sha256" },
  ed25519: { keyTable: PATHS.keyTableEd25519, signingTable: PATHS.signingTableEd25519, pid: "opendkim-ed25519.pid", mode: "s", signatureAlgorithm: "ed25519-sha256" },
} as const;

export function renderOpenDkimConf(config: MailHostConfig, algorithm: DkimAlgorithm): string {
  const t = TABLES[algorithm];
  const milter = OPENDKIM_MILTERS[algorithm];
  const settings: [string, string][] = [
    ["Syslog", "yes"],
    ["SyslogSuccess", "yes"],
    ["LogWhy", "yes"],
    ["UMask", "007"],
    ["UserID", "opendkim"],
    ["PidFile", `${PATHS.opendkimRun}/${t.pid}`],
    ["Socket", `inet:${milter.port}@${milter.address}`],
    ["Mode", t.mode],
    ["SignatureAlgorithm", t.signatureAlgorithm],
    ["Canonicalization", "relaxed/simple"],
    ["OversignHeaders", "From"],
    ["MultipleSignatures", "yes"],
    ["KeyTable", `file:${t.keyTable}`],
    ["SigningTable", `refile:${t.signingTable}`],
    ["InternalHosts", `file:${PATHS.trustedHosts}`],
    ["ExternalIgnoreList", `file:${PATHS.trustedHosts}`],
    // Key files must be readable by opendkim alone, in directories no one else can write; refuse to sign otherwise.
    ["RequireSafeKeys", "yes"],
    ["TrustAnchorFile", "/usr/share/dns/root.key"],
  ];
  const width = Math.max(...settings.map(([k]) => k.length)) + 2;
  return lines([
    `# OpenDKIM ${algorithm === "rsa" ? "RSA signer and verifier" : "Ed25519 signer"} for ${config.hostname}, rendered by Postforge. Regenerate rather than edit.`,
    ...settings.map(([k, v]) => `${k.padEnd(width)}${v}`),
  ]);
}

/** The second instance's unit, shaped like Debian's opendkim.service (/run/opendkim comes from Debian's tmpfiles.d). */
export function renderOpenDkimEd25519Unit(): string {
  return `[Unit]
Description=OpenDKIM Ed25519 signer (Postforge)
After=network-online.target nss-lookup.target
Wants=network-online.target

[Service]
Type=forking
PIDFile=${PATHS.opendkimRun}/${TABLES.ed25519.pid}
ExecStart=/usr/sbin/opendkim -x ${PATHS.opendkimEd25519Conf}
ExecReload=/bin/kill -USR1 $MAINPID
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

export interface OpenDkimFiles {
  /** The signers this host runs, RSA first. */
  signers: DkimAlgorithm[];
  files: RenderedFile[];
}

export function renderOpenDkim(config: MailHostConfig): OpenDkimFiles {
  const signers = opendkimSigners(config);
  const file = (path: string, content: string): RenderedFile => ({ path, content, owner: "root:root", permissions: "0644" });
  const files = [
    file(PATHS.opendkimConf, renderOpenDkimConf(config, "rsa")),
    file(PATHS.keyTable, renderKeyTable(config, "rsa")),
    file(PATHS.signingTable, renderSigningTable(config, "rsa")),
    file(PATHS.trustedHosts, renderTrustedHosts(config)),
  ];
  if (signers.includes("ed25519")) {
    files.push(
      file(PATHS.opendkimEd25519Conf, renderOpenDkimConf(config, "ed25519")),
      file(PATHS.keyTableEd25519, renderKeyTable(config, "ed25519")),
      file(PATHS.signingTableEd25519, renderSigningTable(config, "ed25519")),
      file(PATHS.opendkimEd25519Unit, renderOpenDkimEd25519Unit()),
    );
  }
  return { signers, files };
}

function lines(items: string[]): string {
  return items.join("\n") + "\n";
}
