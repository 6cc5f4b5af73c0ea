/**
 * MTA-STS policies on AWS, for a stack without a mail host: the example stack
 * `prod` (example.com has `mtaSts.serve: cloudfront`) run by the real
 * index.ts under the offline engine's mocks. Exact resources and inputs of
 * the policy site (S3, CloudFront, ACM in us-east-1, the validation record in
 * the domain's own zone), the order RFC 8461 §3.3 asks (the policy object
 * before the `_mta-sts` id; the certificate validated through its record
 * before CloudFront uses it), and configs that cannot work refused before
 * anything registers.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { OfflineRunResult } from "../cli/plan/engine";
import { fakeComputedOutputs } from "../cli/plan/fakes";
import { buildPlan, type Plan } from "../cli/plan/plan";
import { mtaStsPolicyId } from "../components/dns/protocols";
import { CACHING_DISABLED_POLICY_ID, policySiteProblems } from "../components/mta-sts/policy-site";
import { MTA_STS_POLICY_SITE_TYPE } from "../components/type-tokens";
import { failingRun, runProgramWith } from "./support/offline";
import { exampleStackConfig } from "./support/policy-harness";

const STACK = "prod";
const ZONE = "Z0123456789ABCDEFGHIJ";

/** The real index.ts, offline, with this stack's name and the given config. */
const runWith = (config: Record<string, any>): Promise<OfflineRunResult> => runProgramWith(config, STACK);
/** The same, expected to be refused: the message and what was registered before it. */
const refused = (config: Record<string, any>) => failingRun(config, STACK);

