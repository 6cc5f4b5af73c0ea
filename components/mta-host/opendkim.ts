import type { MailHostConfig } from "./config";
import { dkimKeyPath, OPENDKIM_MILTER, PATHS, type RenderedFile } from "./layout";

/**
 * OpenDKIM for a Postforge mail host: every sending domain signed with each of
 * its active selectors (an RSA and an Ed25519 key give two signatures, RFC 8463
 * dual signing), inbound mail verified. Keys are the files the boot script
 * fetches from Secrets Manager; nothing here holds key material.
 */

/** `<selector>._domainkey.<domain> <domain>:<selector>:<key file>`, one line per active selector. */
export function renderKeyTable(config: MailHostConfig): string {
  return lines(
    config.domains.flatMap((d) =>
      d.selectors.map((s) => `${s.selector}._domainkey.${d.domain} ${d.domain}:${s.selector}:${dkimKeyPath(d.domain, s.selector)}`),
    ),
  );
}

/**
 * refile SigningTable: `*@<domain> <KeyTable entry>`. With MultipleSignatures
 * every matching line signs, so a domain with an RSA and an Ed25519 selector
 * gets both signatures. RSA first: receivers that stop at the first signature
 * they can verify (RFC 6376 §6.1) mostly know RSA only.
 */
export function renderSigningTable(config: MailHostConfig): string {
  const order = { rsa: 0, ed25519: 1 } as const;
  return lines(
    config.domains.flatMap((d) =>
      [...d.selectors].sort((a, b) => order[a.algorithm] - order[b.algorithm]).map((s) => `*@${d.domain} ${s.selector}._domainkey.${d.domain}`),
    ),
  );
}

/** Hosts whose mail is signed rather than verified (InternalHosts) and never checked (ExternalIgnoreList): loopback only; submission clients are signed because they authenticate. */
export function renderTrustedHosts(_config: MailHostConfig): string {
  return lines(["127.0.0.1", "::1", "localhost"]);
}

export function renderOpenDkimConf(config: MailHostConfig): string {
  const settings: [string, string][] = [
    ["Syslog", "yes"],
    ["SyslogSuccess", "yes"],
    ["LogWhy", "yes"],
    ["UMask", "007"],
    ["UserID", "opendkim"],
    ["PidFile", `${PATHS.opendkimRun}/opendkim.pid`],
    ["Socket", `inet:${OPENDKIM_MILTER.port}@${OPENDKIM_MILTER.address}`],
    ["Mode", "sv"],
    ["Canonicalization", "relaxed/simple"],
    ["OversignHeaders", "From"],
    ["MultipleSignatures", "yes"],
    ["KeyTable", `file:${PATHS.keyTable}`],
    ["SigningTable", `refile:${PATHS.signingTable}`],
    ["InternalHosts", `file:${PATHS.trustedHosts}`],
    ["ExternalIgnoreList", `file:${PATHS.trustedHosts}`],
    // Key files must be readable by opendkim alone; refuse to start otherwise.
    ["RequireSafeKeys", "yes"],
    ["TrustAnchorFile", "/usr/share/dns/root.key"],
  ];
  const width = Math.max(...settings.map(([k]) => k.length)) + 2;
  return lines([
    `# OpenDKIM for ${config.hostname}, rendered by Postforge. Regenerate rather than edit.`,
    ...settings.map(([k, v]) => `${k.padEnd(width)}${v}`),
  ]);
}

export interface OpenDkimFiles {
  conf: string;
  keyTable: string;
  signingTable: string;
  trustedHosts: string;
  files: RenderedFile[];
}

export function renderOpenDkim(config: MailHostConfig): OpenDkimFiles {
  const conf = renderOpenDkimConf(config);
  const keyTable = renderKeyTable(config);
  const signingTable = renderSigningTable(config);
  const trustedHosts = renderTrustedHosts(config);
  const file = (path: string, content: string): RenderedFile => ({ path, content, owner: "root:root", permissions: "0644" });
  return {
    conf,
    keyTable,
    signingTable,
    trustedHosts,
    files: [
      file(PATHS.opendkimConf, conf),
      file(PATHS.keyTable, keyTable),
      file(PATHS.signingTable, signingTable),
      file(PATHS.trustedHosts, trustedHosts),
    ],
  };
}

function lines(items: string[]): string {
  return items.join("\n") + "\n";
}
