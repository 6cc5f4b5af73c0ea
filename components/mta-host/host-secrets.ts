import { METRIC_NAMESPACE } from "../monitoring/metrics";
import { dkimSecretsReadPolicy, type IamPolicyDocument } from "../dkim/host-access";
import type { MailHostConfig } from "./config";
import { cryptSaltFromBytes, sha512Crypt } from "./sha512-crypt";

/**
 * What a mail host's instance role may read and change, and the passwd-file
 * its boot step installs (see dovecot.ts `renderPasswdFetchStep`): pure
 * functions, so tests and policies can check them without Pulumi.
 */

/** Bytes of salt per mailbox or login (16 crypt characters, 6 bits each). */
export const MAILBOX_SALT_BYTES = 16;

/** Length of each generated password (letters and digits only: nothing a passwd-file or a shell treats specially). */
export const MAILBOX_PASSWORD_LENGTH = 32;

export interface MailboxCredential {
  /** The login: `local@domain` for a mailbox, lower-case (the passdb uses username_format=%Lu), or an application's login name. */
  address: string;
  password: string;
  /** The salt, base64 (as random.RandomBytes gives it). */
  saltBase64: string;
}

/** `{SHA512-CRYPT}$6$<salt>$<hash>`: glibc's crypt(3) SHA-512 scheme, which Dovecot verifies through crypt(3). */
export function passwordHash(password: string, saltBase64: string): string {
  return `{SHA512-CRYPT}${sha512Crypt(password, cryptSaltFromBytes(Buffer.from(saltBase64, "base64")))}`;
}

/**
 * A Dovecot passwd-file: one `login:{SHA512-CRYPT}hash::::::` line per
 * credential, in the given order, after a comment naming what it is. The
 * seven fields are passwd(5)'s (user, password, uid, gid, gecos, home,
 * shell): the passdb reads the first two, and the userdb needs the full line
 * to take a user at all; its empty uid, gid and home are filled from the
 * userdb's default_fields (vmail, and the mailbox's directory). Two fields
 * alone made Dovecot's userdb refuse every user ("missing userdb info").
 * `require_mailbox` at boot looks for `^address:`.
 */
export function renderPasswdFile(credentials: MailboxCredential[], what = "role mailboxes"): string {
  const seen = new Set<string>();
  const lines = credentials.map(({ address, password, saltBase64 }) => {
    if (!/^[a-z0-9._+-]+(?:@[a-z0-9.-]+)?$/.test(address)) throw new Error(`renderPasswdFile: "${address}" is not a lower-case login a passwd-file line can start with`);
    if (seen.has(address)) throw new Error(`renderPasswdFile: ${address} is listed twice`);
    seen.add(address);
    return `${address}:${passwordHash(password, saltBase64)}::::::\n`;
  });
  return `# Dovecot passwd-file: ${what}, written by Postforge.\n${lines.join("")}`;
}

/** The partition of an AWS region (aws, aws-cn, aws-us-gov). */
export function awsPartition(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The ARN pattern of a secret known by name: Secrets Manager appends a dash
 * and six random characters to the name (hence `-??????`, the pattern AWS
 * documents for naming a secret in a policy without its full ARN).
 */
export function secretArnPattern(region: string, accountId: string, name: string): string {
  return `arn:${awsPartition(region)}:secretsmanager:${region}:${accountId}:secret:${name}-??????`;
}

export interface MailHostPolicyInputs {
  dkimSecretArns: string[];
  /** ARN of the secret holding the role mailboxes' Dovecot passwd-file. */
  mailboxPasswordsSecretArn: string;
  /** ARN of the secret holding the submission logins' Dovecot passwd-file. */
  senderPasswordsSecretArn: string;
  /** ARN of the secret holding the config manifest the host applies (./config-manifest.ts). */
  configSecretArn: string;
  /** KMS key of the DKIM and mailbox-password secrets. */
  kmsKeyArn: string;
  /** Route53 DNS-01: the hosted zones certbot may write `_acme-challenge` records in. */
  route53HostedZoneIds?: string[];
  /** Cloudflare DNS-01: the account holding the API-token secret (its ARN is built from the config's name). */
  accountId?: string;
  /** The suppression list's DynamoDB table (suppression.ts): the host writes its entries through and restores from it. */
  suppressionTableArn?: string;
  /** The one-click unsubscribe key's secret (unsubscribe.ts). */
  unsubscribeKeySecretArn?: string;
}

/**
 * The instance role's inline policy: read its DKIM keys, its passwd-file and its config manifest
 * (one statement, decrypted only through Secrets Manager), and what certbot
 * needs for DNS-01 through the configured provider: for Route53 the
 * certbot-dns-route53 documented minimum (ChangeResourceRecordSets on the
 * zones; ListHostedZones and GetChange, which take no resource), for
 * Cloudflare read access to the API-token secret.
 */
export function mailHostRolePolicy(config: MailHostConfig, inputs: MailHostPolicyInputs): IamPolicyDocument {
  const policy = dkimSecretsReadPolicy(
    [...inputs.dkimSecretArns, inputs.mailboxPasswordsSecretArn, inputs.senderPasswordsSecretArn, inputs.configSecretArn, ...(inputs.unsubscribeKeySecretArn ? [inputs.unsubscribeKeySecretArn] : [])],
    inputs.kmsKeyArn,
    config.awsRegion,
  );
  if (inputs.suppressionTableArn) {
    policy.Statement.push({
      Sid: "SuppressionListCopy",
      Effect: "Allow",
      // Items only: the host can neither drop nor reconfigure the table (MailHost protects it).
      Action: ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
      Resource: [inputs.suppressionTableArn],
    });
  }
  policy.Statement.push({
    Sid: "PublishMetrics",
    Effect: "Allow",
    // PutMetricData has no resource ARN; the condition keeps the host to its own namespace (monitoring.ts).
    Action: ["cloudwatch:PutMetricData"],
    Resource: ["*"],
    Condition: { StringEquals: { "cloudwatch:namespace": METRIC_NAMESPACE } },
  });
  const challenge = config.tls.dnsChallenge;
  if (challenge.provider === "route53") {
    // Route53 also writes a zone id as /hostedzone/<id>.
    const zones = [...new Set((inputs.route53HostedZoneIds ?? []).map((id) => id.replace(/^\/?hostedzone\//, "")))].sort();
    if (zones.length === 0) throw new Error("mailHostRolePolicy: DNS-01 through Route53 needs at least one hosted zone id");
    const partition = awsPartition(config.awsRegion);
    policy.Statement.push(
      {
        Sid: "CertbotDns01WriteChallengeRecords",
        Effect: "Allow",
        Action: ["route53:ChangeResourceRecordSets"],
        Resource: zones.map((id) => `arn:${partition}:route53:::hostedzone/${id}`),
      },
      { Sid: "CertbotDns01FindZoneAndWait", Effect: "Allow", Action: ["route53:GetChange", "route53:ListHostedZones"], Resource: ["*"] },
    );
  } else {
    if (!inputs.accountId) throw new Error("mailHostRolePolicy: DNS-01 through Cloudflare needs the account id of the API-token secret");
    policy.Statement.push({
      Sid: "ReadCloudflareDnsToken",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [secretArnPattern(config.awsRegion, inputs.accountId, challenge.apiTokenSecretName)],
    });
  }
  return policy;
}
