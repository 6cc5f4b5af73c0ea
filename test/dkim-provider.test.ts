import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import * as path from "node:path";
import * as vm from "node:vm";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { dkimKeyProvider, type DkimKeyInputs, type DkimKeyOutputs } from "../components/dkim/provider";

const provider = dkimKeyProvider as Required<pulumi.dynamic.ResourceProvider>;

const rsaInputs: DkimKeyInputs = { domain: "example.com", selector: "pf2026q4", algorithm: "rsa", bits: 2048, allowLegacy1024: false, state: "pending", overlapSeconds: 604800 };
const edInputs: DkimKeyInputs = { ...rsaInputs, selector: "pf2026q4e", algorithm: "ed25519", bits: 0 };

async function create(inputs: DkimKeyInputs): Promise<DkimKeyOutputs> {
  return (await provider.create(inputs)).outs as DkimKeyOutputs;
}

/** The key pair really is a pair: what the private half signs, the published half verifies. */
function assertPair(outs: DkimKeyOutputs): void {
  const data = Buffer.from("postforge");
  const privateKey = createPrivateKey(outs.privateKeyPem);
  const publicKey =
    outs.algorithm === "rsa"
      ? createPublicKey({ key: Buffer.from(outs.publicKey, "base64"), format: "der", type: "spki" })
      : createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(outs.publicKey, "base64")]), format: "der", type: "spki" });
  const hash = outs.algorithm === "rsa" ? "sha256" : null;
  assert.ok(verify(hash, data, publicKey, sign(hash, data, privateKey)));
}

