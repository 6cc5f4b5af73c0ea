/**
 * Deterministic stand-ins for values a cloud provider computes, so programs
 * that read them (an Elastic IP's address, an AMI lookup) run offline. They
 * come from documentation ranges (RFC 5737, RFC 3849) so nothing in a plan
 * can be mistaken for a real address.
 */

import { DKIM_KEY_TYPE } from "../../components/dkim/dkim-key";
import { dkimDnsValue, type DkimKeyAlgorithm, type DkimKeyState } from "../../components/dkim/provider";

/** A stable 32-bit hash of a string (FNV-1a), to spread fake values. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function fakeIpv4(seed: string): string {
  return `203.0.113.${(fnv1a(seed) % 254) + 1}`;
}

// What a plan shows where a DKIM public key will be.
import { DKIM_KEY_PLACEHOLDER } from "../../components/captured-resource";

export function fakeComputedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case DKIM_KEY_TYPE:
      return {
        publicKey: DKIM_KEY_PLACEHOLDER,
        privateKeyPem: DKIM_KEY_PLACEHOLDER,
        dnsValue: dkimDnsValue(inputs.algorithm as DkimKeyAlgorithm, DKIM_KEY_PLACEHOLDER, inputs.state as DkimKeyState),
      };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${String(inputs.name)}-offline` };
    case "aws:dynamodb/table:Table":
      return { arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${String(inputs.name)}` };
    case "aws:kms/key:Key":
      return { arn: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000", keyId: "00000000-0000-4000-8000-000000000000" };
    // Mailbox passwords are generated at deploy: the plan shows where, never a value.
    case "random:index/randomPassword:RandomPassword":
      return { result: DKIM_KEY_PLACEHOLDER };
    case "random:index/randomBytes:RandomBytes":
      return { base64: Buffer.alloc(Number(inputs.length) || 16).toString("base64"), hex: "00".repeat(Number(inputs.length) || 16) };
    case "aws:ec2/eipDomainName:EipDomainName":
      return { ptrRecord: `${String(inputs.domainName)}.` };
    case "aws:ec2/eip:Eip":
      return { publicIp: fakeIpv4(name), allocationId: `eipalloc-${fnv1a(name).toString(16)}` };
    // The MTA-STS policy site (components/mta-sts): what ACM, CloudFront and S3 compute.
    case "aws:acm/certificate:Certificate": {
      const domainName = String(inputs.domainName);
      const token = fnv1a(`${name}/${domainName}`).toString(16).padStart(8, "0");
      return {
        arn: `arn:aws:acm:us-east-1:123456789012:certificate/${token}-offline`,
        domainValidationOptions: [{ domainName, resourceRecordName: `_${token}.${domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${token}.offline.acm-validations.aws.` }],
      };
    }
    case "aws:acm/certificateValidation:CertificateValidation":
      return { certificateArn: inputs.certificateArn };
    case "aws:cloudfront/distribution:Distribution": {
      const token = fnv1a(name).toString(36);
      return { domainName: `d${token}offline.cloudfront.net`, arn: `arn:aws:cloudfront::123456789012:distribution/E${token.toUpperCase()}` };
    }
    case "aws:s3/bucket:Bucket": {
      const bucket = `${String(inputs.bucketPrefix ?? "")}offline`;
      return { bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.us-east-1.amazonaws.com` };
    }
    default:
      return {};
  }
}

export function fakeCall(token: string, _inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:ec2/getAmi:getAmi":
      return { id: "ami-0postforgeoffline", name: "debian-12-amd64-offline" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/offline", userId: "OFFLINE" };
    case "aws:index/getRegion:getRegion":
      return { name: "us-east-1", id: "us-east-1" };
    default:
      return {};
  }
}
