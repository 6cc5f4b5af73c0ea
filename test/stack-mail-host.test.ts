/**
 * The stack's own mail host, configured by `postforge:mailHost`: the example
 * stack `selfhosted` planned by the real index.ts (exact resources, records the
 * host fills in, wiring), and every way the key can be wrong, each refused
 * before any resource exists.
 */
import { REQUIRED_ALARMS } from "../components/monitoring/alarms";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { OfflineRunResult } from "../cli/plan/engine";
import { buildPlan, type Plan } from "../cli/plan/plan";
import { comparePlans } from "../cli/diff/compare";
import { renderDiffMarkdown } from "../cli/diff/markdown";
import { renderZoneFile } from "../components/dns/zonefile";
import { defaultRamp } from "../components/sending/warmup";
import { namedCheckzone, resolver, startKnot, type KnotServer } from "./support/dns-tools";
import { makeTestRoot, run, type TestRoot } from "./support/mta-tools";
import { failingRun, runProgramWith } from "./support/offline";
import { exampleStackConfig } from "./support/policy-harness";

const STACK = "selfhosted";
const ROLE_LOCALS = ["abuse", "dmarc-rua", "dmarc-ruf", "fbl", "postmaster", "tls-rpt"];

/** The example stack's config as objects, to derive broken variants from. */
const exampleConfig = () => exampleStackConfig(STACK);

/** The real index.ts, offline, with this stack's name and the given config. */
const runWith = (config: Record<string, any>): Promise<OfflineRunResult> => runProgramWith(config, STACK);
/** The same, expected to be refused: the message and what was registered before it. */
const refused = (config: Record<string, any>) => failingRun(config, STACK);

