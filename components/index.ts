/**
 * The `postforge` package: the high-level `MailStack` and the components it
 * is made of, for other teams' Pulumi programs. Importing it registers
 * nothing and reads no config; each class registers resources only when
 * constructed. More of each module under the subpaths: `postforge/dns`,
 * `postforge/protocols`, `postforge/dkim`, `postforge/mta-host`,
 * `postforge/config`, `postforge/sending`, `postforge/monitoring`,
 * `postforge/reports`, `postforge/mta-sts`, `postforge/stack`, `postforge/policies`.
 */
export { MailStack, MAIL_STACK_TYPE, planMailStack, type MailStackArgs, type MailStackPlan } from "./stack";
export { readStackConfig, stackConfigFromValues, stackConfigSchema, type StackConfig, type StackConfigInput } from "./config";
export { StackSettings, type StackSettingsArgs } from "./config/stack-settings";
export { MailDomain, type MailDomainArgs } from "./dns/mail-domain";
export { CloudflareBackend } from "./dns/providers/cloudflare";
export { Route53Backend } from "./dns/providers/route53";
export type { DnsBackend, DnsRecordInput } from "./dns/backend";
export type { DnsRecord } from "./dns/model";
export { DkimKeyring, type DkimKeyringArgs } from "./dkim/keyring";
export { DkimKey } from "./dkim/dkim-key";
export { MailHost, type MailHostArgs } from "./mta-host/mail-host";
export { MtaStsPolicyServed, type MtaStsPolicyServedArgs } from "./mta-host/mta-sts-served";
export { MtaStsPolicySite, type MtaStsPolicySiteArgs, type MtaStsPolicySiteDomain } from "./mta-sts/policy-site";
export type { MailHostConfigInput } from "./mta-host/config";
export { ValidationError } from "./validation";
export * from "./type-tokens";