describe("MTA-STS on S3 and CloudFront (mtaSts.serve: cloudfront), the example stack prod", () => {
  let result: OfflineRunResult;
  let plan: Plan;
  const byName = (name: string) => {
    const found = result.resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
  };

  before(async () => {
    result = await runWith(exampleStackConfig(STACK));
    plan = buildPlan({ project: "postforge", stack: STACK }, result);
  });

  it("builds one site under the stack: a private bucket and CloudFront's access to it", () => {
    const site = result.resources.filter((r) => r.type === MTA_STS_POLICY_SITE_TYPE);
    assert.deepEqual(site.map((r) => [r.name, r.parent, r.outputs?.domains]), [["postforge-mta-sts", `urn:pulumi:${STACK}::postforge::postforge:index:MailStack::postforge`, ["example.com"]]]);
    const children = result.resources.filter((r) => r.parent === site[0].urn).map((r) => `${r.type} ${r.name}`).sort();
    assert.deepEqual(children, [
      "aws:acm/certificate:Certificate postforge-mta-sts-example.com-certificate",
      "aws:acm/certificateValidation:CertificateValidation postforge-mta-sts-example.com-certificate-validation",
      "aws:cloudfront/distribution:Distribution postforge-mta-sts-example.com",
      "aws:cloudfront/originAccessControl:OriginAccessControl postforge-mta-sts-origin-access",
      "aws:route53/record:Record postforge-mta-sts-example.com-certificate-validation-record",
      "aws:route53/record:Record postforge-mta-sts-example.com-policy-host",
      "aws:s3/bucket:Bucket postforge-mta-sts-bucket",
      "aws:s3/bucketObjectv2:BucketObjectv2 postforge-mta-sts-example.com-policy",
      "aws:s3/bucketPolicy:BucketPolicy postforge-mta-sts-bucket-policy",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock postforge-mta-sts-bucket-private",
    ]);
    // No provider of its own: the stack's (its credentials, profile, assumed role and default tags) makes every resource.
    assert.ok(result.resources.filter((r) => r.parent === site[0].urn).every((r) => r.provider === undefined));
    assert.deepEqual(byName("postforge-mta-sts-bucket").inputs, { bucketPrefix: "postforge-mta-sts-", forceDestroy: true, tags: { "postforge:stack": STACK } });
    assert.deepEqual(byName("postforge-mta-sts-bucket-private").inputs, {
      bucket: "postforge-mta-sts-bucket-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const access = byName("postforge-mta-sts-origin-access").inputs;
    assert.deepEqual([access.originAccessControlOriginType, access.signingBehavior, access.signingProtocol], ["s3", "always", "sigv4"]);
  });

  it("uploads the exact policy the TXT id names, as text/plain, never cached", () => {
    const policy = plan.mtaStsPolicies["example.com"];
    assert.equal(policy, "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 1209600\r\n");
    assert.deepEqual(byName("postforge-mta-sts-example.com-policy").inputs, {
      bucket: "postforge-mta-sts-bucket-id",
      key: "example.com/.well-known/mta-sts.txt",
      content: policy,
      contentType: "text/plain; charset=utf-8",
      cacheControl: "no-cache",
      tags: { "postforge:stack": STACK },
    });
    const txt = plan.domains.find((d) => d.domain === "example.com")!.records.find((r) => r.name === "_mta-sts.example.com")!;
    assert.equal(txt.value, `"v=STSv1; id=${mtaStsPolicyId(policy)}"`);
  });

  it("asks ACM in us-east-1 for mta-sts.example.com, validated by a CNAME in example.com's own zone, before CloudFront uses it", () => {
    const certificate = byName("postforge-mta-sts-example.com-certificate");
    assert.deepEqual(certificate.inputs, { region: "us-east-1", domainName: "mta-sts.example.com", validationMethod: "DNS", tags: { "postforge:stack": STACK } });
    const record = byName("postforge-mta-sts-example.com-certificate-validation-record");
    const token = /^_([0-9a-f]{8})\.mta-sts\.example\.com$/.exec(String(record.inputs.name))?.[1];
    assert.ok(token, `the validation record's name is ACM's: ${String(record.inputs.name)}`);
    assert.deepEqual(record.inputs, { zoneId: ZONE, name: `_${token}.mta-sts.example.com`, type: "CNAME", ttl: 1800, records: [`_${token}.offline.acm-validations.aws`], allowOverwrite: true });
    const validation = byName("postforge-mta-sts-example.com-certificate-validation");
    assert.deepEqual(validation.inputs, { region: "us-east-1", certificateArn: `arn:aws:acm:us-east-1:123456789012:certificate/${token}-offline`, validationRecordFqdns: [`_${token}.mta-sts.example.com`] });
    assert.ok(validation.dependencies.includes(record.urn), "the validation waits for its record");
    // The plan shows the record in example.com's zone, so a reviewer sees it.
    assert.ok(plan.domains.find((d) => d.domain === "example.com")!.records.some((r) => r.name === `_${token}.mta-sts.example.com` && r.type === "CNAME"));
  });

  it("serves mta-sts.example.com from its own distribution: HTTPS only, no cache, the bucket's example.com prefix, the validated certificate", () => {
    const distribution = byName("postforge-mta-sts-example.com");
    const validation = byName("postforge-mta-sts-example.com-certificate-validation");
    const inputs = distribution.inputs as any;
    assert.deepEqual(inputs.aliases, ["mta-sts.example.com"]);
    assert.deepEqual(inputs.origins, [{ originId: "policy", domainName: "postforge-mta-sts-offline.s3.us-east-1.amazonaws.com", originAccessControlId: "postforge-mta-sts-origin-access-id", originPath: "/example.com" }]);
    assert.deepEqual(inputs.defaultCacheBehavior, {
      targetOriginId: "policy",
      viewerProtocolPolicy: "https-only",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: CACHING_DISABLED_POLICY_ID,
      compress: false,
    });
    assert.deepEqual(inputs.viewerCertificate, { acmCertificateArn: validation.inputs.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    assert.ok(distribution.dependencies.includes(validation.urn), "CloudFront takes the certificate once it is validated");
    // mta-sts.example.com points at it (not proxied anywhere: Route53).
    const cname = byName("postforge-mta-sts-example.com-policy-host");
    // What CloudFront computes, as the offline engine fakes it for this distribution.
    const computed = fakeComputedOutputs("aws:cloudfront/distribution:Distribution", distribution.name, {}) as { domainName: string; arn: string };
    assert.match(computed.domainName, /^d[0-9a-z]+offline\.cloudfront\.net$/);
    assert.deepEqual(cname.inputs, { zoneId: ZONE, name: "mta-sts.example.com", type: "CNAME", ttl: 1800, records: [computed.domainName] });
    // Only the distribution may read the bucket.
    const bucketPolicy = JSON.parse(String(byName("postforge-mta-sts-bucket-policy").inputs.policy));
    assert.deepEqual(bucketPolicy.Statement, [
      {
        Sid: "CloudFrontReadsPolicies",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::postforge-mta-sts-offline/*",
        Condition: { StringEquals: { "AWS:SourceArn": [computed.arn] } },
      },
    ]);
    assert.match(computed.arn, /^arn:aws:cloudfront::123456789012:distribution\/E[0-9A-Z]+$/);
  });

  it("publishes the _mta-sts id only once the policy can be fetched (RFC 8461 §3.3), and nothing else of the zones waits", () => {
    const txt = byName("example.com-_mta-sts-txt");
    assert.equal(txt.inputs.name, "_mta-sts.example.com");
    // The file, the distribution, the name pointing at it and the bucket policy that lets CloudFront read it.
    const ready = ["postforge-mta-sts-example.com-policy", "postforge-mta-sts-example.com", "postforge-mta-sts-example.com-policy-host", "postforge-mta-sts-bucket-policy"].map((n) => byName(n).urn);
    for (const urn of ready) assert.ok(txt.dependencies.includes(urn), `the _mta-sts record waits for ${urn}`);
    const zoneRecords = result.resources.filter((r) => r.type === "aws:route53/record:Record" && r.name !== txt.name && !r.name.startsWith("postforge-mta-sts-"));
    assert.deepEqual(zoneRecords.filter((r) => ready.some((u) => r.dependencies.includes(u))).map((r) => r.name), []);
    // The bucket policy follows the public access block (S3 refuses both at once on a new bucket).
    assert.ok(byName("postforge-mta-sts-bucket-policy").dependencies.includes(byName("postforge-mta-sts-bucket-private").urn));
    assert.ok(!plan.warnings.some((w) => /serve the policy/.test(w)), plan.warnings.join("\n"));
    assert.deepEqual(plan.mtaStsServedBy, { "example.com": "CloudFront (S3, ACM in us-east-1)" });
  });

  it("refuses what cannot be served, naming the field, before anything registers", async () => {
    const base = exampleStackConfig(STACK);
    const domains = JSON.parse(JSON.stringify(base["postforge:domains"]));
    domains[0].mtaSts.serve = "mail-host";
    const noHost = await refused({ ...base, "postforge:domains": domains });
    assert.match(noHost.message, /domains\[0\]\.mtaSts\.serve: "mail-host": this stack has no mailHost, or use "cloudfront" \(S3 and CloudFront on AWS\) or "elsewhere" \(you serve the policy\)/);
    assert.deepEqual(noHost.registered, []);

    const taken = JSON.parse(JSON.stringify(base["postforge:domains"]));
    taken[0].hosts = [...(taken[0].hosts ?? []), { name: "mta-sts.example.com", ipv4: "198.51.100.7" }];
    const conflict = await refused({ ...base, "postforge:domains": taken });
    assert.match(conflict.message, /domains\[0\]\.hosts\[\d+\]\.name: "mta-sts\.example\.com" is where Postforge serves the MTA-STS policy \(mtaSts\.serve: "cloudfront"\), so the stack publishes its address; remove it from hosts, or set mtaSts\.serve: "elsewhere"/);
    assert.deepEqual(conflict.registered, []);

    const amazonless = JSON.parse(JSON.stringify(base["postforge:domains"]));
    amazonless[0].caa.issue = ["letsencrypt.org"];
    const caa = await refused({ ...base, "postforge:domains": amazonless });
    assert.match(caa.message, /domains\[0\]\.caa\.issue: \["letsencrypt\.org"\] lets no Amazon certificate be issued for mta-sts\.example\.com, which mtaSts\.serve: "cloudfront" needs \(RFC 8659, RFC 8657\); add "amazon\.com"/);
    assert.deepEqual(caa.registered, []);

    const { "aws:region": _region, ...noRegion } = base;
    const withoutKeys = JSON.parse(JSON.stringify(base["postforge:domains"])).map((d: any) => ({ ...d, dkim: { ...d.dkim, keys: [] } }));
    const regionless = await refused({ ...noRegion, "postforge:domains": withoutKeys });
    assert.match(regionless.message, /aws:region = nothing: domains\[0\]\.mtaSts\.serve = "cloudfront" keeps the policy in an S3 bucket, which needs a region/);
    assert.deepEqual(regionless.registered, []);
  });

  it("MtaStsPolicySite refuses bad arguments by field", () => {
    const backend = { provider: "route53" as const, prepare: () => ({ names: [], create: () => [] }), publishDeferred: () => undefined as never };
    const readOnly = { provider: "route53" as const, prepare: () => ({ names: [], create: () => [] }) };
    assert.deepEqual(policySiteProblems([]), ["domains = []: give at least one domain to serve"]);
    const problems = policySiteProblems([
      { domain: "example.com", policy: "version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n", backend, ttl: 300 },
      { domain: "example.com", policy: "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", backend, ttl: 300 },
      { domain: "not a name", policy: "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", backend, ttl: 300 },
      { domain: "example.org", policy: "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", backend: readOnly, ttl: 300 },
    ]);
    assert.deepEqual(problems, [
      'domains[0].policy: MTA-STS policy in mode "enforce" lists no mx; add a pattern for every MX host',
      'domains[1].domain = "example.com": is listed twice; serve each domain once',
      'domains[2].domain = "not a name": is not a DNS name; give the policy domain, such as example.com',
      "domains[3].backend: cannot publish records made at deploy (publishDeferred); use a CloudflareBackend or Route53Backend",
    ]);
  });
});
