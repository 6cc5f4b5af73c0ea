/**
 * The Postforge stack program: read and validate the stack config, derive
 * every zone's email-authentication records, publish each zone through a
 * MailDomain. Validation happens in full before the first resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import { desiredRecordsForStack, dnsBackendFromConfig, readStackConfig } from "./components/config";
import { MailDomain } from "./components/dns/mail-domain";

const stack = pulumi.getStack();
const config = readStackConfig(stack);
const desired = desiredRecordsForStack(config, `stack "${stack}" config`);
for (const warning of desired.warnings) pulumi.log.warn(warning);

const mailDomains = desired.domains.map(
  (zone) => new MailDomain(zone.domain, { domain: zone.domain, records: zone.records, backend: dnsBackendFromConfig(zone.backend) }),
);

/** The zones this stack publishes, and how many records each holds. */
export const domains = Object.fromEntries(mailDomains.map((d, i) => [d.domain, desired.domains[i].records.length]));