describe("stack with its own mail host (selfhosted)", () => {
  let result: OfflineRunResult;
  let plan: Plan;
  const byName = (name: string) => {
    const found = result.resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
  };
  const values = (domain: string, name: string, type: string) =>
    plan.domains.find((d) => d.domain === domain)!.records.filter((r) => r.name === name && r.type === type).map((r) => r.value);

  before(async () => {
    result = await runWith(exampleConfig());
    // The plan says where today is in the host's warm-up: a fixed day (day 3 of the stack's ramp).
    process.env.POSTFORGE_TODAY = "2026-12-03";
    try {
      plan = buildPlan({ project: "postforge", stack: STACK }, result);
    } finally {
      delete process.env.POSTFORGE_TODAY;
    }
  });

  it("registers the host next to the zones and keys, with exact counts", () => {
    assert.equal(plan.resourceCount, 104);
    assert.deepEqual(plan.resourcesByType, {
      // The suppression list's durable copy.
      "aws:dynamodb/table:Table": 1,
      "aws:ec2/eip:Eip": 1,
      "aws:ec2/eipAssociation:EipAssociation": 1,
      "aws:ec2/eipDomainName:EipDomainName": 1,
      "aws:ec2/instance:Instance": 1,
      "aws:ec2/securityGroup:SecurityGroup": 1,
      "aws:iam/instanceProfile:InstanceProfile": 1,
      "aws:iam/role:Role": 1,
      "aws:iam/rolePolicy:RolePolicy": 1,
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
      // The host's monitoring: twelve alarms to one topic (one email subscriber), and a dashboard.
      "aws:cloudwatch/dashboard:Dashboard": 1,
      "aws:cloudwatch/metricAlarm:MetricAlarm": 12,
      "aws:sns/topic:Topic": 1,
      "aws:sns/topicSubscription:TopicSubscription": 1,
      "aws:kms/alias:Alias": 1,
      "aws:kms/key:Key": 1,
      // With mta-sts.example.com, where the host serves example.com's MTA-STS policy.
      "aws:route53/record:Record": 21,
      // Three DKIM keys, the host's two passwd-files (role mailboxes, submission logins), its config manifest and its unsubscribe key.
      "aws:secretsmanager/secret:Secret": 7,
      "aws:secretsmanager/secretVersion:SecretVersion": 7,
      "postforge:config:StackSettings": 1,
      "postforge:dkim:DkimKeyring": 2,
      "postforge:dns:MailDomain": 3,
      "postforge:index:MailStack": 1,
      "postforge:monitoring:MailHostMonitoring": 1,
      "postforge:mta:MailHost": 1,
      "pulumi-nodejs:dynamic/dkim:DkimKey": 3,
      // The wait for the host to serve the MTA-STS policy before its TXT id changes.
      "pulumi-nodejs:dynamic/mta-sts:MtaStsPolicyServed": 1,
      // Six role mailboxes for each of the two domains, and the two submission logins (and, for passwords, the unsubscribe key).
      "random:index/randomBytes:RandomBytes": 14,
      "random:index/randomPassword:RandomPassword": 15,
    });
    const host = byName("mail.example.com");
    assert.equal(host.type, "postforge:mta:MailHost");
    assert.equal(host.parent, `urn:pulumi:${STACK}::postforge::postforge:index:MailStack::postforge`);
    assert.deepEqual(host.inputs, {
      hostname: "mail.example.com",
      domains: ["example.com", "example.org"],
      mailboxes: ["example.com", "example.org"].flatMap((d) => ROLE_LOCALS.map((l) => `${l}@${d}`)),
      feedbackLoopAddresses: ["fbl@example.com", "fbl@example.org"],
      senders: [
        { login: "webapp", allowed: ["noreply@example.com", "example.org"] },
        { login: "billing", allowed: ["billing@example.com"] },
      ],
      signingKeys: ["example.com/pf2026q4", "example.com/pf2026q4e", "example.org/pf2026q4"],
      // The stack's warm-up, written out: the default ramp for every receiver group.
      warmup: { startDate: "2026-12-01", lastDay: 45, endDate: "2027-01-14", ramps: { gmail: defaultRamp(), microsoft: defaultRamp(), yahoo: defaultRamp(), other: defaultRamp() }, extraDomains: {} },
    });
  });

  it("fills in MX, SPF, DMARC reports and TLS-RPT with the host where the config is silent", () => {
    assert.deepEqual(values("example.com", "example.com", "MX"), ["10 mail.example.com."]);
    assert.deepEqual(values("example.org", "example.org", "MX"), ["10 mail.example.com."]);
    assert.deepEqual(values("example.com", "example.com", "TXT"), ['"v=spf1 a:mail.example.com include:amazonses.com -all"']);
    assert.deepEqual(values("example.org", "example.org", "TXT"), ['"v=spf1 a:mail.example.com -all"']);
    assert.deepEqual(values("example.com", "_dmarc.example.com", "TXT"), [
      '"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; rua=mailto:dmarc-rua@example.com; ruf=mailto:dmarc-ruf@example.com"',
    ]);
    assert.deepEqual(values("example.org", "_dmarc.example.org", "TXT"), [
      '"v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc-rua@example.org; ruf=mailto:dmarc-ruf@example.org"',
    ]);
    assert.deepEqual(values("example.com", "_smtp._tls.example.com", "TXT"), ['"v=TLSRPTv1; rua=mailto:tls-rpt@example.com"']);
    assert.deepEqual(values("example.org", "_smtp._tls.example.org", "TXT"), ['"v=TLSRPTv1; rua=mailto:tls-rpt@example.org"']);
    // The host's own name: its Elastic IP, and an SPF record for HELO checks.
    assert.deepEqual(values("example.com", "mail.example.com", "TXT"), ['"v=spf1 a -all"']);
    assert.deepEqual(values("example.com", "mail.example.com", "A"), [plan.mailHosts[0].publicIp]);
    // The MTA-STS policy names the host, as the MX it now is.
    assert.match(plan.mtaStsPolicies["example.com"], /^mx: mail\.example\.com\r$/m);
  });

  it("serves example.com's MTA-STS policy from the host, and changes the TXT id only after the host serves the file (RFC 8461 §3.3)", () => {
    const zone = result.resources.find((r) => r.type === "postforge:dns:MailDomain" && r.name === "example.com")!;
    const policy = plan.mtaStsPolicies["example.com"];
    // mta-sts.example.com at the Elastic IP, in example.com's zone.
    const policyHost = result.resources.filter((r) => r.parent === zone.urn && r.inputs.name === "mta-sts.example.com");
    assert.deepEqual(policyHost.map((r) => [r.name, r.inputs.type, r.inputs.records]), [["example.com-mta-sts-a", "A", [plan.mailHosts[0].publicIp]]]);
    // The wait: the host's address asked for exactly the policy, after the manifest that carries it is stored and the address is the instance's.
    const served = byName("mail.example.com-mta-sts-example.com");
    assert.equal(served.type, "pulumi-nodejs:dynamic/mta-sts:MtaStsPolicyServed");
    assert.deepEqual(
      { domain: served.inputs.domain, address: served.inputs.address, policy: served.inputs.policy, timeoutSeconds: served.inputs.timeoutSeconds, intervalSeconds: served.inputs.intervalSeconds },
      { domain: "example.com", address: plan.mailHosts[0].publicIp, policy, timeoutSeconds: 1200, intervalSeconds: 15 },
    );
    assert.ok(served.dependencies.includes(byName("mail.example.com-config-version").urn), `the wait follows the config manifest: ${JSON.stringify(served.dependencies)}`);
    assert.ok(served.dependencies.includes(byName("mail.example.com-eip-association").urn), "the wait follows the address's association");
    // The manifest carries the file the host serves, and the certificate names mta-sts.example.com.
    const manifest = (JSON.parse(plan.mailHosts[0].config) as { files: { path: string; content: string }[] }).files;
    assert.deepEqual(manifest.filter((f) => f.path.startsWith("/etc/postforge/mta-sts/")).map((f) => [f.path, f.content]), [["/etc/postforge/mta-sts/example.com.txt", policy]]);
    // Two lineages: the host's own name, and its mta-sts names (a policy zone's failing challenge never holds up the MX's).
    const boot = manifest.find((f) => f.path === "/usr/local/sbin/postforge-boot")!.content;
    assert.match(boot, /-d mail\.example\.com \\\n\s+--cert-name mail\.example\.com \\/);
    assert.match(boot, /-d mta-sts\.example\.com \\\n\s+--cert-name mail\.example\.com-mta-sts \\/);
    // Only _mta-sts waits for it; every other record of the zone goes ahead.
    const waiting = result.resources.filter((r) => r.dependencies.includes(served.urn)).map((r) => r.name);
    assert.deepEqual(waiting, ["example.com-_mta-sts-txt"]);
    assert.equal(byName("example.com-_mta-sts-txt").inputs.name, "_mta-sts.example.com");
    // example.org publishes no MTA-STS: nothing of it is served, and no warning asks to serve example.com's.
    assert.equal(result.resources.filter((r) => r.name.startsWith("mail.example.com-mta-sts-")).length, 1);
    assert.ok(!plan.warnings.some((w) => /serve the policy/.test(w)), plan.warnings.join("\n"));
    assert.deepEqual(plan.mtaStsServedBy, { "example.com": "the mail host mail.example.com" });
  });

  it("sets the PTR after the A record that the host's zone publishes, so forward and reverse agree", () => {
    const zone = result.resources.find((r) => r.type === "postforge:dns:MailDomain" && r.name === "example.com")!;
    const aRecord = result.resources.find((r) => r.parent === zone.urn && r.inputs.type === "A");
    assert.ok(aRecord);
    assert.deepEqual([aRecord.inputs.name, aRecord.inputs.records], ["mail.example.com", [plan.mailHosts[0].publicIp]]);
    const ptr = byName("mail.example.com-ptr");
    assert.equal(ptr.inputs.domainName, "mail.example.com");
    assert.ok(ptr.dependencies.includes(aRecord.urn), `the PTR depends on ${JSON.stringify(ptr.dependencies)}`);
    assert.equal(byName("mail.example.com-eip").protect, true);
  });

  it("lets the host's role read exactly the active keys of its domains, and change records only in its own zone", () => {
    const policy = JSON.parse(String(byName("mail.example.com-dkim-secrets").inputs.policy)) as { Statement: { Sid?: string; Action: string[] | string; Resource: string[] | string }[] };
    const secrets = policy.Statement.filter((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue")).flatMap((s) => [s.Resource].flat());
    const expected = ["example.com/pf2026q4", "example.com/pf2026q4e", "example.org/pf2026q4"].map((k) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/dkim/${k}-offline`);
    expected.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/passwd-offline");
    expected.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/senders-offline");
    expected.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/config-offline");
    expected.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:postforge/mail-host/mail.example.com/unsubscribe-key-offline");
    assert.deepEqual([...secrets].sort(), expected.sort());
    const dnsChange = policy.Statement.filter((s) => [s.Action].flat().includes("route53:ChangeResourceRecordSets")).flatMap((s) => [s.Resource].flat());
    assert.deepEqual(dnsChange, ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"]);
  });

  it("plans the host: address, PTR, hardening, inbound ports, keys and mailboxes", () => {
    const { userData, config, alarms, alarmEmails, dashboard, ...host } = plan.mailHosts[0];
    // The monitoring, as a reviewer reads it: every alarm, what it watches, that it notifies, and who.
    assert.equal(dashboard, "postforge-mail-example-com");
    assert.deepEqual(alarmEmails, ["ops@example.com"]);
    assert.deepEqual(alarms.map((a) => a.name), [...REQUIRED_ALARMS].sort().map((id) => `postforge-mail-example-com-${id}`));
    assert.ok(alarms.every((a) => a.notifies));
    assert.deepEqual(
      Object.fromEntries(alarms.map((a) => [a.name.replace("postforge-mail-example-com-", ""), `${a.severity}: ${a.condition}`])),
      {
        "bounce-rate-critical": "critical: Maximum BounceRate >= 10 (5 min x 1)",
        "bounce-rate-warn": "warn: Maximum BounceRate >= 5 (5 min x 1)",
        "certificate-expiry": "critical: Minimum CertificateDaysLeft < 14 (1 h x 1)",
        "complaint-rate-critical": "critical: Maximum ComplaintRate >= 0.3 (5 min x 1)",
        "complaint-rate-warn": "warn: Maximum ComplaintRate >= 0.1 (5 min x 1)",
        "config-sync": "critical: Minimum ConfigSyncAge > 3600 (15 min x 1)",
        "deferral-rate": "warn: Deferred attempts (%) [IF((m0 + m1 + m2 + m3) >= 50, 100 * m1 / (m0 + m1 + m2 + m3), 0)] > 20 (1 h x 1)",
        "dnsbl-listed": "critical: Maximum DnsblListed >= 1 (1 h x 1)",
        "ec2-status-check": "critical: Maximum StatusCheckFailed >= 1 (1 min x 2, no data fires)",
        "oldest-queued": "critical: Maximum OldestQueuedAge > 3600 (5 min x 3)",
        "suppression-sync": "critical: Minimum SuppressionSyncAge > 3600 (15 min x 1)",
        "host-reporting": "critical: SampleCount Delivered < 1 (5 min x 6, no data fires)",
      },
    );
    assert.match(host.publicIp, /^203\.0\.113\.\d+$/);
    assert.deepEqual(host, {
      hostname: "mail.example.com",
      publicIp: host.publicIp,
      ptr: "mail.example.com.",
      addressProtected: true,
      instanceType: "t3.small",
      ami: "ami-0postforgeoffline",
      imdsV2Required: true,
      rootVolumeEncrypted: true,
      ingress: [
        { port: 25, protocol: "tcp", sources: ["0.0.0.0/0"], description: "SMTP: inbound mail for the host's domains" },
        { port: 587, protocol: "tcp", sources: ["10.0.0.0/16"], description: "Submission (STARTTLS) from submission clients" },
        { port: 465, protocol: "tcp", sources: ["10.0.0.0/16"], description: "Submission (implicit TLS) from submission clients" },
        { port: 993, protocol: "tcp", sources: ["10.0.1.0/24"], description: "IMAPS from admin networks" },
        { port: 9154, protocol: "tcp", sources: ["10.0.1.0/24"], description: "Prometheus metrics from admin networks" },
        { port: 443, protocol: "tcp", sources: ["0.0.0.0/0"], description: "HTTPS: one-click unsubscribe (RFC 8058)" },
      ],
      mailboxes: ["example.com", "example.org"].flatMap((d) => ROLE_LOCALS.map((l) => `${l}@${d}`)),
      signingKeys: ["example.com/pf2026q4", "example.com/pf2026q4e", "example.org/pf2026q4"],
      senders: [
        { login: "webapp", allowed: ["noreply@example.com", "example.org"] },
        { login: "billing", allowed: ["billing@example.com"] },
      ],
      warmup: {
        startDate: "2026-12-01",
        lastDay: 45,
        endDate: "2027-01-14",
        ramps: { gmail: defaultRamp(), microsoft: defaultRamp(), yahoo: defaultRamp(), other: defaultRamp() },
        extraDomains: {},
        // 480 × 1.1114² rounded down to tens.
        today: { date: "2026-12-03", day: 3, state: "warming", caps: { gmail: 590, microsoft: 590, yahoo: 590, other: 590 } },
      },
    });
    assert.ok(userData.startsWith("#cloud-config\n"));
    // The configuration, keys included, travels in the manifest the host fetches, not in user-data.
    assert.doesNotMatch(userData, /postforge\/dkim\//);
    assert.match(config, /postforge\/dkim\/example\.org\/pf2026q4/);
  });

  it("boots with the user-data of the previous releases, so upgrading Postforge replaces no running instance", async () => {
    // userDataReplaceOnChange: a change here replaces every deployed host (its queue and mailboxes with it).
    // Configuration belongs in the manifest, packages in the boot script's CONFIG_PACKAGES. Only if a
    // replacement is really meant: regenerate the fixture and say so in the release notes.
    const pinned = await readFile(join(__dirname, "fixtures", "selfhosted.cloud-init.yaml"), "utf8");
    assert.equal(plan.mailHosts[0].userData, pinned);
  });

  it("keeps the mailbox passwords a secret output, and out of every recorded input", () => {
    assert.equal(result.outputs.mailboxPasswords, "[secret]");
    const passwd = byName("mail.example.com-mailbox-passwords-version");
    assert.deepEqual(passwd.secretInputs, ["secretString"]);
    assert.equal(passwd.inputs.secretString, "[secret]");
  });

  it("postforge diff: a configuration change is applied in place; only a change to the boot machinery replaces the instance", async () => {
    const planWith = async (change: (c: Record<string, any>) => void) => {
      const config = exampleConfig();
      change(config);
      return buildPlan({ project: "postforge", stack: STACK }, await runWith(config));
    };
    // A rotation step and a new limit: the config manifest changes, user-data does not.
    const reconfigured = await planWith((c) => {
      c["postforge:domains"][1].dkim.keys = [{ quarter: "2026q4", algorithm: "rsa", state: "active" }, { quarter: "2027q1", algorithm: "ed25519", state: "active" }];
      c["postforge:mailHost"].messageSizeLimit = 52_428_800;
    });
    assert.equal(reconfigured.mailHosts[0].userData, plan.mailHosts[0].userData);
    assert.notEqual(reconfigured.mailHosts[0].config, plan.mailHosts[0].config);
    assert.match(reconfigured.mailHosts[0].config, /message_size_limit = 52428800/);
    assert.match(
      renderDiffMarkdown(comparePlans(plan, reconfigured)),
      /### Mail hosts\n\n- `mail\.example\.com` \(changed\)\n {2}- signing keys added: example\.org\/pf2027q1e\n {2}- configuration changed: the host applies it in place \(postforge-sync, within about five minutes\)\n/,
    );
    // Another region: new user-data, so a new instance, and the diff says what that costs.
    const moved = await planWith((c) => (c["aws:region"] = "eu-central-1"));
    assert.match(
      renderDiffMarkdown(comparePlans(plan, moved)),
      /- `mail\.example\.com` \(changed\) ⚠️ \*\*the instance is replaced\*\* \(cloud-init runs once per instance\): queued mail and the role mailboxes on it are lost; the Elastic IP and its PTR stay\n {2}- boot configuration \(user-data\) changed\n\n/,
    );
    assert.doesNotMatch(renderDiffMarkdown(comparePlans(plan, plan)), /Mail hosts/);
  });

  describe("the host's files and zones, checked by the real tools", () => {
    let root: TestRoot;
    let knot: KnotServer;
    before(async () => {
      root = await makeTestRoot();
      knot = await startKnot(plan.domains.map((d) => ({ apex: d.domain, text: renderZoneFile(d.domain, d.records) })));
    });
    after(async () => {
      await knot?.stop();
      await root?.cleanup();
    });

    it("the planned user-data passes cloud-init schema", async () => {
      const file = root.at("/user-data");
      await writeFile(file, plan.mailHosts[0].userData);
      const checked = await run("cloud-init", ["schema", "--config-file", file]);
      assert.ok(checked.ok, checked.output);
    });

    it("every zone passes named-checkzone, and knotd answers the host's forward and SPF records as planned", async () => {
      for (const d of plan.domains) {
        const checked = await namedCheckzone(d.domain, renderZoneFile(d.domain, d.records));
        assert.ok(checked.ok, `${d.domain}: ${checked.output}`);
      }
      const dns = resolver(knot.port);
      assert.deepEqual(await dns.resolve4("mail.example.com"), [plan.mailHosts[0].publicIp]);
      assert.deepEqual(await dns.resolveMx("example.org"), [{ exchange: "mail.example.com", priority: 10 }]);
      assert.deepEqual(await dns.resolveTxt("example.org"), [["v=spf1 a:mail.example.com -all"]]);
    });
  });
});

describe("postforge:mailHost refused before anything is created", () => {
  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
    [
      "a host name outside the stack's zones",
      (c) => (c["postforge:mailHost"].hostname = "mail.example.dev"),
      /mailHost\.hostname: "mail\.example\.dev" is in none of this stack's sending domains \(example\.com, example\.org\)/,
    ],
    [
      "a host name that is a sending domain",
      (c) => (c["postforge:mailHost"].hostname = "example.org"),
      /mailHost\.hostname: "example\.org" is a sending domain; give the host its own name such as mail\.example\.org/,
    ],
    [
      "a served domain the stack does not have",
      (c) => c["postforge:mailHost"].domains.push("example.biz"),
      /mailHost\.domains\[2\]: "example\.biz" is not a sending domain of this stack/,
    ],
    [
      "a served domain with null MX",
      (c) => (c["postforge:domains"][1].nullMx = true),
      /mailHost\.domains\[1\]: "example\.org" has nullMx: true, but the host receives its postmaster@, abuse@ and report mail/,
    ],
    [
      "a served domain without an active key",
      (c) => (c["postforge:domains"][1].dkim.keys[0].state = "pending"),
      /mailHost\.domains\[1\]: "example\.org" has no active managed DKIM key, and the mail host signs everything it sends; add one under domains\[1\]\.dkim\.keys/,
    ],
    [
      "the host also listed with a fixed address",
      (c) => (c["postforge:domains"][0].hosts = [{ name: "mail.example.com", ipv4: "198.51.100.7" }]),
      /domains\[0\]\.hosts\[0\]\.name: "mail\.example\.com" is the mail host, whose A record is its Elastic IP; remove it from hosts/,
    ],
    [
      "a Cloudflare zone without a DNS-01 token secret",
      (c) => (c["postforge:domains"][0].dns = { provider: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" }),
      /mailHost\.tls\.cloudflareApiTokenSecretName = nothing|mailHost\.tls\.cloudflareApiTokenSecretName: is required: example\.com is on Cloudflare/,
    ],
    ["no aws:region", (c) => delete c["aws:region"], /aws:region = nothing: the mail host's instance and secrets need a region/],
    ["a malformed subnet id", (c) => (c["postforge:mailHost"].subnetId = "subnet-xyz"), /mailHost\.subnetId = "subnet-xyz": must be a subnet id such as subnet-0123456789abcdef0/],
    [
      "a submission range with host bits set",
      (c) => (c["postforge:mailHost"].submissionClients = ["10.0.0.1/16"]),
      /mailHost\.submissionClients\[0\] = "10\.0\.0\.1\/16": has host bits set; write the network, 10\.0\.0\.0\/16/,
    ],
    ["an unknown setting", (c) => (c["postforge:mailHost"].sshPort = 2222), /mailHost\.sshPort: unknown setting/],
    [
      "a DKIM overlap shorter than the queue lifetime",
      (c) => {
        c["postforge:dkim"] = { overlapDays: 2 };
        c["postforge:mailHost"].queue = { maximalLifetimeHours: 72 };
      },
      /dkim\.overlapDays = 2: is shorter than mailHost\.queue\.maximalLifetimeHours \(72 h\): mail queued that long would arrive after its key is revoked; raise overlapDays to at least 3 or shorten the queue lifetime/,
    ],
    [
      "a sender outside the served domains",
      (c) => c["postforge:mailHost"].senders.push({ login: "crm", allowed: ["crm@example.net"] }),
      /mailHost senders\[2\]\.allowed\[0\] = "crm@example\.net": is not in a domain this host signs \(example\.com, example\.org\)|senders\[2\]\.allowed\[0\] = "crm@example\.net": is not in a domain this host signs/,
    ],
    [
      "a sender in a subdomain of a domain whose DMARC is adkim=s",
      (c) => c["postforge:mailHost"].senders.push({ login: "news", allowed: ["news.example.com"] }),
      /senders\[2\]\.allowed\[0\] = "news\.example\.com": is a subdomain of example\.com, whose DMARC asks for strict DKIM alignment \(adkim=s\)/,
    ],
  ];
  for (const [what, breakIt, expected] of cases) {
    it(`refuses ${what}, naming the setting, and registers nothing`, async () => {
      const config = exampleConfig();
      breakIt(config);
      const { message, registered } = await refused(config);
      assert.match(message, expected);
      assert.deepEqual(registered.map((r) => r.name), []);
    });
  }

  it("warns when a served domain's explicit MX leaves the host out, and then leaves its report addresses alone", async () => {
    const config = exampleConfig();
    config["postforge:domains"][1].mx = [{ host: "aspmx.l.google.com", priority: 1 }];
    const planned = buildPlan({ project: "postforge", stack: STACK }, await runWith(config));
    assert.ok(
      planned.warnings.includes(
        "domains[1].mx: the mail host mail.example.com is not an MX of example.org, so its postmaster@, abuse@, fbl@ and report mailboxes receive nothing; add it, or make sure those addresses exist on aspmx.l.google.com",
      ),
      planned.warnings.join("\n"),
    );
    const org = planned.domains.find((d) => d.domain === "example.org")!;
    assert.deepEqual(org.records.filter((r) => r.name === "_dmarc.example.org").map((r) => r.value), ['"v=DMARC1; p=quarantine; sp=reject"']);
    assert.deepEqual(org.records.filter((r) => r.name === "_smtp._tls.example.org"), []);
  });

  it("serves a second domain's MTA-STS policy from the host too, and one on another DNS provider elsewhere unless told, refused if told", async () => {
    // example.org on the host zone's provider: served by the host by default, with its own mta-sts.example.org at the host's address.
    const config = exampleConfig();
    config["postforge:domains"][1].mtaSts = { mode: "testing" };
    const run = await runWith(config);
    const planned = buildPlan({ project: "postforge", stack: STACK }, run);
    assert.deepEqual(planned.mtaStsServedBy, { "example.com": "the mail host mail.example.com", "example.org": "the mail host mail.example.com" });
    const org = planned.domains.find((d) => d.domain === "example.org")!;
    assert.deepEqual(org.records.filter((r) => r.name === "mta-sts.example.org").map((r) => [r.type, r.value, r.ttl]), [["A", planned.mailHosts[0].publicIp, org.records.find((r) => r.name === "example.org" && r.type === "MX")!.ttl]]);
    const certbot = (JSON.parse(planned.mailHosts[0].config) as { files: { path: string; content: string }[] }).files.find((f) => f.path === "/usr/local/sbin/postforge-boot")!.content;
    assert.match(certbot, /-d mta-sts\.example\.com \\\n\s+-d mta-sts\.example\.org \\\n\s+--cert-name mail\.example\.com-mta-sts \\/);
    // The host's role may write the DNS-01 challenge in example.org's zone now too.
    const policy = JSON.parse(String(run.resources.find((r) => r.name === "mail.example.com-dkim-secrets")!.inputs.policy)) as { Statement: { Action: string[] | string; Resource: string[] | string }[] };
    const zones = policy.Statement.filter((st) => [st.Action].flat().includes("route53:ChangeResourceRecordSets")).flatMap((st) => [st.Resource].flat());
    assert.deepEqual(zones.sort(), ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ", "arn:aws:route53:::hostedzone/Z9876543210ZYXWVUTSRQ"]);

    // On Cloudflare while the host's zone is on Route53, certbot could not answer its challenge: served elsewhere, as before, with the warning.
    config["postforge:domains"][1].dns = { provider: "cloudflare", zoneId: "0123456789abcdef0123456789abcdef" };
    const elsewhere = buildPlan({ project: "postforge", stack: STACK }, await runWith(config));
    assert.deepEqual(elsewhere.mtaStsServedBy, { "example.com": "the mail host mail.example.com" });
    assert.ok(elsewhere.warnings.some((w) => w.startsWith("domains[1].mtaSts: serve the policy") && w.endsWith('(or set domains[1].mtaSts.serve: "cloudfront" and Postforge serves it)')), elsewhere.warnings.join("\n"));
    // A CAA record that lets Let's Encrypt issue only over HTTP-01 leaves certbot's DNS-01 refused: so is the config.
    const caaHttp = exampleConfig();
    caaHttp["postforge:domains"][0].caa.issue = ["letsencrypt.org; validationmethods=http-01"];
    const caa = await refused(caaHttp);
    assert.match(caa.message, /domains\[0\]\.caa\.issue: \["letsencrypt\.org; validationmethods=http-01"\] lets no Let's Encrypt certificate validated by DNS-01 be issued for mta-sts\.example\.com/);
    assert.deepEqual(caa.registered, []);
    caaHttp["postforge:domains"][0].caa.issue = ["letsencrypt.org; validationmethods=dns-01,http-01"];
    assert.ok(!buildPlan({ project: "postforge", stack: STACK }, await runWith(caaHttp)).warnings.some((w) => /caa/.test(w)));
    // Told to, it is refused before anything registers, naming what to do.
    config["postforge:domains"][1].mtaSts.serve = "mail-host";
    const { message, registered } = await refused(config);
    assert.match(message, /domains\[1\]\.mtaSts\.serve = "mail-host": example\.org is on cloudflare and the host's zone example\.com on route53; certbot answers the host's certificates' DNS-01 challenges through one DNS provider, so serve this policy with "cloudfront" or "elsewhere", or move the zone/);
    assert.deepEqual(registered, []);
  });

  it("keeps report addresses the config gives", async () => {
    const config = exampleConfig();
    config["postforge:domains"][0].dmarc.rua = ["mailto:dmarc@reports.example.com"];
    const planned = buildPlan({ project: "postforge", stack: STACK }, await runWith(config));
    const com = planned.domains.find((d) => d.domain === "example.com")!;
    assert.deepEqual(com.records.filter((r) => r.name === "_dmarc.example.com").map((r) => r.value), [
      '"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; rua=mailto:dmarc@reports.example.com; ruf=mailto:dmarc-ruf@example.com"',
    ]);
  });
});

