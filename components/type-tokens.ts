/**
 * Every Postforge resource type token in one dependency-free module, so code
 * that only reads resources (the policy pack, the plan) need not load the
 * components and their providers.
 */
export const MAIL_DOMAIN_TYPE = "postforge:dns:MailDomain";
export const MAIL_HOST_TYPE = "postforge:mta:MailHost";
export const DKIM_KEYRING_TYPE = "postforge:dkim:DkimKeyring";
/** Dynamic resources get Pulumi's `pulumi-nodejs:dynamic/<module>:<type>` token; these are its parts. */
export const DKIM_KEY_MODULE = "dkim";
export const DKIM_KEY_TYPE_NAME = "DkimKey";
export const DKIM_KEY_TYPE = `pulumi-nodejs:dynamic/${DKIM_KEY_MODULE}:${DKIM_KEY_TYPE_NAME}`;
export const STACK_SETTINGS_TYPE = "postforge:config:StackSettings";
export const MAIL_STACK_TYPE = "postforge:index:MailStack";
