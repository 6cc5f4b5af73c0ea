import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DKIM_KEY_TYPE } from "../components/dkim/dkim-key";
import { dkimSecretsReadPolicy } from "../components/dkim/host-access";
import { DkimKeyring } from "../components/dkim/keyring";
import { dkimKeyProvider, type DkimKeyInputs } from "../components/dkim/provider";
import { CloudflareBackend, MailDomain } from "../components/dns";
import { SECRET_PLACEHOLDER } from "../cli/plan/engine";
import { buildPlan } from "../cli/plan/plan";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { installMocks, settled, valueOf, type Registered } from "./support/pulumi-mocks";
import { runProgramWith } from "./support/offline";

/** Bodies of every private key generated in this process, to search outputs for. */
const generatedKeyBodies: string[] = [];

/** Real keys where the deployment would make them, so "no private key leaks" is tested against real key material. */
async function realKey(type: string, inputs: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  if (type !== DKIM_KEY_TYPE) return undefined;
  const { outs } = await dkimKeyProvider.create(inputs as unknown as DkimKeyInputs);
  generatedKeyBodies.push(String(outs.privateKeyPem).split("\n")[1]);
  return outs;
}

/** Whether any generated private key (a line of its base64 body) appears in the text. */
function leaksPrivateKey(text: string): boolean {
  return generatedKeyBodies.some((body) => text.includes(body));
}

describe("DkimKeyring under mocks", () => {
  let registered: Registered[];
  let keyring: DkimKeyring;
  let mailDomain: MailDomain;

  before(async () => {
    registered = await installMocks(realKey);
    keyring = new DkimKeyring("example.com", {
      domain: "example.com",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      ttl: 1800,
      keys: [
        { selector: "pf2026q2", algorithm: "rsa", bits: 2048, state: "revoked" },
        { selector: "pf2026q3", algorithm: "rsa", bits: 2048, state: "retiring" },
        { selector: "pf2026q4", algorithm: "rsa", bits: 2048, state: "active" },
        { selector: "pf2026q4e", algorithm: "ed25519", bits: 0, state: "active" },
      ],
    });
    mailDomain = new MailDomain("example.com", { domain: "example.com", records: keyring.records, backend: new CloudflareBackend({ zoneId: "z" }) });
    await settled([...Object.values(keyring.keys), ...mailDomain.dnsRecords]);
    await valueOf(pulumi.all(Object.values(keyring.secretArns)));
  });

  it("registers one DkimKey per selector, with the exact inputs, parented to the keyring", () => {
    const keys = registered.filter((r) => r.type === DKIM_KEY_TYPE).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      keys.map((k) => [k.name, k.inputs.domain, k.inputs.selector, k.inputs.algorithm, k.inputs.bits, k.inputs.state, k.inputs.overlapSeconds, k.inputs.allowLegacy1024]),
      [
        ["example.com-pf2026q2", "example.com", "pf2026q2", "rsa", 2048, "revoked", 604800, false],
        ["example.com-pf2026q3", "example.com", "pf2026q3", "rsa", 2048, "retiring", 604800, false],
        ["example.com-pf2026q4", "example.com", "pf2026q4", "rsa", 2048, "active", 604800, false],
        ["example.com-pf2026q4e", "example.com", "pf2026q4e", "ed25519", 0, "active", 604800, false],
      ],
    );
    const component = registered.find((r) => r.type === "postforge:dkim:DkimKeyring")!;
    assert.deepEqual(component.inputs, { domain: "example.com", selectors: ["pf2026q2:revoked", "pf2026q3:retiring", "pf2026q4:active", "pf2026q4e:active"] });
  });

  it("stores each live key in its own KMS-encrypted secret; a revoked key keeps none", () => {
    const secrets = registered.filter((r) => r.type === "aws:secretsmanager/secret:Secret").sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      secrets.map((s) => [s.name, s.inputs.name, s.inputs.kmsKeyId, s.inputs.recoveryWindowInDays, s.inputs.tags]),
      ["pf2026q3", "pf2026q4", "pf2026q4e"].map((selector) => [
        `example.com-${selector}-secret`,
        `postforge/dkim/example.com/${selector}`,
        "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        7,
        { "postforge:domain": "example.com", "postforge:selector": selector },
      ]),
    );
    assert.deepEqual(Object.keys(keyring.secretArns).sort(), ["pf2026q3", "pf2026q4", "pf2026q4e"]);
    assert.deepEqual(keyring.signingSelectors, ["pf2026q4", "pf2026q4e"]);
    const versions = registered.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
    assert.equal(versions.length, 3);
    for (const v of versions) {
      // Under mocks a secret input arrives in Pulumi's secret wrapper: a secret, holding the key itself.
      const wrapped = v.inputs.secretString as Record<string, unknown>;
      assert.equal(wrapped[specialSigKey], specialSecretSig);
      assert.match(String(wrapped.value), /^-----BEGIN PRIVATE KEY-----\n/);
      assert.ok(leaksPrivateKey(JSON.stringify(wrapped)), "the leak detector recognises real key material");
    }
  });

  it("keeps the private key a secret, and the public value plain", async () => {
    for (const key of Object.values(keyring.keys)) {
      assert.equal(await pulumi.isSecret(key.privateKeyPem), true);
      assert.equal(await pulumi.isSecret(key.dnsValue), false);
    }
  });

  it("publishes each key's value through the record core, split into strings of at most 255 octets", async () => {
    const records = await valueOf(mailDomain.records);
    const bySelector = new Map(records.map((r) => [r.name.split(".")[0], r]));
    const active = bySelector.get("pf2026q4")!;
    assert.ok(active.type === "TXT");
    assert.equal(active.strings.join(""), await valueOf(keyring.keys.pf2026q4.dnsValue));
    assert.ok(active.strings.length === 2 && active.strings.every((s) => Buffer.byteLength(s) <= 255));
    const revoked = bySelector.get("pf2026q2")!;
    assert.ok(revoked.type === "TXT");
    assert.deepEqual(revoked.strings, ["v=DKIM1; k=rsa; p="]);
    const cloudflare = registered.find((r) => r.name === "example.com-pf2026q4._domainkey-txt")!;
    assert.equal(cloudflare.inputs.content, active.strings.map((s) => `"${s}"`).join(" "));
  });

  it("records no private key material in any component's inputs", () => {
    assert.ok(generatedKeyBodies.length >= 4);
    for (const component of registered.filter((r) => !r.custom)) {
      assert.doesNotMatch(JSON.stringify(component.inputs), /PRIVATE KEY/, component.type);
      assert.ok(!leaksPrivateKey(JSON.stringify(component.inputs)), component.type);
    }
  });
});

