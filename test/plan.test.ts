import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../cli/postforge";
import { listStacks } from "../cli/plan/stack-files";
import type { Plan } from "../cli/plan/plan";
import { renderZoneFile } from "../components/dns/zonefile";
import { namedCheckzone, resolver, startKnot, type KnotServer } from "./support/dns-tools";
import { PROJECT_DIR, planExampleStack } from "./support/offline";
import { captureIo } from "./support/io";


const record = (plan: Plan, name: string, type: string) =>
  plan.domains.flatMap((d) => d.records).filter((r) => r.name === name && r.type === type);

describe("offline plan of the example stacks", () => {
  const plans = new Map<string, Plan>();
  before(async () => {
    for (const stack of listStacks(PROJECT_DIR)) plans.set(stack, await planExampleStack(stack));
  });

  it("plans every example stack", () => {
    assert.deepEqual([...plans.keys()], ["dev", "prod", "selfhosted"]);
    for (const [stack, plan] of plans) {
      assert.ok(plan.domains.length >= 3, `${stack} has several domains`);
      // The one warning left where no host serves the MTA-STS policy: it is published as TXT but served elsewhere.
      // selfhosted's host serves its policy; prod's is on S3 and CloudFront (mtaSts.serve: cloudfront); dev serves it elsewhere.
      if (stack !== "dev") assert.deepEqual(plan.warnings, [], `${stack} serves the policy: no warning`);
      else assert.deepEqual(plan.warnings, ["domains[0].mtaSts: serve the policy (printed by the plan) at https://mta-sts.example.com/.well-known/mta-sts.txt with a certificate for mta-sts.example.com; until then senders ignore it and TLS-RPT reports fetch failures (or set domains[0].mtaSts.serve: \"cloudfront\" and Postforge serves it)"], stack);
    }
  });

  it("dev publishes the expected records on Cloudflare", () => {
    const dev = plans.get("dev")!;
    assert.deepEqual(dev.domains.map((d) => [d.domain, d.provider]), [["example.com", "cloudflare"], ["example.net", "cloudflare"], ["example.org", "cloudflare"]]);
    // The zones, keys and settings, and the MailStack component that holds them.
    assert.equal(dev.resourceCount, 38);
    assert.deepEqual(dev.resourcesByType, {
      "postforge:index:MailStack": 1,
      "postforge:config:StackSettings": 1,
      "postforge:dns:MailDomain": 3,
      "cloudflare:index/dnsRecord:DnsRecord": 24,
      "postforge:dkim:DkimKeyring": 1,
      "pulumi-nodejs:dynamic/dkim:DkimKey": 2,
      "aws:secretsmanager/secret:Secret": 2,
      "aws:secretsmanager/secretVersion:SecretVersion": 2,
      "aws:kms/key:Key": 1,
      "aws:kms/alias:Alias": 1,
    });
    assert.deepEqual(record(dev, "example.com", "TXT").map((r) => r.value), ['"v=spf1 ip4:203.0.113.25 ip6:2001:db8::25 include:sendgrid.net -all"']);
    assert.deepEqual(record(dev, "example.org", "TXT").map((r) => r.value), ['"v=spf1 include:_spf.google.com include:amazonses.com ~all"']);
    assert.deepEqual(record(dev, "_dmarc.example.com", "TXT").map((r) => r.value), ['"v=DMARC1; p=none; adkim=r; aspf=r; fo=1; rua=mailto:dmarc-reports@example.com"']);
    assert.deepEqual(record(dev, "mail.example.com", "TXT").map((r) => [r.purpose, r.value]), [["helo-spf", '"v=spf1 a -all"']]);
    // example.org and example.net send their reports to example.com: the authorizations land in that zone.
    const exampleCom = dev.domains.find((d) => d.domain === "example.com")!;
    assert.deepEqual(
      exampleCom.records.filter((r) => r.purpose === "dmarc-report-auth").map((r) => [r.name, r.value, r.resource]),
      [
        ["example.net._report._dmarc.example.com", '"v=DMARC1"', "example.com-example.net._report._dmarc-txt"],
        ["example.org._report._dmarc.example.com", '"v=DMARC1"', "example.com-example.org._report._dmarc-txt"],
      ],
    );
    // Managed keys exist only after deploy: the plan shows a placeholder and each selector's state.
    assert.deepEqual(record(dev, "pf2026q4._domainkey.example.com", "TXT").map((r) => r.value), ['"v=DKIM1; k=rsa; p=<generated-at-deploy>"']);
    assert.deepEqual(record(dev, "pf2026q4e._domainkey.example.com", "TXT").map((r) => r.value), ['"v=DKIM1; k=ed25519; p=<generated-at-deploy>"']);
    assert.deepEqual(dev.dkimKeys, [
      { domain: "example.com", selector: "pf2026q4", algorithm: "rsa", bits: 2048, state: "pending", protected: false },
      { domain: "example.com", selector: "pf2026q4e", algorithm: "ed25519", bits: 0, state: "pending", protected: false },
    ]);
    // A key held by an ESP is published from its configured public half.
    const esp = record(dev, "esp2026._domainkey.example.org", "TXT")[0];
    assert.ok(esp.type === "TXT" && esp.strings.length === 2 && esp.strings.every((s) => Buffer.byteLength(s) <= 255));
    assert.ok(esp.type === "TXT" && /^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/]{384}$/.test(esp.strings.join("")));
  });

  it("dev's parked domain gets the full never-send set", () => {
    const parked = plans.get("dev")!.domains.find((d) => d.domain === "example.net")!;
    assert.deepEqual(
      parked.records.map((r) => [r.name, r.type, r.value]),
      [
        ["*._domainkey.example.net", "TXT", '"v=DKIM1; p="'],
        ["_dmarc.example.net", "TXT", '"v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc-reports@example.com"'],
        ["example.net", "MX", "0 ."],
        ["example.net", "TXT", '"v=spf1 -all"'],
      ],
    );
  });

  it("prod publishes one Route53 record set per name and type", () => {
    const prod = plans.get("prod")!;
    assert.ok(prod.domains.every((d) => d.provider === "route53"));
    // With the MTA-STS site's two (mta-sts.example.com to CloudFront, and its certificate's validation record).
    assert.equal(prod.resourcesByType["aws:route53/record:Record"], 36);
    assert.equal(prod.resourcesByType["postforge:dns:MailDomain"], 5);
    const mx = record(prod, "example.com", "MX");
    assert.deepEqual(mx.map((r) => [r.value, r.resource, r.ttl]), [["10 mx1.example.com.", "example.com-@-mx", 1800], ["20 mx2.example.com.", "example.com-@-mx", 1800]]);
    assert.deepEqual(record(prod, "default._bimi.example.com", "TXT").map((r) => r.value), ['"v=BIMI1; l=https://brand.example.com/bimi/logo.svg; a=https://brand.example.com/bimi/vmc.pem"']);
    // Declared include costs travel with the plan, so `postforge diff` counts lookups as the builder did.
    assert.deepEqual(prod.spfIncludeCosts, { "_spf.esp.example.com": 3, "spf.protection.outlook.com": 2 });
  });

  it("prod shows a rotation in progress: active keys protected, retiring keys still published, one secret per live key", () => {
    const prod = plans.get("prod")!;
    assert.deepEqual(
      prod.dkimKeys.map((k) => `${k.domain} ${k.selector} ${k.algorithm}-${k.bits} ${k.state}${k.protected ? " protected" : ""}`),
      [
        "example.com pf2026q2 rsa-2048 retiring",
        "example.com pf2026q2e ed25519-0 retiring",
        "example.com pf2026q4 rsa-2048 active protected",
        "example.com pf2026q4e ed25519-0 active protected",
        "example.org pf2026q4 rsa-3072 active protected",
      ],
    );
    for (const selector of ["pf2026q2", "pf2026q4"]) assert.equal(record(prod, `${selector}._domainkey.example.com`, "TXT").length, 1);
    assert.equal(prod.resourcesByType["aws:secretsmanager/secret:Secret"], 5);
    assert.equal(prod.resourcesByType["pulumi-nodejs:dynamic/dkim:DkimKey"], 5);
  });

  it("every planned zone passes named-checkzone", async () => {
    for (const [stack, plan] of plans) {
      for (const domain of plan.domains) {
        const result = await namedCheckzone(domain.domain, renderZoneFile(domain.domain, domain.records));
        assert.ok(result.ok, `${stack}/${domain.domain}: ${result.output}`);
      }
    }
  });

  describe("served by a real authoritative server", () => {
    let knot: KnotServer;
    before(async () => {
      const prod = plans.get("prod")!;
      knot = await startKnot(prod.domains.map((d) => ({ apex: d.domain, text: renderZoneFile(d.domain, d.records) })));
    });
    after(async () => knot?.stop());

    it("answers every planned record exactly as planned", async () => {
      const dns = resolver(knot.port);
      for (const domain of plans.get("prod")!.domains) {
        const byNameType = new Map<string, typeof domain.records>();
        for (const r of domain.records) byNameType.set(`${r.name} ${r.type}`, [...(byNameType.get(`${r.name} ${r.type}`) ?? []), r]);
        for (const [key, records] of byNameType) {
          const [name, type] = key.split(" ");
          const sortStrings = (xs: string[]) => [...xs].sort();
          switch (type) {
            case "TXT":
              assert.deepEqual(sortStrings((await dns.resolveTxt(name)).map((s) => JSON.stringify(s))), sortStrings(records.map((r) => JSON.stringify(r.type === "TXT" ? r.strings : []))), key);
              break;
            case "MX":
              assert.deepEqual(
                sortStrings((await dns.resolveMx(name)).map((m) => `${m.priority} ${m.exchange || "."}`)),
                sortStrings(records.map((r) => (r.type === "MX" ? `${r.priority} ${r.exchange}` : ""))),
                key,
              );
              break;
            case "A":
              assert.deepEqual(sortStrings(await dns.resolve4(name)), sortStrings(records.map((r) => (r.type === "A" ? r.address : ""))), key);
              break;
            case "CNAME":
              assert.deepEqual(await dns.resolveCname(name), records.map((r) => (r.type === "CNAME" ? r.target.replace(/\.$/, "") : "")), key);
              break;
            case "CAA":
              assert.deepEqual(
                sortStrings((await dns.resolveCaa(name)).map((c) => `${c.critical} ${Object.entries(c).find(([k]) => k !== "critical")!.join(" ")}`)),
                sortStrings(records.map((r) => (r.type === "CAA" ? `${r.flags} ${r.tag} ${r.value}` : ""))),
                key,
              );
              break;
            default:
              assert.fail(`no check for ${key}`);
          }
        }
      }
    });
  });
});

