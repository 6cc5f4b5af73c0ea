/**
 * The Postforge stack program: read the stack's `postforge:*` config and
 * build it with MailStack (components/stack/mail-stack.ts), which validates
 * the whole config before the first resource exists. Other teams compose the
 * same component in their own programs (`import { MailStack } from "postforge"`).
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./components/config/read";
import { MailStack } from "./components/stack/mail-stack";

const stack = pulumi.getStack();
const postforge = new MailStack("postforge", { config: readStackConfig(stack), stackName: stack, awsRegion: new pulumi.Config("aws").get("region") });

/** The zones this stack publishes, and how many records each holds. */
export const domains = postforge.domains;

/** The mail host by name (HELO, PTR and A name): its Elastic IP and the PTR EC2 publishes. */
export const mailHosts = postforge.mailHosts;

/** Role mailbox passwords (IMAPS), by address. A secret: `pulumi stack output --show-secrets mailboxPasswords`. */
export const mailboxPasswords = postforge.mailboxPasswords;

/** Submission logins' passwords (587/465), by login. A secret: `pulumi stack output --show-secrets senderPasswords`. */
export const senderPasswords = postforge.senderPasswords;

/**
 * The key of each mail host's RFC 8058 one-click unsubscribe URLs, by host name: the applications make
 * their List-Unsubscribe URLs with it (oneClickUnsubscribeUrl). A secret: `pulumi stack output --show-secrets unsubscribeKeys`.
 */
export const unsubscribeKeys = postforge.unsubscribeKeys;

/** Declared worst-case DNS-lookup costs of SPF includes, so `postforge diff` counts them as the builder did. */
export const spfIncludeCosts = postforge.spfIncludeCosts;

/** MTA-STS policy files to serve at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export const mtaStsPolicies = postforge.mtaStsPolicies;
