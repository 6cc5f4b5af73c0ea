/**
 * DKIM end to end with an independent verifier: keys made by our DkimKey
 * provider, published through the record core (dkimKeyRecord →
 * renderZoneFile), served by a real knotd on loopback, and checked by
 * mailauth (sign with the provider's private PEM, verify with a resolver
 * that asks only that knotd).
 *
 * These tests use mailauth's DKIM modules alone (`mailauth/lib/dkim/sign`,
 * `mailauth/lib/dkim/verify`): they judge one signature at a time and do no
 * lookups except through the resolver they are given. The mail host's
 * end-to-end test uses mailauth's full `authenticate`.
 *
 * Verification runs in mailauth's strict mode (RFC 6376/8301/8463 exactly,
 * including the key record syntax); the failure cases also pin what the
 * lenient default reports.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DKIMResult, DKIMSignOptions, DNSResolver } from "mailauth";
import { dkimSign } from "mailauth/lib/dkim/sign";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import { dkimKeyProvider, type DkimKeyAlgorithm, type DkimKeyInputs, type DkimKeyOutputs, type DkimKeyState } from "../components/dkim/provider";
import { dkimKeyRecord } from "../components/dkim/records";
import type { DnsRecord } from "../components/dns/model";
import { nullSpfRecord } from "../components/dns/protocols";
import { octets } from "../components/dns/txt";
import { renderZoneFile } from "../components/dns/zonefile";
import { namedCheckzone, resolver, startKnot, type KnotServer } from "./support/dns-tools";

const DOMAIN = "example.com";
const TTL = 300;

function inputs(selector: string, algorithm: DkimKeyAlgorithm, state: DkimKeyState): DkimKeyInputs {
  return { domain: DOMAIN, selector, algorithm, bits: algorithm === "rsa" ? 2048 : 0, allowLegacy1024: false, state, overlapSeconds: 604800 };
}

async function createKey(selector: string, algorithm: DkimKeyAlgorithm, state: DkimKeyState): Promise<{ id: string; outs: DkimKeyOutputs }> {
  const { id, outs } = await dkimKeyProvider.create(inputs(selector, algorithm, state));
  assert.ok(outs, "create returned no outputs");
  return { id, outs: outs as DkimKeyOutputs };
}

async function updateKey(id: string, olds: DkimKeyOutputs, state: DkimKeyState): Promise<DkimKeyOutputs> {
  assert.ok(dkimKeyProvider.update, "provider has no update");
  const { outs } = await dkimKeyProvider.update(id, olds, { ...inputs(olds.selector, olds.algorithm, state) });
  assert.ok(outs, "update returned no outputs");
  return outs as DkimKeyOutputs;
}

/** The zone as the record core publishes it: the keys' TXT records plus the domain's SPF. */
async function serveZone(keys: DkimKeyOutputs[]): Promise<KnotServer> {
  const records: DnsRecord[] = [nullSpfRecord(DOMAIN, TTL), ...keys.map((k) => dkimKeyRecord(k.domain, k.selector, k.dnsValue, TTL))];
  const text = renderZoneFile(DOMAIN, records);
  const check = await namedCheckzone(DOMAIN, text);
  assert.ok(check.ok, check.output);
  return startKnot([{ apex: DOMAIN, text }]);
}

/** A mailauth resolver that asks only the given knotd, and records every question. */
function knotResolver(port: number): { resolve: DNSResolver; queries: string[] } {
  const r = resolver(port);
  const queries: string[] = [];
  const resolve: DNSResolver = async (name, rrtype) => {
    queries.push(`${rrtype} ${name}`);
    // DKIM key lookups are TXT only; anything else would be a lookup this test does not expect.
    if (rrtype !== "TXT") throw new Error(`unexpected ${rrtype} lookup for ${name}`);
    return r.resolveTxt(name);
  };
  return { resolve, queries };
}

function message(overrides: { subject?: string; body?: string } = {}): string {
  return [
    "From: Alice <a@example.com>",
    "To: Bob <b@example.org>",
    `Subject: ${overrides.subject ?? "Round trip"}`,
    "Date: Wed, 25 Nov 2026 12:00:00 +0000",
    "Message-ID: <dkim-roundtrip@example.com>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    overrides.body ?? "Hello Bob,\r\n\r\nThis message is signed by Postforge's DKIM keys.\r\n",
  ].join("\r\n");
}

const SIGNING_ALGORITHM: Record<DkimKeyAlgorithm, string> = { rsa: "rsa-sha256", ed25519: "ed25519-sha256" };

