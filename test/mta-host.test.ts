import assert from "node:assert/strict";
import { createHash, randomBytes, randomInt } from "node:crypto";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { OfflineRunError, runOffline, type CapturedResource, type OfflineRunResult } from "../cli/plan/engine";
import { dkimSecretsReadPolicy } from "../components/dkim/host-access";
import { dkimSecretName } from "../components/dkim/keyring";
import { renderCloudInit } from "../components/mta-host/cloud-init";
import { mailHostFiles, renderConfigManifest } from "../components/mta-host/config-manifest";
import { parseMailHostConfig, type MailHostConfigInput } from "../components/mta-host/config";
import { mailHostRolePolicy, passwordHash, renderPasswdFile, secretArnPattern } from "../components/mta-host/host-secrets";
import { cryptSaltFromBytes, sha512Crypt } from "../components/mta-host/sha512-crypt";
import { run as runTool } from "./support/mta-tools";
import { mailHostFirewall } from "../components/mta-host/mail-host";

const PROGRAM = path.join(__dirname, "fixtures", "mail-host-program.ts");

const selector = (name: string, algorithm: "rsa" | "ed25519") => ({ selector: name, algorithm, secretName: dkimSecretName("example.com", name) });

const config: MailHostConfigInput = {
  hostname: "mail.example.com",
  domains: [{ domain: "example.com", selectors: [selector("pf2026q4", "rsa"), selector("pf2026q4e", "ed25519")] }],
  submissionClients: ["10.20.0.0/16", "2001:db8:20::/48"],
  adminClients: ["198.51.100.7"],
  awsRegion: "eu-west-1",
  mailboxPasswordsSecretName: "postforge/mailhost/mail.example.com/passwd",
  senderPasswordsSecretName: "postforge/mailhost/mail.example.com/senders",
  senders: [{ login: "webapp", allowed: ["example.com"] }],
  tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "route53" } },
};

const ZONE_ID = "Z0123456789ABCDEFGHIJ";
const baseArgs = { config, vpcId: "vpc-0123456789abcdef0", subnetId: "subnet-0123456789abcdef0", route53HostedZoneIds: [ZONE_ID] };

/** The role mailboxes of example.com with the default role names, in roleMailboxes order. */
const MAILBOXES = ["abuse", "dmarc-rua", "dmarc-ruf", "fbl", "postmaster", "tls-rpt"].map((l) => `${l}@example.com`);

/** What the random provider "generated" in the last run, and the passwd-file the program sent, read where the mock provider sees plain inputs. */
interface Generated {
  passwords: Map<string, string>;
  salts: Map<string, string>;
  passwdFile?: string;
  sendersFile?: string;
}
let generated: Generated = { passwords: new Map(), salts: new Map() };

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const randomAlphanumeric = (length: number) => Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");

