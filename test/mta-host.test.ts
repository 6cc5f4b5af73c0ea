import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { OfflineRunError, runOffline, type CapturedResource, type OfflineRunResult } from "../cli/plan/engine";
import { dkimSecretsReadPolicy } from "../components/dkim/host-access";
import { dkimSecretName } from "../components/dkim/keyring";
import { renderCloudInit } from "../components/mta-host/cloud-init";
import { parseMailHostConfig, type MailHostConfigInput } from "../components/mta-host/config";
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
  tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "route53" } },
};

const baseArgs = { config, vpcId: "vpc-0123456789abcdef0", subnetId: "subnet-0123456789abcdef0" };

/** What AWS would compute beyond the engine's built-in fakes: IAM auto-names and ARNs, and the PTR (the domain name with its root dot). */
async function awsComputed(type: string, name: string, inputs: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  switch (type) {
    case "aws:iam/role:Role":
      return { name: `${name}-abc1234`, arn: `arn:aws:iam::123456789012:role/${name}-abc1234` };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { name: `${name}-def5678` };
    case "aws:ec2/eipDomainName:EipDomainName":
      return { ptrRecord: `${String(inputs.domainName)}.` };
    default:
      return undefined;
  }
}

function run(mailHost: Record<string, unknown>): Promise<OfflineRunResult> {
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

describe("MailHost, run by the offline engine", () => {
  let result: OfflineRunResult;
  const byName = (name: string) => {
    const found = result.resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
  };

  before(async () => {
    result = await run({ ...baseArgs, sshCidrs: ["203.0.113.0/24"] });
  });

  it("registers exactly these children, named after the component, parented to it", () => {
    const host = byName("mx");
    assert.equal(host.type, "postforge:mta:MailHost");
    assert.deepEqual(host.inputs, { hostname: "mail.example.com" });
    // Registration order follows when inputs resolve, so compare by name.
    const children = result.resources.filter((r) => r.parent === host.urn).map((r) => [r.type, r.name]);
    assert.deepEqual(children.sort((a, b) => a[1].localeCompare(b[1])), [
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "mx-cloudwatch"],
      ["aws:iam/rolePolicy:RolePolicy", "mx-dkim-secrets"],
      ["aws:ec2/eip:Eip", "mx-eip"],
      ["aws:ec2/eipAssociation:EipAssociation", "mx-eip-association"],
      ["aws:ec2/instance:Instance", "mx-instance"],
      ["aws:iam/instanceProfile:InstanceProfile", "mx-profile"],
      ["aws:ec2/eipDomainName:EipDomainName", "mx-ptr"],
      ["aws:iam/role:Role", "mx-role"],
      ["aws:ec2/securityGroup:SecurityGroup", "mx-sg"],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "mx-ssm"],
    ]);
  });

  it("opens 25 to the world, submission and IMAPS to the config's networks, SSH to the given ones; egress only to 25, 53, 80, 443", () => {
    const sg = byName("mx-sg").inputs;
    assert.equal(sg.vpcId, "vpc-0123456789abcdef0");
    const rules = (list: unknown) => (list as Record<string, unknown>[]).map((r) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks ?? [], r.ipv6CidrBlocks ?? []]);
    assert.deepEqual(rules(sg.ingress), [
      ["tcp", 25, 25, ["0.0.0.0/0"], []],
      ["tcp", 587, 587, ["10.20.0.0/16"], ["2001:db8:20::/48"]],
      ["tcp", 465, 465, ["10.20.0.0/16"], ["2001:db8:20::/48"]],
      ["tcp", 993, 993, ["198.51.100.7/32"], []],
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

  it("gives the role an EC2 trust, exactly its own DKIM secrets, SSM and the CloudWatch agent", () => {
    const role = byName("mx-role").inputs;
    assert.deepEqual(JSON.parse(String(role.assumeRolePolicy)), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const policy = byName("mx-dkim-secrets").inputs;
    assert.equal(policy.role, "mx-role-abc1234");
    assert.deepEqual(JSON.parse(String(policy.policy)), dkimSecretsReadPolicy(SECRET_ARNS, KMS_KEY_ARN, "eu-west-1"));
    assert.deepEqual(
      ["mx-ssm", "mx-cloudwatch"].map((n) => [byName(n).inputs.role, byName(n).inputs.policyArn]),
      [
        ["mx-role-abc1234", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
        ["mx-role-abc1234", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"],
      ],
    );
    assert.equal(result.resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 2);
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

  it("protects the Elastic IP, and only it, and associates it with the instance", () => {
    assert.equal(byName("mx-eip").protect, true);
    assert.deepEqual(byName("mx-eip").inputs.domain, "vpc");
    const others = result.resources.filter((r) => r.name.startsWith("mx") && r.name !== "mx-eip" && r.protect);
    assert.deepEqual(others.map((r) => r.name), []);
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
    });
  });
});

describe("MailHost options", () => {
  it("uses a given AMI and instance type, leaves SSH and IMAPS closed when not asked, and an unprotected address when told", async () => {
    const result = await run({ ...baseArgs, config: { ...config, adminClients: [] }, amiId: "ami-0123456789abcdef0", instanceType: "t3.medium", protectAddress: false });
    const instance = result.resources.find((r) => r.name === "mx-instance")!.inputs;
    assert.equal(instance.ami, "ami-0123456789abcdef0");
    assert.equal(instance.instanceType, "t3.medium");
    const ingress = result.resources.find((r) => r.name === "mx-sg")!.inputs.ingress as { fromPort: number }[];
    assert.deepEqual(ingress.map((r) => r.fromPort), [25, 587, 465]);
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

  it("no DKIM secret, no subnet, a bad SSH range, all at once", async () => {
    const { message, registered } = await failing({ ...baseArgs, subnetId: "", dkimSecretArns: [], sshCidrs: ["10.0.0.0/33"] });
    assert.match(message, /dkimSecretArns = \[\]: must list at least one DKIM secret ARN/);
    assert.match(message, /subnetId = "": must be the id of a public subnet/);
    assert.match(message, /sshCidrs\[0\] = "10\.0\.0\.0\/33": must be an IPv4 or IPv6 CIDR range/);
    assert.deepEqual(ownResources(registered), []);
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
        [22, [], ["2001:db8:1::/48"]],
      ],
    );
  });
});