/** Sign `msg` with every key (strict mode), returning the DKIM-Signature lines followed by the message. */
async function sign(msg: string, keys: DkimKeyOutputs[], selectorOverride?: string): Promise<string> {
  const signatureData = keys.map((k) => ({
    signingDomain: k.domain,
    selector: selectorOverride ?? k.selector,
    privateKey: k.privateKeyPem,
    algorithm: SIGNING_ALGORITHM[k.algorithm],
  }));
  // dkimSign signs only what signatureData lists (its typings also demand top-level key fields,
  // which alone produce no signature), so the count is checked below.
  const options = { strict: true, canonicalization: "relaxed/relaxed", signatureData } as Partial<DKIMSignOptions> as DKIMSignOptions;
  const { signatures, errors, warnings } = await dkimSign(msg, options);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.equal(signatures.match(/^DKIM-Signature:/gm)?.length ?? 0, keys.length, signatures);
  return signatures + msg;
}

interface Outcome {
  d?: string;
  s?: string;
  a?: string;
  result: string;
  comment: string | false | undefined;
}

function outcome(r: DKIMResult): Outcome {
  return { d: r.signingDomain, s: r.selector, a: r.algo, result: r.status.result, comment: r.status.comment || false };
}

async function verify(signed: string, dns: DNSResolver, strict = true): Promise<DKIMResult[]> {
  const { results } = await dkimVerify(signed, { resolver: dns, strict });
  return results;
}

const pass = (key: DkimKeyOutputs): Outcome => ({ d: DOMAIN, s: key.selector, a: SIGNING_ALGORITHM[key.algorithm], result: "pass", comment: false });

/** A signed message with one header field's value replaced (the signature lines are left as they are). */
function replaceHeader(signed: string, field: string, value: string): string {
  const pattern = new RegExp(`^${field}: .*$`, "m");
  assert.match(signed, pattern);
  return signed.replace(pattern, `${field}: ${value}`);
}

describe("DKIM round trip: provider keys, record core, knotd, mailauth", () => {
  let rsa: DkimKeyOutputs;
  let ed: DkimKeyOutputs;
  let knot: KnotServer | undefined;
  let dns: ReturnType<typeof knotResolver>;

  before(async () => {
    rsa = (await createKey("pf2026rsa", "rsa", "active")).outs;
    ed = (await createKey("pf2026ed", "ed25519", "active")).outs;
    knot = await serveZone([rsa, ed]);
    dns = knotResolver(knot.port);
  });
  after(async () => {
    await knot?.stop();
  });

  it("knotd serves the 2048-bit RSA key as ≤255-octet strings that join to dnsValue", async () => {
    assert.match(rsa.dnsValue, /^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/]+=*$/);
    assert.ok(octets(rsa.dnsValue) > 255, "a 2048-bit key should need more than one character-string");
    const answer = await resolver(knot!.port).resolveTxt(`pf2026rsa._domainkey.${DOMAIN}`);
    assert.equal(answer.length, 1, "exactly one TXT record at the selector");
    assert.ok(answer[0].length >= 2, `expected the value split over several strings, got ${answer[0].length}`);
    for (const s of answer[0]) assert.ok(octets(s) <= 255, `string of ${octets(s)} octets`);
    assert.equal(answer[0].join(""), rsa.dnsValue);
    assert.deepEqual(await resolver(knot!.port).resolveTxt(`pf2026ed._domainkey.${DOMAIN}`), [[ed.dnsValue]]);
  });

  it("RSA 2048 (rsa-sha256): pass for d=example.com s=pf2026rsa, key fetched from knotd", async () => {
    const before = dns.queries.length;
    const results = await verify(await sign(message(), [rsa]), dns.resolve);
    assert.deepEqual(results.map(outcome), [pass(rsa)]);
    assert.equal(results[0].modulusLength, 2048);
    assert.equal(results[0].rr, rsa.dnsValue.replace(/\s+/g, ""), "mailauth's key record is the one we published");
    assert.equal(results[0].status.warnings, undefined);
    assert.deepEqual(dns.queries.slice(before), [`TXT pf2026rsa._domainkey.${DOMAIN}`]);
  });

  it("Ed25519 (ed25519-sha256): pass for d=example.com s=pf2026ed", async () => {
    const results = await verify(await sign(message(), [ed]), dns.resolve);
    assert.deepEqual(results.map(outcome), [pass(ed)]);
    assert.equal(results[0].rr, ed.dnsValue.replace(/\s+/g, ""));
    // Strict mode only accepts a raw 32-byte key when the record says k=ed25519.
    assert.equal(results[0].status.warnings, undefined);
  });

  it("dual signed (RSA + Ed25519 on one message): both signatures pass", async () => {
    const signed = await sign(message(), [rsa, ed]);
    const results = await verify(signed, dns.resolve);
    assert.deepEqual(
      results.map(outcome).sort((x, y) => String(x.s).localeCompare(String(y.s))),
      [pass(ed), pass(rsa)],
    );
  });

  it("tampered body: fail (strict) / neutral (lenient), body hash did not verify; never pass", async () => {
    const signed = await sign(message(), [rsa, ed]);
    const tampered = signed.replace("This message is signed", "This message was altered but is signed");
    assert.notEqual(tampered, signed);
    for (const [strict, result] of [[true, "fail"], [false, "neutral"]] as const) {
      const results = await verify(tampered, dns.resolve, strict);
      assert.equal(results.length, 2);
      for (const r of results) {
        assert.equal(r.status.result, result, `strict=${strict} s=${r.selector}`);
        assert.equal(r.status.comment, "body hash did not verify");
        assert.notEqual(r.status.result, "pass");
      }
    }
  });

  it("tampered signed header (Subject): fail, bad signature; never pass", async () => {
    const signed = await sign(message(), [rsa, ed]);
    const tampered = replaceHeader(signed, "Subject", "Round trip (forwarded and edited)");
    for (const strict of [true, false]) {
      const results = await verify(tampered, dns.resolve, strict);
      assert.deepEqual(
        results.map(outcome).sort((x, y) => String(x.s).localeCompare(String(y.s))),
        [
          { ...pass(ed), result: "fail", comment: "bad signature" },
          { ...pass(rsa), result: "fail", comment: "bad signature" },
        ],
        `strict=${strict}`,
      );
    }
  });

  it("a selector that is not published: neutral, no key (NXDOMAIN from knotd)", async () => {
    await assert.rejects(resolver(knot!.port).resolveTxt(`ghost2026._domainkey.${DOMAIN}`), { code: "ENOTFOUND" });
    const before = dns.queries.length;
    const signed = await sign(message(), [rsa], "ghost2026");
    for (const strict of [true, false]) {
      const results = await verify(signed, dns.resolve, strict);
      assert.deepEqual(results.map(outcome), [{ d: DOMAIN, s: "ghost2026", a: "rsa-sha256", result: "neutral", comment: "no key" }], `strict=${strict}`);
    }
    // The only questions asked were for the missing selector, of our knotd.
    assert.deepEqual(dns.queries.slice(before), [`TXT ghost2026._domainkey.${DOMAIN}`, `TXT ghost2026._domainkey.${DOMAIN}`]);
  });
});

