import * as pulumi from "@pulumi/pulumi";
import { Certificate, CertificateValidation } from "@pulumi/aws/acm";
import { Distribution, OriginAccessControl } from "@pulumi/aws/cloudfront";
import { Bucket, BucketObjectv2, BucketPolicy, BucketPublicAccessBlock } from "@pulumi/aws/s3";
import type { DnsBackend } from "../dns/backend";
import { MTA_STS_POLICY_SITE_TYPE } from "../type-tokens";
import { ValidationError } from "../validation";
import { checkMtaStsPolicy, MTA_STS_POLICY_PATH, mtaStsPolicyHost } from "../dns/protocols/mta-sts";
import { isDnsName } from "../dns/record-rules";

/**
 * MTA-STS policies served on AWS, for stacks without a mail host: each
 * domain's policy file in one private S3 bucket, behind its own CloudFront
 * distribution for `mta-sts.<domain>` with an ACM certificate (CloudFront
 * takes certificates from us-east-1 only: the resource's own `region`, so
 * the stack's provider and its credentials, profile and tags still apply)
 * validated by DNS through the domain's own zone, and `mta-sts.<domain>`
 * pointed at the distribution.
 *
 * Why one distribution per domain: the policy path is the same for every
 * domain (/.well-known/mta-sts.txt), so each distribution reads its own
 * prefix of the bucket (originPath `/<domain>`), with no code at the edge.
 * Caching is off (CloudFront's managed CachingDisabled policy): senders cache
 * by the TXT record's id, and the file must be what S3 holds the moment the
 * id changes. MailStack puts `_mta-sts.<domain>` after `policyReady` (the
 * object, the distribution, its name and the bucket policy that lets it
 * read), so the id is published only once the file can be fetched, and a
 * changed policy is uploaded before its id changes (RFC 8461 §3.3).
 * HTTPS only, and no redirect: RFC 8461 §3.3 has senders refuse redirects.
 */

/** CloudFront's managed cache policy "CachingDisabled". */
export const CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

/** One domain whose policy the site serves. */
export interface MtaStsPolicySiteDomain {
  /** The policy domain: the site serves https://mta-sts.<domain>/.well-known/mta-sts.txt. A plain string: it names resources. */
  domain: string;
  /** The policy text (mtaStsPolicyText). */
  policy: string;
  /** The zone that holds `mta-sts.<domain>` and the certificate's validation record. */
  backend: DnsBackend;
  /** TTL of the records published in that zone. */
  ttl: number;
}

