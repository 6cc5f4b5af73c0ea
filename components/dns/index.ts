export * from "./model";
export * from "./findings";
export * from "./txt";
export * from "./backend";
export * from "./naming";
// Not vouchForMailDomainArgs: it is MailStack's, and skips the checks a MailDomain of your own should run.
export { MailDomain, MAIL_DOMAIN_TYPE, checkMailDomainArgs, prepareOrThrow, type MailDomainArgs } from "./mail-domain";
export * from "./providers/cloudflare";
export * from "./providers/route53";
export * from "./providers/cloudflare-encoding";
export * from "./providers/route53-encoding";
export * from "./purpose";
export * from "./record-rules";
export * from "./zonefile";
