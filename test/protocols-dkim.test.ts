import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { octets, splitTxtValue } from "../components/dns/txt";
import {
  checkDkim,
  dkimPublicKeyBase64,
  dkimRecord,
  dkimTxtValue,
  revokedDkimRecord,
  rsaModulusBits,
} from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

function rsaKey(bits: number) {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return {
    pem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    der: (publicKey.export({ format: "der", type: "spki" }) as Buffer).toString("base64"),
  };
}
const rsa2048 = rsaKey(2048);
const rsa1024 = rsaKey(1024);
const rsa512 = rsaKey(512);

/** RFC 8463 §A.2 example public key. */
const RFC8463_KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

describe("DKIM builder", () => {
  it("publishes a 2048-bit RSA key split into ≤255-octet strings that join back exactly", () => {
    assert.equal(rsa2048.der.length, 392);
    assert.ok(rsa2048.der.startsWith("MIIBIjAN"));
    const record = dkimRecord("Example.com", { selector: "PF2026a", algorithm: "rsa", publicKey: rsa2048.pem }, 3600);
    const expected = `v=DKIM1; k=rsa; p=${rsa2048.der}`;
    assert.equal(expected.length, 410);
    assert.deepEqual(record, {
      name: "pf2026a._domainkey.example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "dkim",
      strings: splitTxtValue(expected),
    });
    // 410 octets fill one string to the limit and spill into a second.
    assert.deepEqual(record.strings.map(octets), [255, 155]);
    assert.ok(record.strings.every((s) => octets(s) <= 255));
    assert.equal(record.strings.join(""), expected);
    assert.deepEqual(checkDkim(expected), []);
  });

  it("accepts the key as PEM or base64 DER alike", () => {
    const fromPem = dkimTxtValue({ selector: "a", algorithm: "rsa", publicKey: rsa2048.pem });
    const fromDer = dkimTxtValue({ selector: "a", algorithm: "rsa", publicKey: rsa2048.der });
    assert.equal(fromPem, fromDer);
    assert.equal(rsaModulusBits(rsa2048.der), 2048);
  });

  it("publishes RFC 8463's Ed25519 example key", () => {
    assert.deepEqual(dkimRecord("football.example.com", { selector: "brisbane", algorithm: "ed25519", publicKey: RFC8463_KEY }, 3600), {
      name: "brisbane._domainkey.football.example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "dkim",
      strings: ["v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
    });
  });

  it("extracts the raw 32-byte Ed25519 key from SPKI", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    const der = publicKey.export({ format: "der", type: "spki" }) as Buffer;
    const raw = der.subarray(der.length - 32).toString("base64");
    assert.equal(dkimPublicKeyBase64({ selector: "e", algorithm: "ed25519", publicKey: pem }), raw);
    assert.equal(dkimPublicKeyBase64({ selector: "e", algorithm: "ed25519", publicKey: der.toString("base64") }), raw);
    assert.equal(dkimTxtValue({ selector: "e", algorithm: "ed25519", publicKey: pem, testing: true }), `v=DKIM1; k=ed25519; t=y; p=${raw}`);
  });

  it("refuses RSA keys under 2048 bits unless 1024 is explicitly allowed", () => {
    const below = buildErrors(() => dkimTxtValue({ selector: "old", algorithm: "rsa", publicKey: rsa1024.pem }));
    assert.deepEqual(
      below.map((f) => [f.code, f.path]),
      [["dkim.rsa.below-2048", "publicKey"]],
    );
    assert.match(below[0].message, /1024 bits.*allowLegacy1024/);
    assert.equal(dkimTxtValue({ selector: "old", algorithm: "rsa", publicKey: rsa1024.pem }, { allowLegacy1024: true }), `v=DKIM1; k=rsa; p=${rsa1024.der}`);
    assert.equal(rsa1024.der.length, 216);
    const tiny = buildErrors(() => dkimTxtValue({ selector: "old", algorithm: "rsa", publicKey: rsa512.pem }, { allowLegacy1024: true }));
    assert.deepEqual(codes(tiny), ["dkim.rsa.too-short"]);
  });

  it("refuses bad selectors, mismatched algorithms and unreadable keys", () => {
    for (const selector of ["bad_selector", "", "-a", "a..b", "a.b-"]) {
      assert.deepEqual(codes(buildErrors(() => dkimTxtValue({ selector, algorithm: "ed25519", publicKey: RFC8463_KEY }))), ["dkim.selector.invalid"], selector);
    }
    assert.equal(dkimTxtValue({ selector: "s2026.eu-west", algorithm: "ed25519", publicKey: RFC8463_KEY }), `v=DKIM1; k=ed25519; p=${RFC8463_KEY}`);
    const mismatch = buildErrors(() => dkimTxtValue({ selector: "a", algorithm: "ed25519", publicKey: rsa2048.pem }));
    assert.deepEqual(mismatch.map((f) => [f.code, f.path]), [["dkim.key.invalid", "publicKey"]]);
    assert.deepEqual(codes(buildErrors(() => dkimTxtValue({ selector: "a", algorithm: "rsa", publicKey: "not base64!" }))), ["dkim.key.invalid"]);
    assert.deepEqual(codes(buildErrors(() => dkimTxtValue({ selector: "a", algorithm: "rsa", publicKey: "AAAA" }))), ["dkim.key.invalid"]);
    assert.deepEqual(codes(buildErrors(() => dkimTxtValue({ selector: "a", algorithm: "ed25519", publicKey: "AAAA" }))), ["dkim.key.invalid"]);
  });

  it("publishes a revoked key with an empty p=", () => {
    assert.deepEqual(revokedDkimRecord("example.com", "s2025", "rsa", 300), {
      name: "s2025._domainkey.example.com",
      type: "TXT",
      ttl: 300,
      purpose: "dkim",
      strings: ["v=DKIM1; k=rsa; p="],
    });
    assert.deepEqual(codes(checkDkim("v=DKIM1; k=rsa; p=")), ["dkim.key.revoked"]);
  });
});