describe("DKIM rotation through the provider, verified by mailauth against knotd", () => {
  const servers: KnotServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("overlap: old (retiring) and new (active) keys both verify; once the old key is revoked only the new one does", async () => {
    // The old key walks pending → active → retiring; the new one is created and made active.
    const old = await createKey("pf2026a", "rsa", "pending");
    const oldActive = await updateKey(old.id, old.outs, "active");
    const oldRetiring = await updateKey(old.id, oldActive, "retiring");
    assert.equal(oldRetiring.publicKey, old.outs.publicKey, "an update never changes the key");
    assert.equal(oldRetiring.privateKeyPem, old.outs.privateKeyPem);
    assert.equal(oldRetiring.dnsValue, `v=DKIM1; k=rsa; p=${old.outs.publicKey}`, "a retiring key stays published");
    const fresh = await createKey("pf2026b", "rsa", "pending");
    const neu = await updateKey(fresh.id, fresh.outs, "active");

    // Mail signed during the overlap, by each key.
    const oldSigned = await sign(message({ subject: "signed by the old key" }), [oldRetiring]);
    const newSigned = await sign(message({ subject: "signed by the new key" }), [neu]);

    const overlap = await serveZone([oldRetiring, neu]);
    servers.push(overlap);
    const overlapDns = knotResolver(overlap.port);
    assert.deepEqual((await verify(oldSigned, overlapDns.resolve)).map(outcome), [pass(oldRetiring)]);
    assert.deepEqual((await verify(newSigned, overlapDns.resolve)).map(outcome), [pass(neu)]);

    // The provider's plan refuses revocation inside the overlap; update itself is what applies it afterwards.
    assert.ok(dkimKeyProvider.diff);
    await assert.rejects(dkimKeyProvider.diff(old.id, oldRetiring, inputs("pf2026a", "rsa", "revoked")), /may still be in flight/);
    const oldRevoked = await updateKey(old.id, oldRetiring, "revoked");
    assert.equal(oldRevoked.dnsValue, "v=DKIM1; k=rsa; p=");
    assert.equal(oldRevoked.publicKey, old.outs.publicKey);

    // Republish: a new zone served by a new knotd.
    const revoked = await serveZone([oldRevoked, neu]);
    servers.push(revoked);
    await overlap.stop();
    assert.deepEqual(await resolver(revoked.port).resolveTxt(`pf2026a._domainkey.${DOMAIN}`), [["v=DKIM1; k=rsa; p="]]);
    const revokedDns = knotResolver(revoked.port);
    for (const strict of [true, false]) {
      const oldResults = await verify(oldSigned, revokedDns.resolve, strict);
      assert.deepEqual(
        oldResults.map(outcome),
        [{ ...pass(oldRetiring), result: "neutral", comment: "invalid public key" }],
        `strict=${strict}`,
      );
      assert.equal(oldResults[0].rr, "v=DKIM1;k=rsa;p=", "mailauth saw the revoked record");
      assert.deepEqual((await verify(newSigned, revokedDns.resolve, strict)).map(outcome), [pass(neu)], `strict=${strict}`);
    }
  });
});