describe("postforge plan (command line)", () => {
  it("prints the table with the resource count and exits 0", async () => {
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--cwd", PROJECT_DIR], io), 0);
    assert.match(io.out, /^Plan for stack dev \(project postforge\), offline/);
    assert.match(io.out, /example\.com {2}\[cloudflare, 14 records\]/);
    assert.match(io.out, /_dmarc\.example\.com\s+TXT\s+3600\s+dmarc\s+"v=DMARC1; p=none;/);
    assert.match(io.out, /Resources: 38 \(1 aws:kms\/alias:Alias, 1 aws:kms\/key:Key, 2 aws:secretsmanager\/secret:Secret, 2 aws:secretsmanager\/secretVersion:SecretVersion, 24 cloudflare:index\/dnsRecord:DnsRecord, 1 postforge:config:StackSettings, 1 postforge:dkim:DkimKeyring, 3 postforge:dns:MailDomain, 1 postforge:index:MailStack, 2 pulumi-nodejs:dynamic\/dkim:DkimKey\)/);
    assert.match(io.out, /DKIM keys \(generated at deploy; private halves in Secrets Manager\):\n\s+SELECTOR\s+KEY\s+STATE\s+MEANING\n\s+pf2026q4\s+rsa-2048\s+pending\s+published, not signing yet\n\s+pf2026q4e\s+ed25519\s+pending/);
    assert.equal(io.err, "");
  });

  it("--json prints the plan as JSON on standard output", async () => {
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "prod", "--json", "--cwd", PROJECT_DIR], io), 0);
    const plan = JSON.parse(io.out) as Plan;
    assert.equal(plan.stack, "prod");
    assert.equal(plan.resourceCount, 71);
    assert.deepEqual(plan, await planExampleStack("prod"));
  });

  it("--out writes one zone file per domain", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-zones-"));
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--out", dir, "--cwd", PROJECT_DIR], io), 0);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["example.com.zone", "example.net.zone", "example.org.zone", "mta-sts.example.com"]);
    assert.equal(fs.readFileSync(path.join(dir, "mta-sts.example.com", ".well-known", "mta-sts.txt"), "utf8"), "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n");
    const zone = fs.readFileSync(path.join(dir, "example.net.zone"), "utf8");
    assert.match(zone, /^example\.net\.\s+3600\s+IN\s+MX\s+0 \.$/m);
    assert.ok((await namedCheckzone("example.net", zone)).ok);
    fs.rmSync(dir, { recursive: true });
  });

  it("exits 2 with a clear message on invalid flags or an unknown stack", async () => {
    for (const [args, message] of [
      [["plan"], /stack = nothing: is required/],
      [["plan", "--stack", "dev", "--bogus"], /Unknown option '--bogus'/],
      [["plan", "--stack", "../etc"], /stack = "\.\.\/etc": must be a stack name/],
      [["plan", "--stack", "staging", "--cwd", PROJECT_DIR], /no stacks\/Pulumi\.staging\.yaml; the stacks are dev, prod/],
      [["deploy"], /unknown command "deploy"/],
    ] as [string[], RegExp][]) {
      const io = captureIo();
      assert.equal(await main(args, io), 2, args.join(" "));
      assert.match(io.err, message);
      assert.equal(io.out, "");
    }
  });

  it("exits 2 with the config message when a stack file is invalid", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "postforge-project-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(PROJECT_DIR, "index.ts"), path.join(dir, "index.ts"));
    fs.mkdirSync(path.join(dir, "stacks"));
    const broken = fs.readFileSync(path.join(PROJECT_DIR, "stacks", "Pulumi.dev.yaml"), "utf8").replace("p: quarantine", "p: block");
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.broken.yaml"), broken);
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "broken", "--cwd", dir], io), 2);
    assert.match(io.err, /stack "broken" config is invalid:\n {2}- domains\[1\]\.dmarc\.p = "block": must be one of none, quarantine, reject/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("offline engine outputs", () => {
  it("keeps known outputs when another export is unknown at preview", async () => {
    const { runOffline } = await import("../cli/plan/engine");
    const { buildPlan } = await import("../cli/plan/plan");
    const run = await runOffline({ programPath: path.join(__dirname, "fixtures", "unknown-output-program.ts"), project: "postforge", stack: "test", config: {} });
    assert.equal(run.outputs.roleArn, undefined);
    const plan = buildPlan({ project: "postforge", stack: "test" }, run);
    assert.deepEqual(plan.mtaStsPolicies, { "example.com": "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 604800\r\n" });
    assert.deepEqual(plan.spfIncludeCosts, { "_spf.esp.example.com": 3 });
  });
});