describe("DKIM keys in the offline plan of the real program", () => {
  it("shows no private key material in the plan, keeps secret inputs secret, and protects active keys", async () => {
    const config = {
      // The keys' secrets live in Secrets Manager, which needs a region.
      "aws:region": "eu-west-1",
      environment: "development",
      domains: [
        {
          name: "example.com",
          dns: { provider: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
          nullMx: true,
          spf: { ip4: ["203.0.113.25"] },
          dkim: { keys: [{ quarter: "2026q3", state: "retiring" }, { quarter: "2026q4", state: "active" }, { quarter: "2026q4", algorithm: "ed25519", state: "active" }] },
          dmarc: { p: "reject", rua: ["mailto:dmarc@example.com"] },
        },
      ],
    };
    const run = await runProgramWith(config, "test", realKey);
    const plan = buildPlan({ project: "postforge", stack: "test" }, run);
    const before = generatedKeyBodies.length;
    assert.ok(before >= 3);
    // Nothing the plan prints or records holds key material: not the plan, the stack outputs, or any resource's inputs.
    assert.ok(!leaksPrivateKey(JSON.stringify({ plan, outputs: run.outputs, resources: run.resources })));
    assert.doesNotMatch(JSON.stringify(plan), /PRIVATE KEY/);
    // The real public keys did reach DNS (the plan read them back from the provider inputs).
    const active = plan.domains[0].records.find((r) => r.name === "pf2026q4._domainkey.example.com")!;
    assert.match(active.type === "TXT" ? active.strings.join("") : "", /^v=DKIM1; k=rsa; p=MIIBIjAN/);
    const versions = run.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
    assert.equal(versions.length, 3);
    for (const v of versions) {
      assert.deepEqual(v.secretInputs, ["secretString"]);
      assert.equal(v.inputs.secretString, SECRET_PLACEHOLDER);
    }
    assert.deepEqual(
      run.resources.filter((r) => r.type === DKIM_KEY_TYPE || r.type === "aws:secretsmanager/secret:Secret" || r.type === "aws:kms/key:Key").map((r) => `${r.name} ${r.protect}`).sort(),
      ["example.com-pf2026q3 false", "example.com-pf2026q3-secret false", "example.com-pf2026q4 true", "example.com-pf2026q4-secret true", "example.com-pf2026q4e true", "example.com-pf2026q4e-secret true", "postforge-dkim true"],
    );
  });
});

describe("dkimSecretsReadPolicy", () => {
  it("grants read on exactly the given secrets, and decrypt only through Secrets Manager", () => {
    assert.deepEqual(dkimSecretsReadPolicy(["arn:b", "arn:a"], "arn:kms", "eu-west-1"), {
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadOwnDkimKeys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: ["arn:a", "arn:b"] },
        { Sid: "DecryptDkimKeysViaSecretsManager", Effect: "Allow", Action: ["kms:Decrypt"], Resource: ["arn:kms"], Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } } },
      ],
    });
    assert.throws(() => dkimSecretsReadPolicy([], "arn:kms", "eu-west-1"), /no secrets given/);
  });
});