/** The arguments of an MtaStsPolicySite. */
export interface MtaStsPolicySiteArgs {
  /** The domains to serve, each with its policy and zone. */
  domains: MtaStsPolicySiteDomain[];
  /** Tags for the bucket, certificates and distributions. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Problems with the site's domains, named by field; empty when it can be built. */
export function policySiteProblems(domains: readonly MtaStsPolicySiteDomain[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  domains.forEach((d, i) => {
    if (!isDnsName(d.domain)) problems.push(`domains[${i}].domain = "${d.domain}": is not a DNS name; give the policy domain, such as example.com`);
    if (seen.has(d.domain)) problems.push(`domains[${i}].domain = "${d.domain}": is listed twice; serve each domain once`);
    seen.add(d.domain);
    if (typeof d.backend?.publishDeferred !== "function") problems.push(`domains[${i}].backend: cannot publish records made at deploy (publishDeferred); use a CloudflareBackend or Route53Backend`);
    const errors = checkMtaStsPolicy(d.policy).filter((f) => f.severity === "error");
    for (const e of errors) problems.push(`domains[${i}].policy: ${e.message}`);
  });
  if (domains.length === 0) problems.push("domains = []: give at least one domain to serve");
  return problems;
}

/**
 * The MTA-STS policy site (see the top of this file). `policyReady` is what
 * each `_mta-sts` record must wait for.
 */
export class MtaStsPolicySite extends pulumi.ComponentResource {
  /** The bucket holding every policy, under `<domain>/.well-known/mta-sts.txt`. */
  readonly bucketName: pulumi.Output<string>;
  /** By domain: the policy's S3 object. */
  readonly policyObjects: Record<string, BucketObjectv2>;
  /**
   * By domain: what must be in place before the `_mta-sts.<domain>` id is
   * published or changed: the object, the distribution, `mta-sts.<domain>`
   * and the bucket policy that lets CloudFront read.
   */
  readonly policyReady: Record<string, pulumi.Resource[]>;
  /** By domain: the distribution's own name (`d….cloudfront.net`), which `mta-sts.<domain>` points at. */
  readonly distributionDomainNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: MtaStsPolicySiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = policySiteProblems(args.domains);
    if (problems.length > 0) throw new ValidationError(`MtaStsPolicySite "${name}"`, problems);
    const facts = { domains: args.domains.map((d) => d.domain) };
    super(MTA_STS_POLICY_SITE_TYPE, name, facts, opts);
    const tags = args.tags ?? {};

    const bucket = new Bucket(`${name}-bucket`, { bucketPrefix: "postforge-mta-sts-", forceDestroy: true, tags }, { parent: this });
    const privacy = new BucketPublicAccessBlock(
      `${name}-bucket-private`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    const access = new OriginAccessControl(
      `${name}-origin-access`,
      { name: pulumi.interpolate`${bucket.id}`, description: "Postforge MTA-STS policies", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
      { parent: this },
    );

    this.policyObjects = {};
    this.distributionDomainNames = {};
    const distributions: Distribution[] = [];
    const published: Record<string, pulumi.Resource[]> = {};
    for (const d of args.domains) {
      const policyHost = mtaStsPolicyHost(d.domain);
      this.policyObjects[d.domain] = new BucketObjectv2(
        `${name}-${d.domain}-policy`,
        { bucket: bucket.id, key: `${d.domain}${MTA_STS_POLICY_PATH}`, content: d.policy, contentType: "text/plain; charset=utf-8", cacheControl: "no-cache", tags },
        { parent: this },
      );
      const certificate = new Certificate(`${name}-${d.domain}-certificate`, { region: "us-east-1", domainName: policyHost, validationMethod: "DNS", tags }, { parent: this });
      const option = certificate.domainValidationOptions.apply((options) => options.find((o) => o.domainName === policyHost) ?? options[0]);
      const validationRecord = d.backend.publishDeferred!(
        `${name}-${d.domain}-certificate-validation-record`,
        // ACM's validation record is the same for every certificate of the name in the account: take over one left by another.
        { name: option.apply((o) => o.resourceRecordName.replace(/\.$/, "")), type: "CNAME", value: option.apply((o) => o.resourceRecordValue.replace(/\.$/, "")), ttl: d.ttl, allowOverwrite: true },
        { parent: this },
      );
      const validation = new CertificateValidation(
        `${name}-${d.domain}-certificate-validation`,
        { region: "us-east-1", certificateArn: certificate.arn, validationRecordFqdns: [option.apply((o) => o.resourceRecordName.replace(/\.$/, ""))] },
        { parent: this, dependsOn: [validationRecord] },
      );
      const distribution = new Distribution(
        `${name}-${d.domain}`,
        {
          enabled: true,
          comment: `Postforge MTA-STS policy for ${d.domain}`,
          aliases: [policyHost],
          origins: [{ originId: "policy", domainName: bucket.bucketRegionalDomainName, originAccessControlId: access.id, originPath: `/${d.domain}` }],
          defaultCacheBehavior: {
            targetOriginId: "policy",
            viewerProtocolPolicy: "https-only",
            allowedMethods: ["GET", "HEAD"],
            cachedMethods: ["GET", "HEAD"],
            cachePolicyId: CACHING_DISABLED_POLICY_ID,
            compress: false,
          },
          restrictions: { geoRestriction: { restrictionType: "none" } },
          viewerCertificate: { acmCertificateArn: validation.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" },
          httpVersion: "http2and3",
          priceClass: "PriceClass_All",
          tags,
        },
        { parent: this },
      );
      distributions.push(distribution);
      this.distributionDomainNames[d.domain] = distribution.domainName;
      const policyHostRecord = d.backend.publishDeferred!(`${name}-${d.domain}-policy-host`, { name: policyHost, type: "CNAME", value: distribution.domainName, ttl: d.ttl }, { parent: this });
      published[d.domain] = [this.policyObjects[d.domain], distribution, policyHostRecord];
    }

    // Only these distributions may read the bucket (CloudFront's origin access control, AWS:SourceArn).
    const bucketPolicy = new BucketPolicy(
      `${name}-bucket-policy`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudFrontReadsPolicies",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: "s3:GetObject",
              Resource: pulumi.interpolate`${bucket.arn}/*`,
              Condition: { StringEquals: { "AWS:SourceArn": distributions.map((x) => x.arn) } },
            },
          ],
        }),
      },
      // S3 refuses a policy and a public access block changed at once on a new bucket (OperationAborted).
      { parent: this, dependsOn: [privacy] },
    );
    this.policyReady = Object.fromEntries(Object.entries(published).map(([domain, resources]) => [domain, [...resources, bucketPolicy]]));

    this.bucketName = bucket.id;
    this.registerOutputs({ ...facts, bucketName: this.bucketName, distributionDomainNames: this.distributionDomainNames });
  }
}