describe("DkimKey provider: create", () => {
  it("generates an RSA 2048 key whose outputs carry the key and the exact DNS value", async () => {
    const outs = await create(rsaInputs);
    assert.match(outs.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPublicKey({ key: Buffer.from(outs.publicKey, "base64"), format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(outs.publicKey.length, 392);
    assert.equal(outs.dnsValue, `v=DKIM1; k=rsa; p=${outs.publicKey}`);
    assert.equal(outs.stateSince, outs.createdAt);
    assertPair(outs);
    assert.equal((await provider.create(rsaInputs)).id, "example.com/pf2026q4");
  });

  it("generates 3072 and 4096-bit keys on request", async () => {
    for (const bits of [3072, 4096]) {
      const outs = await create({ ...rsaInputs, bits });
      assert.equal(createPublicKey({ key: Buffer.from(outs.publicKey, "base64"), format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength, bits);
    }
  });

  it("generates an Ed25519 key published as the raw 32 bytes (RFC 8463)", async () => {
    const outs = await create(edInputs);
    assert.equal(Buffer.from(outs.publicKey, "base64").length, 32);
    assert.equal(outs.dnsValue, `v=DKIM1; k=ed25519; p=${outs.publicKey}`);
    assertPair(outs);
  });

  it("gives every key its own pair", async () => {
    assert.notEqual((await create(rsaInputs)).publicKey, (await create(rsaInputs)).publicKey);
  });
});

describe("DkimKey provider: diff and update", () => {
  it("reports no change and keeps the key on unchanged inputs", async () => {
    const outs = await create(rsaInputs);
    assert.deepEqual(await provider.diff("id", outs, rsaInputs), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("replaces the key when selector, algorithm or size change", async () => {
    const outs = await create(rsaInputs);
    assert.deepEqual((await provider.diff("id", outs, { ...rsaInputs, selector: "pf2027q1" })).replaces, ["selector"]);
    assert.deepEqual((await provider.diff("id", outs, { ...rsaInputs, bits: 4096 })).replaces, ["bits"]);
    assert.deepEqual((await provider.diff("id", outs, { ...rsaInputs, algorithm: "ed25519", bits: 0 })).replaces, ["algorithm", "bits"]);
  });

  it("updates the state in place: same key, new DNS value, new stateSince", async () => {
    const outs = await create(rsaInputs);
    const diff = await provider.diff("id", outs, { ...rsaInputs, state: "active" });
    assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
    const active = (await provider.update("id", { ...outs, stateSince: "2026-01-01T00:00:00.000Z" }, { ...rsaInputs, state: "active" })).outs as DkimKeyOutputs;
    assert.equal(active.publicKey, outs.publicKey);
    assert.equal(active.privateKeyPem, outs.privateKeyPem);
    assert.equal(active.state, "active");
    assert.notEqual(active.stateSince, "2026-01-01T00:00:00.000Z");
    const revoked = (await provider.update("id", { ...active, state: "retiring" }, { ...rsaInputs, state: "revoked" })).outs as DkimKeyOutputs;
    assert.equal(revoked.dnsValue, "v=DKIM1; k=rsa; p=");
    assert.equal(revoked.publicKey, outs.publicKey, "the key is remembered, only unpublished");
  });

  it("refuses to revoke a retiring key before the overlap is over, and allows it after", async () => {
    const outs = await create({ ...rsaInputs, state: "retiring" });
    await assert.rejects(provider.diff("id", { ...outs, stateSince: new Date().toISOString() }, { ...rsaInputs, state: "revoked" }), /retiring since .*may still be in flight until .*Keep state: retiring/);
    const eightDaysAgo = new Date(Date.now() - 8 * 86400_000).toISOString();
    assert.equal((await provider.diff("id", { ...outs, stateSince: eightDaysAgo }, { ...rsaInputs, state: "revoked" })).changes, true);
  });
});

describe("DkimKey provider: check (rotation without gaps)", () => {
  const check = async (olds: Partial<DkimKeyInputs>, news: DkimKeyInputs) => (await provider.check(olds, news)).failures ?? [];

  it("accepts each step of a rotation", async () => {
    for (const [from, to] of [["pending", "active"], ["active", "retiring"], ["retiring", "revoked"], ["retiring", "active"], ["pending", "revoked"], ["active", "active"]] as const) {
      assert.deepEqual(await check({ ...rsaInputs, state: from }, { ...rsaInputs, state: to }), [], `${from} -> ${to}`);
    }
    assert.deepEqual(await check({}, rsaInputs), [], "a new key starts pending");
  });

  it("refuses a new key that would sign before it is published, naming the next step", async () => {
    const [failure] = await check({}, { ...rsaInputs, state: "active" });
    assert.match(failure.reason, /a new key must start as state "pending".*set state: pending, run pulumi up, then set state: active/);
  });

  it("refuses transitions that skip the overlap, naming the next step", async () => {
    const cases: [string, string, RegExp][] = [
      ["active", "revoked", /cannot go from "active" to "revoked".*next step is: set state: retiring/],
      ["active", "pending", /cannot go from "active" to "pending".*set state: retiring/],
      ["revoked", "active", /cannot go from "revoked" to "active".*new selector/],
      ["pending", "retiring", /cannot go from "pending" to "retiring".*set state: active once the record has propagated/],
    ];
    for (const [from, to, message] of cases) {
      const failures = await check({ ...rsaInputs, state: from as DkimKeyInputs["state"] }, { ...rsaInputs, state: to as DkimKeyInputs["state"] });
      assert.equal(failures.length, 1, `${from} -> ${to}`);
      assert.match(failures[0].reason, message);
    }
  });

  it("refuses replacing a key that signs or may verify mail in flight", async () => {
    const [failure] = await check({ ...rsaInputs, state: "active" }, { ...rsaInputs, state: "active", bits: 4096 });
    assert.match(failure.reason, /is "active": changing its bits would replace a key that mail in flight is signed with; rotate to a new selector/);
  });

  it("refuses weak and malformed keys", async () => {
    const reasons = async (news: DkimKeyInputs) => (await check({}, news)).map((f) => f.reason).join("\n");
    assert.match(await reasons({ ...rsaInputs, bits: 1024 }), /bits 1024 is too weak.*allowLegacy1024RsaForOldReceivers/);
    assert.equal(await reasons({ ...rsaInputs, bits: 1024, allowLegacy1024: true }), "");
    assert.match(await reasons({ ...rsaInputs, bits: 1536 }), /bits 1536 is not allowed; use 2048 \(default\), 3072 or 4096/);
    assert.match(await reasons({ ...rsaInputs, selector: "pf_2026" }), /selector "pf_2026" is not a DNS label/);
    assert.match(await reasons({ ...edInputs, bits: 256 }), /Ed25519 keys have a fixed size/);
  });
});

describe("DkimKey provider: delete", () => {
  it("refuses to delete a key that signs or may verify mail in flight", async () => {
    for (const state of ["active", "retiring"] as const) {
      const outs = await create({ ...rsaInputs, state });
      await assert.rejects(provider.delete("id", outs), new RegExp(`is "${state}": removing its record now would fail mail`));
    }
  });

  it("deletes pending and revoked keys", async () => {
    for (const state of ["pending", "revoked"] as const) await provider.delete("id", await create({ ...rsaInputs, state }));
  });
});

describe("DkimKey provider as Pulumi ships it", () => {
  it("works when loaded back from its serialized closure, with node-forge required inside", async () => {
    const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure");
    const serialized = await serializeFunction(() => dkimKeyProvider, { allowSecrets: true });
    assert.doesNotMatch(serialized.text, /require\("\.\.?\//, "no project modules captured");
    // Evaluate it the way the dynamic provider host does: a fresh module scope whose require resolves from the project.
    const module = { exports: {} as Record<string, any> };
    const projectRequire = createRequire(path.resolve(__dirname, "..", "package.json"));
    vm.runInThisContext(`(function (exports, require, module) {\n${serialized.text}\n})`)(module.exports, projectRequire, module);
    const loaded = module.exports.handler() as Required<pulumi.dynamic.ResourceProvider>;
    const outs = (await loaded.create(edInputs)).outs as DkimKeyOutputs;
    assertPair(outs);
    assert.equal((await loaded.check({ ...rsaInputs, state: "active" }, { ...rsaInputs, state: "revoked" })).failures?.length, 1);
  });
});