/** What AWS would compute beyond the engine's built-in fakes: IAM auto-names and ARNs, and the PTR (the domain name with its root dot). */
async function awsComputed(type: string, name: string, inputs: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  switch (type) {
    case "aws:iam/role:Role":
      return { name: `${name}-abc1234`, arn: `arn:aws:iam::123456789012:role/${name}-abc1234` };
    case "aws:dynamodb/table:Table":
      return { arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${String(inputs.name)}` };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { name: `${name}-def5678` };
    case "aws:ec2/eipDomainName:EipDomainName":
      return { ptrRecord: `${String(inputs.domainName)}.` };
    case "random:index/randomPassword:RandomPassword": {
      // Real random strings, so the leak checks below search for values nothing else could contain.
      const result = randomAlphanumeric(Number(inputs.length));
      generated.passwords.set(name, result);
      return { result };
    }
    case "random:index/randomBytes:RandomBytes": {
      const bytes = randomBytes(Number(inputs.length));
      generated.salts.set(name, bytes.toString("base64"));
      return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "aws:secretsmanager/secretVersion:SecretVersion":
      // The mock provider sees the secret in its RPC wrapper ({ <sig>: <secret sig>, value }).
      if (name === "mx-mailbox-passwords-version") generated.passwdFile = String((inputs.secretString as { value: unknown }).value);
      if (name === "mx-sender-passwords-version") generated.sendersFile = String((inputs.secretString as { value: unknown }).value);
      return undefined;
    default:
      return undefined;
  }
}

function run(mailHost: Record<string, unknown>): Promise<OfflineRunResult> {
  generated = { passwords: new Map(), salts: new Map() };
  return runOffline({ programPath: PROGRAM, project: "postforge", stack: "test", config: { "postforge:mailHost": JSON.stringify(mailHost) }, computed: awsComputed });
}

async function failing(mailHost: Record<string, unknown>): Promise<{ message: string; registered: CapturedResource[] }> {
  try {
    await run(mailHost);
  } catch (error) {
    if (!(error instanceof OfflineRunError)) throw error;
    return { message: (error.cause as Error).message, registered: error.resources };
  }
  throw new Error("expected the program to fail, but it ran");
}

const SECRET_ARNS = ["pf2026q4", "pf2026q4e"].map((s) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/dkim/example.com/${s}-offline`);
const KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const PASSWD_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mailhost/mail.example.com/passwd-offline";
const SENDERS_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mailhost/mail.example.com/senders-offline";
const CONFIG_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/config-offline";
const UNSUBSCRIBE_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/unsubscribe-key-offline";

/** Every string anywhere in a value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

describe("MailHost, run by the offline engine", () => {
  let result: OfflineRunResult;
  const byName = (name: string) => {
    const found = result.resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
  };

  let random: Generated;
  before(async () => {
    result = await run({ ...baseArgs, sshCidrs: ["203.0.113.0/24"] });
    random = generated;
  });

  it("registers exactly these children, named after the component, parented to it", () => {
    const host = byName("mx");
    assert.equal(host.type, "postforge:mta:MailHost");
    assert.deepEqual(host.inputs, {
      hostname: "mail.example.com",
      domains: ["example.com"],
      mailboxes: MAILBOXES,
      feedbackLoopAddresses: ["fbl@example.com"],
      senders: [{ login: "webapp", allowed: ["example.com"] }],
      signingKeys: ["example.com/pf2026q4", "example.com/pf2026q4e"],
    });
    // Registration order follows when inputs resolve, so compare by name.
    const children = result.resources.filter((r) => r.parent === host.urn).map((r) => [r.type, r.name]);
    assert.deepEqual(children.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)), [
      ["aws:secretsmanager/secret:Secret", "mx-config"],
      ["aws:secretsmanager/secretVersion:SecretVersion", "mx-config-version"],
      ["aws:iam/rolePolicy:RolePolicy", "mx-dkim-secrets"],
      ["aws:ec2/eip:Eip", "mx-eip"],
      ["aws:ec2/eipAssociation:EipAssociation", "mx-eip-association"],
      ["aws:ec2/instance:Instance", "mx-instance"],
      ["aws:secretsmanager/secret:Secret", "mx-mailbox-passwords"],
      ["aws:secretsmanager/secretVersion:SecretVersion", "mx-mailbox-passwords-version"],
      ["postforge:monitoring:MailHostMonitoring", "mx-monitoring"],
      ...MAILBOXES.map((a) => ["random:index/randomPassword:RandomPassword", `mx-password-${a}`]),
      ["aws:iam/instanceProfile:InstanceProfile", "mx-profile"],
      ["aws:ec2/eipDomainName:EipDomainName", "mx-ptr"],
      ["aws:iam/role:Role", "mx-role"],
      ...MAILBOXES.map((a) => ["random:index/randomBytes:RandomBytes", `mx-salt-${a}`]),
      ["aws:secretsmanager/secret:Secret", "mx-sender-passwords"],
      ["aws:secretsmanager/secretVersion:SecretVersion", "mx-sender-passwords-version"],
      ["random:index/randomBytes:RandomBytes", "mx-sender-salt-webapp"],
      ["random:index/randomPassword:RandomPassword", "mx-sender-webapp"],
      ["aws:ec2/securityGroup:SecurityGroup", "mx-sg"],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "mx-ssm"],
      ["aws:dynamodb/table:Table", "mx-suppression"],
      ["random:index/randomPassword:RandomPassword", "mx-unsubscribe-key"],
      ["aws:secretsmanager/secret:Secret", "mx-unsubscribe-key"],
      ["aws:secretsmanager/secretVersion:SecretVersion", "mx-unsubscribe-key-version"],
    ]);
  });

  it("opens 25 and 443 (one-click unsubscribe) to the world, submission to the config's networks, IMAPS and the metrics to the admin networks, SSH to the given ones; egress only to 25, 53, 80, 443", () => {
    const sg = byName("mx-sg").inputs;
    assert.equal(sg.vpcId, "vpc-0123456789abcdef0");
    const rules = (list: unknown) => (list as Record<string, unknown>[]).map((r) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks ?? [], r.ipv6CidrBlocks ?? []]);
    assert.deepEqual(rules(sg.ingress), [
      ["tcp", 25, 25, ["0.0.0.0/0"], []],
      ["tcp", 587, 587, ["10.20.0.0/16"], ["2001:db8:20::/48"]],
      ["tcp", 465, 465, ["10.20.0.0/16"], ["2001:db8:20::/48"]],
      ["tcp", 993, 993, ["198.51.100.7/32"], []],
      ["tcp", 9154, 9154, ["198.51.100.7/32"], []],
      // One-click unsubscribe: mailbox providers POST from anywhere.
      ["tcp", 443, 443, ["0.0.0.0/0"], []],
      ["tcp", 22, 22, ["203.0.113.0/24"], []],
    ]);
    assert.deepEqual(rules(sg.egress), [
      ["tcp", 25, 25, ["0.0.0.0/0"], []],
      ["tcp", 53, 53, ["0.0.0.0/0"], []],
      ["udp", 53, 53, ["0.0.0.0/0"], []],
      ["tcp", 80, 80, ["0.0.0.0/0"], []],
      ["tcp", 443, 443, ["0.0.0.0/0"], []],
    ]);
  });

  it("gives the role an EC2 trust, exactly its own DKIM secrets and passwd-file, Route53 DNS-01 on the given zone, its metrics to its own namespace, and SSM", () => {
    const role = byName("mx-role").inputs;
    assert.deepEqual(JSON.parse(String(role.assumeRolePolicy)), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const policy = byName("mx-dkim-secrets").inputs;
    assert.equal(policy.role, "mx-role-abc1234");
    assert.deepEqual(JSON.parse(String(policy.policy)), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadOwnDkimKeys",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: [...SECRET_ARNS, PASSWD_SECRET_ARN, SENDERS_SECRET_ARN, CONFIG_SECRET_ARN, UNSUBSCRIBE_SECRET_ARN].sort(),
        },
        {
          Sid: "DecryptDkimKeysViaSecretsManager",
          Effect: "Allow",
          Action: ["kms:Decrypt"],
          Resource: [KMS_KEY_ARN],
          Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
        },
        {
          Sid: "SuppressionListCopy",
          Effect: "Allow",
          Action: ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
          Resource: ["arn:aws:dynamodb:eu-west-1:123456789012:table/postforge-mail-example-com-suppression"],
        },
        {
          Sid: "PublishMetrics",
          Effect: "Allow",
          Action: ["cloudwatch:PutMetricData"],
          Resource: ["*"],
          Condition: { StringEquals: { "cloudwatch:namespace": "Postforge/Mail" } },
        },
        { Sid: "CertbotDns01WriteChallengeRecords", Effect: "Allow", Action: ["route53:ChangeResourceRecordSets"], Resource: [`arn:aws:route53:::hostedzone/${ZONE_ID}`] },
        { Sid: "CertbotDns01FindZoneAndWait", Effect: "Allow", Action: ["route53:GetChange", "route53:ListHostedZones"], Resource: ["*"] },
      ],
    });
    // The DKIM part is still exactly dkimSecretsReadPolicy's, with the passwd-file secret in its list.
    assert.deepEqual(JSON.parse(String(policy.policy)).Statement.slice(0, 2), dkimSecretsReadPolicy([...SECRET_ARNS, PASSWD_SECRET_ARN, SENDERS_SECRET_ARN, CONFIG_SECRET_ARN, UNSUBSCRIBE_SECRET_ARN], KMS_KEY_ARN, "eu-west-1").Statement);
    assert.deepEqual(
      ["mx-ssm"].map((n) => [byName(n).inputs.role, byName(n).inputs.policyArn]),
      [["mx-role-abc1234", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]],
    );
    // No CloudWatch agent runs, so no CloudWatchAgentServerPolicy (any namespace, and CloudWatch Logs): PublishMetrics above is all the host needs.
    assert.equal(result.resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 1);
    assert.equal(byName("mx-profile").inputs.role, "mx-role-abc1234");
  });

  it("boots the looked-up Debian image with IMDSv2 only, an encrypted gp3 root and the rendered cloud-init", () => {
    const instance = byName("mx-instance").inputs;
    assert.equal(instance.ami, "ami-0postforgeoffline");
    assert.equal(instance.instanceType, "t3.small");
    assert.equal(instance.subnetId, "subnet-0123456789abcdef0");
    assert.deepEqual(instance.vpcSecurityGroupIds, ["mx-sg-id"]);
    assert.equal(instance.iamInstanceProfile, "mx-profile-def5678");
    assert.deepEqual(instance.metadataOptions, { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 });
    assert.deepEqual(instance.rootBlockDevice, { volumeType: "gp3", volumeSize: 20, encrypted: true, deleteOnTermination: true });
    assert.equal(instance.userData, renderCloudInit(parseMailHostConfig(config)));
    assert.equal(instance.userDataReplaceOnChange, true);
    // Names secrets, never holds them: no PEM block (its comments may say "private keys"), no password assignment.
    assert.doesNotMatch(String(instance.userData), /PRIVATE KEY/);
    assert.doesNotMatch(String(instance.userData), /password\s*[:=]/i);
    assert.deepEqual(byName("mx-instance").secretInputs, []);
  });

  it("protects what cannot be recreated, the Elastic IP and the suppression list's table, and only them; associates the address with the instance", () => {
    assert.equal(byName("mx-eip").protect, true);
    assert.deepEqual(byName("mx-eip").inputs.domain, "vpc");
    const protectedNames = result.resources.filter((r) => r.name.startsWith("mx") && r.protect).map((r) => r.name);
    assert.deepEqual(protectedNames.sort(), ["mx-eip", "mx-suppression"]);
    // The table: the host's name, keyed by address, recoverable to the second, encrypted with the host's key, and AWS refuses to delete it too.
    assert.deepEqual(byName("mx-suppression").inputs, {
      name: "postforge-mail-example-com-suppression",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "address",
      attributes: [{ name: "address", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: KMS_KEY_ARN },
      deletionProtectionEnabled: true,
      tags: { ...(byName("mx-suppression").inputs.tags as Record<string, string>), Name: "mail.example.com suppression list" },
    });
    const association = byName("mx-eip-association").inputs;
    assert.match(String(association.allocationId), /^eipalloc-[0-9a-f]+$/);
    assert.equal(association.instanceId, "mx-instance-id");
  });

  it("publishes the A record with the Elastic IP through the MailDomain, and sets the PTR only after it (FCrDNS)", () => {
    const eipAddress = result.outputs.publicIp;
    assert.match(String(eipAddress), /^203\.0\.113\.\d+$/);
    const domain = byName("example.com");
    const aRecord = result.resources.find((r) => r.parent === domain.urn && r.inputs.type === "A");
    assert.ok(aRecord, "the MailDomain registered no A record");
    assert.equal(aRecord.inputs.name, "mail.example.com");
    assert.equal(aRecord.inputs.content, eipAddress);
    const ptr = byName("mx-ptr");
    assert.deepEqual(ptr.inputs, { allocationId: byName("mx-eip-association").inputs.allocationId, domainName: "mail.example.com" });
    assert.ok(ptr.dependencies.includes(aRecord.urn), `mx-ptr depends on ${JSON.stringify(ptr.dependencies)}, not on the A record`);
  });

  it("exports the host's facts", () => {
    assert.deepEqual(result.outputs, {
      hostname: "mail.example.com",
      publicIp: byName("example.com-mail-a").inputs.content,
      ptr: "mail.example.com.",
      instanceId: "mx-instance-id",
      securityGroupId: "mx-sg-id",
      roleArn: "arn:aws:iam::123456789012:role/mx-role-abc1234",
      mailboxPasswordsSecretArn: PASSWD_SECRET_ARN,
      mailboxPasswordsIsSecret: true,
      // A secret output resolves to the placeholder, as `pulumi stack output` shows it without --show-secrets.
      mailboxPasswords: "[secret]",
      senderPasswordsIsSecret: true,
      senderPasswords: "[secret]",
      unsubscribeKeyIsSecret: true,
      unsubscribeKey: "[secret]",
    });
  });

  it("generates a 32-character password without special characters, and a 16-byte salt, per role mailbox", () => {
    for (const address of MAILBOXES) {
      assert.deepEqual(byName(`mx-password-${address}`).inputs, { length: 32, special: false });
      assert.deepEqual(byName(`mx-salt-${address}`).inputs, { length: 16 });
      assert.match(random.passwords.get(`mx-password-${address}`)!, /^[A-Za-z0-9]{32}$/);
    }
    assert.equal(new Set(random.passwords.values()).size, MAILBOXES.length + 2, "every mailbox, the one login and the unsubscribe key has its own");
    const key = result.resources.find((r) => r.name === "mx-unsubscribe-key" && r.type === "random:index/randomPassword:RandomPassword")!;
    assert.deepEqual(key.inputs, { length: 43, special: false });
  });

  it("stores the passwd-file in one secret named by the config, under the DKIM KMS key, as a secret input", () => {
    const secret = byName("mx-mailbox-passwords");
    assert.equal(secret.inputs.name, "postforge/mailhost/mail.example.com/passwd");
    assert.equal(secret.inputs.kmsKeyId, KMS_KEY_ARN);
    assert.deepEqual(secret.secretInputs, []);
    const version = byName("mx-mailbox-passwords-version");
    assert.equal(version.inputs.secretId, "mx-mailbox-passwords-id");
    assert.deepEqual(version.secretInputs, ["secretString"]);
    assert.ok(byName("mx-instance").dependencies.includes(version.urn), "the instance boots before its passwd-file is stored");
    assert.equal(version.inputs.secretString, "[secret]");
    // Beside it, the config manifest (no secret in it) and the one-click unsubscribe key (a secret input, under the same KMS key).
    assert.deepEqual(
      result.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.parent === byName("mx").urn).map((r) => r.name).sort(),
      ["mx-config-version", "mx-mailbox-passwords-version", "mx-sender-passwords-version", "mx-unsubscribe-key-version"],
    );
    const unsubscribe = result.resources.find((r) => r.name === "mx-unsubscribe-key" && r.type === "aws:secretsmanager/secret:Secret")!;
    assert.deepEqual([unsubscribe.inputs.name, unsubscribe.inputs.kmsKeyId], ["postforge/mail-host/mail.example.com/unsubscribe-key", KMS_KEY_ARN]);
    assert.deepEqual(byName("mx-unsubscribe-key-version").secretInputs, ["secretString"]);
    assert.ok(byName("mx-instance").dependencies.includes(byName("mx-unsubscribe-key-version").urn));
    const senders = byName("mx-sender-passwords");
    assert.deepEqual([senders.inputs.name, senders.inputs.kmsKeyId], ["postforge/mailhost/mail.example.com/senders", KMS_KEY_ARN]);
    assert.deepEqual(byName("mx-sender-passwords-version").secretInputs, ["secretString"]);
    assert.ok(byName("mx-instance").dependencies.includes(byName("mx-sender-passwords-version").urn));
  });

  it("stores the configuration the host applies itself as a config manifest, read by the role, stored before the instance boots", () => {
    const secret = byName("mx-config");
    assert.deepEqual([secret.inputs.name, secret.inputs.kmsKeyId], ["postforge/mail-host/mail.example.com/config", KMS_KEY_ARN]);
    const version = byName("mx-config-version");
    assert.equal(version.inputs.secretId, "mx-config-id");
    // The provider's schema makes secretString a secret; the manifest is public, so the component registers it as an output too.
    assert.deepEqual(version.secretInputs, ["secretString"]);
    const host = byName("mx");
    assert.equal(host.outputs?.configManifest, renderConfigManifest(parseMailHostConfig(config)));
    assert.ok(byName("mx-instance").dependencies.includes(version.urn), "the instance boots before its configuration is stored");
    // Every file the renderers produce, the boot script included, travels in the manifest, not in user-data.
    const manifest = JSON.parse(String(host.outputs?.configManifest));
    assert.deepEqual(manifest.files, mailHostFiles(parseMailHostConfig(config)));
    const userData = String(byName("mx-instance").inputs.userData);
    for (const file of manifest.files) assert.ok(!userData.includes(`path: ${file.path}\n`), `${file.path} is in user-data`);
  });

  it("writes the passwd-files the boot step expects: a SHA512-CRYPT line per role mailbox and per login, each with its own salt, that verifies", async () => {
    const check = async (file: string, logins: string[], password: (login: string) => string, salt: (login: string) => string) => {
      const lines = file.split("\n");
      assert.equal(lines.pop(), "", "newline-terminated");
      assert.match(lines.shift()!, /^# Dovecot passwd-file: /);
      // require_mailbox in the boot script looks for ^address: in the installed file.
      assert.deepEqual(lines.map((l) => l.split(":")[0]), logins);
      for (const [i, line] of lines.entries()) {
        const match = /^([^:]+):\{SHA512-CRYPT\}(\$6\$([./0-9A-Za-z]{16})\$[./0-9A-Za-z]{86})::::::$/.exec(line);
        assert.ok(match, `not a seven-field passwd-file line: ${line}`);
        assert.equal(match[3], cryptSaltFromBytes(Buffer.from(salt(logins[i]), "base64")));
        // Judged by openssl, not by the hasher that wrote the line.
        const openssl = await runTool("openssl", ["passwd", "-6", "-salt", match[3], password(logins[i])]);
        assert.ok(openssl.ok, openssl.output);
        assert.equal(match[2], openssl.stdout.trim());
      }
      assert.equal(new Set(lines.map((l) => l.split("$")[2])).size, logins.length, "one salt per line");
    };
    await check(random.passwdFile!, MAILBOXES, (a) => random.passwords.get(`mx-password-${a}`)!, (a) => random.salts.get(`mx-salt-${a}`)!);
    await check(random.sendersFile!, ["webapp"], (l) => random.passwords.get(`mx-sender-${l}`)!, (l) => random.salts.get(`mx-sender-salt-${l}`)!);
    // A new passwordVersion is what issues a new password: it is the generator's keeper.
    assert.deepEqual(byName("mx-sender-webapp").inputs, { length: 32, special: false, keepers: { passwordVersion: "1" } });
    assert.deepEqual(byName("mx-sender-salt-webapp").inputs, { length: 16, keepers: { passwordVersion: "1" } });
  });

  it("puts no generated password in user-data or in any resource's recorded inputs, and exposes them only as a secret", () => {
    // The mailboxes', the login's and the one-click unsubscribe key.
    const passwords = [...random.passwords.values()];
    assert.equal(passwords.length, MAILBOXES.length + 2);
    const userData = String(byName("mx-instance").inputs.userData);
    for (const password of passwords) {
      assert.ok(!userData.includes(password), "a password is in user-data");
      for (const resource of result.resources) {
        assert.ok(!strings(resource.inputs).some((s) => s.includes(password)), `a password is in the inputs of ${resource.name}`);
      }
    }
    // Nor a hash: the passwd-file reaches the host only through Secrets Manager.
    assert.doesNotMatch(userData, /\{SHA512-CRYPT\}|\$6\$/);
    assert.deepEqual(byName("mx").inputs, {
      hostname: "mail.example.com",
      domains: ["example.com"],
      mailboxes: MAILBOXES,
      feedbackLoopAddresses: ["fbl@example.com"],
      senders: [{ login: "webapp", allowed: ["example.com"] }],
      signingKeys: ["example.com/pf2026q4", "example.com/pf2026q4e"],
    });
    assert.equal(result.outputs.mailboxPasswordsIsSecret, true);
  });
});

describe("MailHost with DNS-01 through Cloudflare", () => {
  it("lets the role read the Cloudflare token secret by name, and nothing of Route53", async () => {
    const cloudflare = { ...config, tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "cloudflare", apiTokenSecretName: "postforge/cloudflare/dns-token" } } };
    const result = await run({ ...baseArgs, config: cloudflare, route53HostedZoneIds: undefined });
    const policy = JSON.parse(String(result.resources.find((r) => r.name === "mx-dkim-secrets")!.inputs.policy));
    assert.deepEqual(policy.Statement.map((s: { Sid: string }) => s.Sid), ["ReadOwnDkimKeys", "DecryptDkimKeysViaSecretsManager", "SuppressionListCopy", "PublishMetrics", "ReadCloudflareDnsToken"]);
    assert.deepEqual(policy.Statement[4], {
      Sid: "ReadCloudflareDnsToken",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:postforge/cloudflare/dns-token-??????"],
    });
    assert.deepEqual(policy.Statement[0].Resource, [...SECRET_ARNS, PASSWD_SECRET_ARN, SENDERS_SECRET_ARN, CONFIG_SECRET_ARN, UNSUBSCRIBE_SECRET_ARN].sort());
    assert.doesNotMatch(JSON.stringify(policy), /route53/);
  });
});

describe("MailHost options", () => {
  it("uses a given AMI and instance type, leaves SSH and IMAPS closed when not asked, and an unprotected address when told", async () => {
    const result = await run({ ...baseArgs, config: { ...config, adminClients: [] }, amiId: "ami-0123456789abcdef0", instanceType: "t3.medium", protectAddress: false });
    const instance = result.resources.find((r) => r.name === "mx-instance")!.inputs;
    assert.equal(instance.ami, "ami-0123456789abcdef0");
    assert.equal(instance.instanceType, "t3.medium");
    const ingress = result.resources.find((r) => r.name === "mx-sg")!.inputs.ingress as { fromPort: number }[];
    assert.deepEqual(ingress.map((r) => r.fromPort), [25, 587, 465, 443]);
    assert.equal(result.resources.find((r) => r.name === "mx-eip")!.protect, false);
  });

  it("opens SSH to the world only with allowSshFromAnywhere", async () => {
    const result = await run({ ...baseArgs, sshCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true });
    const ingress = result.resources.find((r) => r.name === "mx-sg")!.inputs.ingress as { fromPort: number; cidrBlocks: string[] }[];
    assert.deepEqual(ingress.find((r) => r.fromPort === 22)?.cidrBlocks, ["0.0.0.0/0"]);
  });
});

describe("MailHost refuses bad arguments before registering anything of its own", () => {
  const ownResources = (registered: CapturedResource[]) => registered.filter((r) => r.name === "mx" || r.name.startsWith("mx-")).map((r) => r.name);

  it("SSH open to the world without the flag", async () => {
    const { message, registered } = await failing({ ...baseArgs, sshCidrs: ["10.0.0.0/8", "::/0"] });
    assert.match(message, /MailHost "mx" is invalid/);
    assert.match(message, /sshCidrs\[1\] = "::\/0": opens SSH to the whole internet; .*allowSshFromAnywhere: true/);
    assert.deepEqual(ownResources(registered), []);
  });

  it("a host name that is not a FQDN", async () => {
    const { message, registered } = await failing({ ...baseArgs, config: { ...config, hostname: "mail" } });
    assert.match(message, /config\.hostname = "mail": must be a host name .* such as mail\.example\.com/);
    assert.deepEqual(ownResources(registered), []);
  });

  it("Route53 DNS-01 without a hosted zone", async () => {
    const { message, registered } = await failing({ ...baseArgs, route53HostedZoneIds: [] });
    assert.match(message, /route53HostedZoneIds = \[\]: must list the hosted zone\(s\) certbot writes the DNS-01 challenge in/);
    assert.deepEqual(ownResources(registered), []);
  });

  it("more domains than one host's config manifest can hold in Secrets Manager", async () => {
    // Random-looking selectors, so compression cannot hide the size: the limit is on what is stored.
    const domains = Array.from({ length: 1500 }, (_, i) => {
      const domain = `d${i}-${createHash("sha256").update(String(i)).digest("hex").slice(0, 24)}.example`;
      const selector = `s${createHash("sha256").update(`s${i}`).digest("hex").slice(0, 20)}`;
      return { domain, selectors: [{ selector, algorithm: "rsa" as const, secretName: dkimSecretName(domain, selector) }] };
    });
    const { message, registered } = await failing({ ...baseArgs, config: { ...config, domains, senders: [] } });
    assert.match(message, /config\.domains: 1500 domains make a config manifest of \d+ bytes \(compressed\), over Secrets Manager's 65536; serve them from several hosts/);
    assert.deepEqual(ownResources(registered), []);
  });

  it("no DKIM secret, no subnet, a bad SSH range, all at once", async () => {
    const { message, registered } = await failing({ ...baseArgs, subnetId: "", dkimSecretArns: [], sshCidrs: ["10.0.0.0/33"] });
    assert.match(message, /dkimSecretArns = \[\]: must list at least one DKIM secret ARN/);
    assert.match(message, /subnetId = "": must be the id of a public subnet/);
    assert.match(message, /sshCidrs\[0\] = "10\.0\.0\.0\/33": must be an IPv4 or IPv6 CIDR range/);
    assert.deepEqual(ownResources(registered), []);
  });
});

describe("host secrets", () => {
  it("hashes SHA512-CRYPT as glibc's crypt(3) does: openssl passwd -6 computes the same, for default and explicit rounds, long and non-ASCII passwords", async () => {
    const cases: [string, string, number | undefined][] = [
      ["Xk3v9QmT2pLr8sYw4ZbN7cHd1FgJ6aEu", "abcdefghABCDEFGH", undefined],
      ["p", "s", undefined],
      ["a much longer password with ünïcode, over 64 bytes long, yes indeed it is", "saltsaltsaltsalt", 7000],
      ["x", "./09AZaz", 1000],
    ];
    for (const [password, salt, rounds] of cases) {
      const openssl = await runTool("openssl", ["passwd", "-6", "-salt", rounds ? `rounds=${rounds}$${salt}` : salt, password]);
      assert.ok(openssl.ok, openssl.output);
      assert.equal(sha512Crypt(password, salt, rounds), openssl.stdout.trim(), `${JSON.stringify(password)} / ${salt} / ${rounds}`);
    }
    assert.throws(() => sha512Crypt("x", ""), /salt "" must be 1 to 16 characters/);
    assert.throws(() => sha512Crypt("x", "bad$salt"), /must be 1 to 16 characters/);
    assert.throws(() => sha512Crypt("x", "s", 999), /rounds 999/);
  });

  it("makes a 16-character crypt salt from random bytes and refuses too few", () => {
    assert.equal(cryptSaltFromBytes(Buffer.from(Array.from({ length: 16 }, (_, i) => i * 4 + 1))), "/37BFJNRVZdhlptx");
    assert.throws(() => cryptSaltFromBytes(Buffer.alloc(15)), /15 bytes given, 16 needed/);
  });

  it("renders seven-field passwd-file lines Dovecot's passdb and userdb both read, and refuses a duplicate or a login a passwd-file cannot hold", async () => {
    const salt = Buffer.alloc(16, 7).toString("base64");
    const hash = passwordHash("p", salt);
    assert.match(hash, /^\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    assert.equal(
      renderPasswdFile([{ address: "abuse@example.com", password: "p", saltBase64: salt }]),
      `# Dovecot passwd-file: role mailboxes, written by Postforge.\nabuse@example.com:${hash}::::::\n`,
    );
    assert.equal(renderPasswdFile([{ address: "webapp", password: "p", saltBase64: salt }], "submission logins").split("\n")[1], `webapp:${hash}::::::`);
    // Dovecot itself verifies the hash (doveadm pw -t runs the scheme's verify).
    const verified = await runTool("doveadm", ["pw", "-t", hash, "-p", "p"]);
    assert.ok(verified.ok, verified.output);
    assert.match(verified.output, /verified/);
    const wrong = await runTool("doveadm", ["pw", "-t", hash, "-p", "q"]);
    assert.equal(wrong.ok, false);
    assert.throws(() => renderPasswdFile([{ address: "a:b@example.com", password: "p", saltBase64: salt }]), /not a lower-case login/);
    const twice = { address: "abuse@example.com", password: "p", saltBase64: salt };
    assert.throws(() => renderPasswdFile([twice, twice]), /listed twice/);
  });

  it("names a secret by its ARN pattern in the region's partition, and Route53 zones given with or without their prefix", () => {
    assert.equal(secretArnPattern("cn-north-1", "123456789012", "t"), "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:t-??????");
    const policy = mailHostRolePolicy(parseMailHostConfig(config), {
      dkimSecretArns: ["arn:d"],
      mailboxPasswordsSecretArn: "arn:p",
      senderPasswordsSecretArn: "arn:s",
      configSecretArn: "arn:c",
      kmsKeyArn: "arn:k",
      route53HostedZoneIds: ["/hostedzone/ZB", "ZA", "ZB"],
    });
    assert.deepEqual(policy.Statement.find((st: { Sid: string }) => st.Sid === "CertbotDns01WriteChallengeRecords")!.Resource, ["arn:aws:route53:::hostedzone/ZA", "arn:aws:route53:::hostedzone/ZB"]);
    assert.throws(() => mailHostRolePolicy(parseMailHostConfig(config), { dkimSecretArns: ["arn:d"], mailboxPasswordsSecretArn: "arn:p", senderPasswordsSecretArn: "arn:s", configSecretArn: "arn:c", kmsKeyArn: "arn:k" }), /at least one hosted zone/);
  });
});

describe("mailHostFirewall", () => {
  it("writes bare addresses as single-host ranges and splits IPv4 from IPv6", () => {
    const { ingress } = mailHostFirewall(parseMailHostConfig({ ...config, submissionClients: ["192.0.2.5", "2001:db8::5"], adminClients: [] }), ["2001:db8:1::/48"]);
    assert.deepEqual(
      ingress.map((r) => [r.fromPort, r.cidrBlocks ?? [], r.ipv6CidrBlocks ?? []]),
      [
        [25, ["0.0.0.0/0"], []],
        [587, ["192.0.2.5/32"], ["2001:db8::5/128"]],
        [465, ["192.0.2.5/32"], ["2001:db8::5/128"]],
        [443, ["0.0.0.0/0"], []],
        [22, [], ["2001:db8:1::/48"]],
      ],
    );
  });
});