describe("DKIM rules", () => {
  it("judges version, key type, hashes and p", () => {
    assert.deepEqual(checkDkim(`v=DKIM1; k=ed25519; p=${RFC8463_KEY}`), []);
    assert.deepEqual(checkDkim(`k=ed25519; p=${RFC8463_KEY}`), []);
    assert.deepEqual(codes(checkDkim(`k=ed25519; v=DKIM1; p=${RFC8463_KEY}`)), ["dkim.version.position"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM2; k=ed25519; p=${RFC8463_KEY}`)), ["dkim.version.invalid"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; k=dsa; p=${RFC8463_KEY}`)), ["dkim.k.unknown"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; k=rsa`)), ["dkim.p.missing"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; h=sha1; p=${rsa2048.der}`)), ["dkim.h.sha1-only"]);
    assert.deepEqual(checkDkim(`v=DKIM1; h=sha1:sha256; p=${rsa2048.der}`), []);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; p=${rsa2048.der.slice(1)}`)), ["dkim.p.invalid-base64"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; p=QUJDRA==`)), ["dkim.p.invalid-key"]);
    assert.deepEqual(codes(checkDkim(`v=DKIM1; t=y; k=ed25519; p=${RFC8463_KEY}`)), ["dkim.testing"]);
  });

  it("judges key sizes", () => {
    assert.deepEqual(codes(checkDkim(`v=DKIM1; k=rsa; p=${rsa1024.der}`)), ["dkim.rsa.below-2048"]);
    assert.deepEqual(
      checkDkim(`v=DKIM1; k=rsa; p=${rsa1024.der}`, { allowLegacy1024: true }).map((f) => [f.code, f.severity]),
      [["dkim.rsa.legacy-1024", "warning"]],
    );
    assert.deepEqual(codes(checkDkim(`v=DKIM1; k=rsa; p=${rsa512.der}`, { allowLegacy1024: true })), ["dkim.rsa.too-short"]);
    // An Ed25519 key published as SPKI (44 bytes) instead of the raw 32 bytes.
    const spki = (generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }) as Buffer).toString("base64");
    assert.deepEqual(codes(checkDkim(`v=DKIM1; k=ed25519; p=${spki}`)), ["dkim.ed25519.length"]);
  });

  it("reads keys split with whitespace inside p=", () => {
    const spaced = `v=DKIM1; k=rsa; p=${rsa2048.der.slice(0, 200)} ${rsa2048.der.slice(200)}`;
    assert.deepEqual(checkDkim(spaced), []);
  });
});

describe("DKIM properties", () => {
  it("any Ed25519 key value splits into ≤255-octet strings that join back and pass the rules", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (bytes, testing) => {
        const publicKey = Buffer.from(bytes).toString("base64");
        const record = dkimRecord("example.com", { selector: "ed", algorithm: "ed25519", publicKey, testing }, 300);
        assert.ok(record.strings.every((s) => octets(s) <= 255 && s.length > 0));
        assert.equal(record.strings.join(""), dkimTxtValue({ selector: "ed", algorithm: "ed25519", publicKey, testing }));
        assert.deepEqual(checkDkim(record.strings.join("")).filter((f) => f.severity !== "info"), []);
      }),
    );
  });

  it("RSA values of 2048 and 4096 bits split into ≤255-octet strings that join back", () => {
    const keys = [rsa2048, rsaKey(4096)];
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.boolean(), (key, testing) => {
        const record = dkimRecord("example.com", { selector: "s", algorithm: "rsa", publicKey: key.pem, testing }, 300);
        assert.ok(record.strings.length >= 2);
        assert.ok(record.strings.every((s) => octets(s) <= 255));
        assert.equal(record.strings.join(""), `v=DKIM1; k=rsa; ${testing ? "t=y; " : ""}p=${key.der}`);
      }),
      { numRuns: 20 },
    );
  });
});
