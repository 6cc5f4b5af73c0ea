import * as fs from "node:fs";
import * as path from "node:path";
import type { MailHostConfig } from "./config";
import { HOST_TOOL_USER, CRON_PATH, PATHS } from "./layout";
import { regexQuote } from "./pcre";

/**
 * The host's postforge-mailops (components/sending/host-mailops.ts), and the
 * Postfix tables that bring it mail. The tool is TypeScript bundled by `npm
 * run build` into one file for Debian 12's nodejs; the manifest carries that
 * file as built, so the host runs the readers the tests run.
 */

/** Where the build puts the bundle, under the package root. */
export const MAILOPS_BUNDLE = "dist/host/postforge-mailops.js";

let bundle: string | undefined;

/** The bundle's text: read once from the package this module belongs to (source or dist). */
export function renderMailopsTool(): string {
  if (bundle !== undefined) return bundle;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "postforge") {
      const file = path.join(dir, MAILOPS_BUNDLE);
      if (!fs.existsSync(file)) throw new Error(`${file} is missing: the mail host's postforge-mailops is built by \`npm run build\` (npm ci runs it); run it, then try again`);
      return (bundle = fs.readFileSync(file, "utf8"));
    }
    if (path.dirname(dir) === dir) throw new Error(`the postforge package (with ${MAILOPS_BUNDLE}) was not found above ${__dirname}`);
  }
}

/** The cron line: every minute, new log lines and intake events decided into the suppression list. */
export function renderMailopsCron(): string {
  return `# Rendered by Postforge: bounces, complaints and the delivery log into the suppression list (postforge-mailops).\n${CRON_PATH}\n* * * * * root ${PATHS.mailopsTool} apply\n`;
}

/** The intake address for complaints: an alias of the feedback-loop mailbox (its copy goes to the pipe). */
export function complaintIntakeAddress(domain: MailHostConfig["domains"][number]): string {
  return `${domain.roles.feedbackLoop}+intake@${domain.domain}`;
}

/**
 * A VERP bounce address of a sending domain: Postfix writes the sender
 * noreply@example.com, for the recipient alice@example.org, as
 * noreply+alice=example.org@example.com (default_verp_delimiters "+=").
 * Every submission asks for VERP (the command filter below), so each
 * sender's bounces, Postfix's own DSNs included, come back to the host with
 * the recipient in the address; SPF passes for the sender's domain, aligned
 * with the header From under relaxed DMARC (strict where the From is in the
 * domain itself).
 */
function verpPattern(config: MailHostConfig): string {
  return `/^[^@+]+\\+[^@]+=[^@=]+@(?:${config.domains.map((d) => regexQuote(d.domain)).join("|")})$/`;
}

/** verp_bounce_addresses (pcre, virtual_mailbox_maps): the VERP bounce addresses are ours to accept. */
export function renderVerpBounceAddresses(config: MailHostConfig): string {
  return ["# The sending domains' VERP bounce addresses (sender+recipient=domain@ours), rendered by Postforge.", `${verpPattern(config)} OK`, ""].join("\n");
}

/** transport_maps (pcre): the VERP bounce addresses and each domain's complaint intake to their pipes. */
export function renderTransportMaps(config: MailHostConfig): string {
  return [
    "# Bounces and complaints to the host's intake (postforge-mailops), rendered by Postforge. First match wins.",
    ...config.domains.map((d) => `/^${regexQuote(complaintIntakeAddress(d))}$/ postforge-complaint:`),
    `${verpPattern(config)} postforge-bounce:`,
    "",
  ].join("\n");
}

/** submission_command_filter (pcre): MAIL FROM with a sender asks for VERP, unless it already does. */
export function renderSubmissionCommandFilter(): string {
  return [
    "# Submission's MAIL FROM asks for VERP (one envelope sender per recipient), rendered by Postforge.",
    "/^(MAIL FROM:\\s*<[^>]+>)((?:(?!\\sXVERP).)*)$/ $1$2 XVERP",
    "",
  ].join("\n");
}

/** The pipes in master.cf: one message per recipient, run as HOST_TOOL_USER. */
export function mailopsMasterRows(config: MailHostConfig): { service: string; args: string }[] {
  return [
    { service: "postforge-bounce", args: `flags=q user=${HOST_TOOL_USER} argv=${PATHS.mailopsTool} intake-bounce \${recipient}` },
    { service: "postforge-complaint", args: `flags=q user=${HOST_TOOL_USER} argv=${PATHS.mailopsTool} intake-complaint ${config.hostname}` },
  ];
}
