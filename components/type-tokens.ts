/**
 * Every Postforge resource type token in one dependency-free module, so code
 * that only reads resources (the policy pack, the plan) need not load the
 * components and their providers.
 */
/** The type token of MailDomain, the component that publishes one zone's email records. */
export const MAIL_DOMAIN_TYPE = "postforge:dns:MailDomain";
/** The type token of MailHost, the component that runs one mail host on EC2. */
export const MAIL_HOST_TYPE = "postforge:mta:MailHost";
/** The type token of DkimKeyring, the component that holds one domain's DKIM keys and their secrets. */
export const DKIM_KEYRING_TYPE = "postforge:dkim:DkimKeyring";
/** Dynamic resources get Pulumi's `pulumi-nodejs:dynamic/<module>:<type>` token; these are its parts. */
export const DKIM_KEY_MODULE = "dkim";
/** The type part of DkimKey's token: the name the DkimKey dynamic resource registers under. */
export const DKIM_KEY_TYPE_NAME = "DkimKey";
/** The full type token of DkimKey, the dynamic resource that generates one DKIM key pair. */
export const DKIM_KEY_TYPE = `pulumi-nodejs:dynamic/${DKIM_KEY_MODULE}:${DKIM_KEY_TYPE_NAME}`;
/** The type token of StackSettings, the resource that records the stack-wide facts the policy pack reads. */
export const STACK_SETTINGS_TYPE = "postforge:config:StackSettings";
/** The type token of MailStack, the component that builds a whole stack from its config. */
export const MAIL_STACK_TYPE = "postforge:index:MailStack";
/** The type token of MailHostMonitoring, the component that watches one mail host: dashboard, alarms, their topic. */
export const MAIL_HOST_MONITORING_TYPE = "postforge:monitoring:MailHostMonitoring";
/** The module part of MtaStsPolicyServed's token (the wait for the mail host to serve an MTA-STS policy). */
export const MTA_STS_MODULE = "mta-sts";
/** The type part of MtaStsPolicyServed's token. */
export const MTA_STS_POLICY_SERVED_TYPE_NAME = "MtaStsPolicyServed";
/** The full type token of MtaStsPolicyServed. */
export const MTA_STS_POLICY_SERVED_TYPE = `pulumi-nodejs:dynamic/${MTA_STS_MODULE}:${MTA_STS_POLICY_SERVED_TYPE_NAME}`;
/** The type token of MtaStsPolicySite: MTA-STS policies on S3 and CloudFront, for stacks without a mail host. */
export const MTA_STS_POLICY_SITE_TYPE = "postforge:mta-sts:MtaStsPolicySite";
