import type { MailHostConfig } from "./config";
import { dkimKeyPath, OPENDKIM_MILTERS, PATHS, type RenderedFile } from "./layout";
import { renderRestartDropIn } from "./systemd";

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

/** The algorithm an OpenDKIM instance signs with; one instance per algorithm. */
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

/**
 * refile SigningTable: `*@<domain> <KeyTable entry>` for the algorithm's
 * selectors, and `*@*.<domain>` to the same key unless the domain's DMARC
 * asks for strict alignment: a subdomain's mail is signed d=<domain>, which
 * aligns under relaxed adkim (RFC 7489 §3.1.1). Strict domains refuse such
 * mail at submission instead (postfix.ts), so it never leaves unsigned.
 */
export function renderSigningTable(config: MailHostConfig, algorithm: DkimAlgorithm): string {
  return lines(
    config.domains.flatMap((d) =>
      d.selectors
        .filter((s) => s.algorithm === algorithm)
        .flatMap((s) => [
          `*@${d.domain} ${s.selector}._domainkey.${d.domain}`,
          ...(d.strictDkimAlignment ? [] : [`*@*.${d.domain} ${s.selector}._domainkey.${d.domain}`]),
        ]),
    ),
  );
}

/**
 * Header fields both signers sign when present (RFC 6376 §5.4.1's list,
 * plus MIME structure, and what RFC 8058 one-click unsubscribe and Gmail's
 * Feedback-ID need under the signature).
 */
export const SIGNED_HEADERS = [
  "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "Sender", "In-Reply-To", "References",
  "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
  "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
] as const;

/**
 * Signed once more than they occur (RFC 6376 §8.15), so no copy can be added
 * in transit without breaking the signature: the fields a receiver shows or
 * acts on.
 */
export const OVERSIGNED_HEADERS = ["From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post"] as const;

/** Hosts whose mail is signed rather than verified (InternalHosts) and never checked (ExternalIgnoreList): loopback only; submission clients are signed because they authenticate. */
export function renderTrustedHosts(_config: MailHostConfig): string {
  return lines(["127.0.0.1", "::1", "localhost"]);
}

const TABLES = {
  rsa: { keyTable: PATHS.keyTable, signingTable: PATHS.signingTable, pid: "opendkim.pid", mode: "sv", signatureAlgorithm: "rsa-sha256" },
  ed25519: { keyTable: PATHS.keyTableEd25519, signingTable: PATHS.signingTableEd25519, pid: "opendkim-ed25519.pid", mode: "s", signatureAlgorithm: "ed25519-sha256" },
} as const;

/** The opendkim.conf of one signer: the RSA one signs and verifies (Mode sv), the Ed25519 one only signs. */
export function renderOpenDkimConf(config: MailHostConfig, algorithm: DkimAlgorithm): string {
  const t = TABLES[algorithm];
  const milter = OPENDKIM_MILTERS[algorithm];
  const settings: [string, string][] = [
    ["Syslog", "yes"],
    ["SyslogSuccess", "yes"],
    ["LogWhy", "yes"],
    // The socket is made opendkim:postfix 0770 in a directory of the same owners, 0750:
    // Postfix can reach the signer, no other local user can have mail signed.
    ["UMask", "007"],
    ["UserID", "opendkim:postfix"],
    ["PidFile", `${PATHS.opendkimRun}/${t.pid}`],
    ["Socket", `local:${milter.socket}`],
    ["Mode", t.mode],
    ["SignatureAlgorithm", t.signatureAlgorithm],
    ["Canonicalization", "relaxed/simple"],
    ["SignHeaders", SIGNED_HEADERS.join(",")],
    ["OversignHeaders", OVERSIGNED_HEADERS.join(",")],
    ["MultipleSignatures", "yes"],
    ["KeyTable", `file:${t.keyTable}`],
    ["SigningTable", `refile:${t.signingTable}`],
    ["InternalHosts", `file:${PATHS.trustedHosts}`],
    ["ExternalIgnoreList", `file:${PATHS.trustedHosts}`],
    // Key files must be readable by opendkim alone, in directories no one else can write; refuse to sign otherwise.
    ["RequireSafeKeys", "yes"],
    ["TrustAnchorFile", "/usr/share/dns/root.key"],
    // The verifier's results carry the host's name, and any Authentication-Results field a sender wrote in
    // that name is removed first (RFC 8601 §5): a forged "dmarc=pass" must never read as the host's own.
    ...(t.mode.includes("v")
      ? ([
          ["AuthservID", config.hostname],
          ["RemoveARAll", "yes"],
          ["AlwaysAddARHeader", "yes"],
        ] as [string, string][])
      : []),
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
StartLimitIntervalSec=0

[Service]
Type=forking
PIDFile=${PATHS.opendkimRun}/${TABLES.ed25519.pid}
ExecStart=/usr/sbin/opendkim -x ${PATHS.opendkimEd25519Conf}
ExecReload=/bin/kill -USR1 $MAINPID
Restart=on-failure
RestartSec=1s

[Install]
WantedBy=multi-user.target
`;
}

/** What renderOpenDkim returns: the signers the host runs and the files they need. */
export interface OpenDkimFiles {
  /** The signers this host runs, RSA first. */
  signers: DkimAlgorithm[];
  /** Configs, key and signing tables, trusted hosts and units, for cloud-init's write_files. */
  files: RenderedFile[];
}

/** Every OpenDKIM file the host needs: the RSA signer's, and the Ed25519 signer's when a domain has such a selector. */
export function renderOpenDkim(config: MailHostConfig): OpenDkimFiles {
  const signers = opendkimSigners(config);
  const file = (path: string, content: string): RenderedFile => ({ path, content, owner: "root:root", permissions: "0644" });
  const files = [
    file(PATHS.opendkimConf, renderOpenDkimConf(config, "rsa")),
    file(PATHS.keyTable, renderKeyTable(config, "rsa")),
    file(PATHS.signingTable, renderSigningTable(config, "rsa")),
    file(PATHS.trustedHosts, renderTrustedHosts(config)),
    file(PATHS.opendkimRestartDropIn, renderRestartDropIn("opendkim.service")),
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
