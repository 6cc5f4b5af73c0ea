import { gzipSync } from "node:zlib";
import { renderSuppressionCron, renderSuppressTool } from "./suppression";
import { renderMailopsCron, renderMailopsTool } from "./mailops-tool";
import { renderUnsubscribeServer, renderUnsubscribeUnit } from "./unsubscribe";
import { renderDnsblCron, renderMetricsUnit, renderMonitoringSettings, renderSyncCheckedDropIn } from "./monitoring";
import { renderWarmupCron, renderWarmupSchedule, renderWarmupTool } from "./warmup-gate";
import { renderBootScript, renderCertDeployHook } from "./boot-script";
import type { MailHostConfig } from "./config";
import { renderDovecot } from "./dovecot";
import { mtaStsPolicyPath, PATHS, type RenderedFile } from "./layout";
import { renderOpenDkim } from "./opendkim";
import { renderPostfix } from "./postfix";

/**
 * The host's configuration as one document the host fetches and applies
 * itself (components/mta-host/sync.ts), instead of baking it into user-data:
 * cloud-init runs user-data once per instance, so a configuration carried
 * there (a key becoming active, a new domain) could only reach the host by
 * replacing the instance, losing its mail queue and mailboxes and leaving no
 * host until the new one booted. The manifest holds no secret: the boot
 * script in it fetches those by name.
 */

/** The format tag of a config manifest; the host's write-files script refuses any other. */
export const CONFIG_MANIFEST_FORMAT = "postforge-mail-host-config/1";

/** The config manifest: every file of one host's configuration, tagged with its format and the host it is for. */
export interface ConfigManifest {
  /** The manifest format, CONFIG_MANIFEST_FORMAT; the host refuses any other. */
  format: typeof CONFIG_MANIFEST_FORMAT;
  /** The host the manifest is for; the host refuses one for another name. */
  hostname: string;
  /** The files to write, with their owner and mode (see mailHostFiles). */
  files: RenderedFile[];
}

/** Where MailHost stores the manifest in Secrets Manager (KMS-encrypted like the host's other secrets). */
export function configManifestSecretName(hostname: string): string {
  return `postforge/mail-host/${hostname}/config`;
}

/** Every file of the host's configuration (the config manifest's), rendered files first, then the scripts. */
export function mailHostFiles(config: MailHostConfig): RenderedFile[] {
  return [
    ...renderPostfix(config),
    ...renderOpenDkim(config).files,
    ...renderDovecot(config).files,
    { path: PATHS.certDeployHook, content: renderCertDeployHook(config), owner: "root:root", permissions: "0755" },
    { path: PATHS.bootScript, content: renderBootScript(config), owner: "root:root", permissions: "0700" },
    { path: PATHS.suppressTool, content: renderSuppressTool(config), owner: "root:root", permissions: "0755" },
    { path: PATHS.suppressionCron, content: renderSuppressionCron(), owner: "root:root", permissions: "0644" },
    { path: PATHS.warmupTool, content: renderWarmupTool(), owner: "root:root", permissions: "0755" },
    { path: PATHS.warmupSchedule, content: renderWarmupSchedule(config), owner: "root:root", permissions: "0644" },
    { path: PATHS.warmupCron, content: renderWarmupCron(), owner: "root:root", permissions: "0644" },
    { path: PATHS.mailopsTool, content: renderMailopsTool(), owner: "root:root", permissions: "0755" },
    { path: PATHS.mailopsCron, content: renderMailopsCron(), owner: "root:root", permissions: "0644" },
    { path: PATHS.unsubscribeServer, content: renderUnsubscribeServer(), owner: "root:root", permissions: "0755" },
    { path: PATHS.unsubscribeUnit, content: renderUnsubscribeUnit(config), owner: "root:root", permissions: "0644" },
    // Public files, read by the HTTPS server after it drops to its user; written before the boot script restarts it.
    ...config.domains.flatMap((d) => (d.mtaStsPolicy === undefined ? [] : [{ path: mtaStsPolicyPath(d.domain), content: d.mtaStsPolicy, owner: "root:root", permissions: "0644" }])),
    { path: PATHS.monitoringSettings, content: renderMonitoringSettings(config), owner: "root:root", permissions: "0644" },
    { path: PATHS.metricsUnit, content: renderMetricsUnit(config), owner: "root:root", permissions: "0644" },
    { path: PATHS.dnsblCron, content: renderDnsblCron(config), owner: "root:root", permissions: "0644" },
    { path: PATHS.syncCheckedDropIn, content: renderSyncCheckedDropIn(), owner: "root:root", permissions: "0644" },
  ];
}

/** The host's config manifest as data: its format, its host name and every file of its configuration. */
export function configManifest(config: MailHostConfig): ConfigManifest {
  return { format: CONFIG_MANIFEST_FORMAT, hostname: config.hostname, files: mailHostFiles(config) };
}

/** The manifest as stored: stable JSON, so an unchanged configuration is an unchanged secret value. */
export function renderConfigManifest(config: MailHostConfig): string {
  return `${JSON.stringify(configManifest(config), null, 1)}\n`;
}

/** Secrets Manager's limit on a secret value. */
export const SECRET_VALUE_LIMIT = 65_536;

/**
 * The manifest as the secret stores it: gzip-compressed, then base64, which
 * fits about five times more configuration in Secrets Manager's 64 KiB. The
 * sync script decodes it; Node's gzip writes no timestamp, so the same
 * manifest always encodes the same.
 */
export function encodeConfigManifest(text: string): string {
  return gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64");
}
