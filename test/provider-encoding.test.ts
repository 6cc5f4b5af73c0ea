import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeCloudflareRecord, encodeCloudflareRecord } from "../components/dns/providers/cloudflare-encoding";
import { decodeRoute53RecordSet, encodeRoute53RecordSet } from "../components/dns/providers/route53-encoding";
import { splitTxtValue } from "../components/dns/txt";
import type { DnsRecord } from "../components/dns/model";

/** Any record the model can hold, as the builders would produce it (purpose "other": decoders infer none). */
const label = fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]{0,10}[a-z0-9])?$/);
const owner = fc.array(label, { minLength: 0, maxLength: 3 }).map((labels) => [...labels, "example", "com"].join("."));
const host = fc.array(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }).map((l) => `${l.join(".")}.example.net`);
const ttl = fc.integer({ min: 60, max: 86400 });

// fc.record builds null-prototype objects; deepStrictEqual compares prototypes, so normalise.
const record: fc.Arbitrary<DnsRecord> = fc.oneof(
  fc.record({ name: owner, ttl, purpose: fc.constant("other" as const), type: fc.constant("TXT" as const), strings: fc.string({ unit: "binary-ascii", maxLength: 700 }).map((v) => splitTxtValue(v)) }),
  fc.record({ name: owner, ttl, purpose: fc.constant("other" as const), type: fc.constant("MX" as const), priority: fc.integer({ min: 0, max: 65535 }), exchange: host }),
  fc.record({ name: owner, ttl, purpose: fc.constant("other" as const), type: fc.constant("A" as const), address: fc.ipV4() }),
  fc.record({ name: owner, ttl, purpose: fc.constant("other" as const), type: fc.constant("CNAME" as const), target: host }),
  fc.record({ name: owner, ttl, purpose: fc.constant("other" as const), type: fc.constant("CAA" as const), flags: fc.constantFrom(0, 128), tag: fc.constantFrom("issue" as const, "issuewild" as const, "iodef" as const), value: fc.string({ unit: "binary-ascii", maxLength: 60 }) }),
).map((r) => ({ ...r }) as DnsRecord);

describe("provider encoding round trips", () => {
  it("property: Cloudflare decode(encode(r)) = r", () => {
    fc.assert(
      fc.property(record, (r) => {
        assert.deepEqual(decodeCloudflareRecord(encodeCloudflareRecord(r) as unknown as Record<string, unknown>), r);
      }),
      { numRuns: 500 },
    );
  });

  it("property: Route53 decode(encode(set)) = set", () => {
    fc.assert(
      fc.property(record, fc.integer({ min: 1, max: 3 }), (r, copies) => {
        // A set of distinct values at one name and type.
        const set = Array.from({ length: copies }, (_, i) => (r.type === "MX" ? { ...r, priority: i } : r.type === "A" ? { ...r, address: `192.0.2.${i + 1}` } : r)).slice(0, r.type === "MX" || r.type === "A" ? copies : 1);
        assert.deepEqual(decodeRoute53RecordSet(encodeRoute53RecordSet(set) as unknown as Record<string, unknown>), set);
      }),
      { numRuns: 500 },
    );
  });

  it("encodes the same record identically every time (no spurious diff)", () => {
    fc.assert(
      fc.property(record, (r) => {
        assert.deepEqual(encodeCloudflareRecord(structuredClone(r)), encodeCloudflareRecord(r));
        assert.deepEqual(encodeRoute53RecordSet([structuredClone(r)]), encodeRoute53RecordSet([r]));
      }),
    );
  });

  it("writes a null MX as '.' on both providers", () => {
    const nullMx: DnsRecord = { name: "example.net", ttl: 300, purpose: "null-mx", type: "MX", priority: 0, exchange: "." };
    assert.deepEqual(encodeCloudflareRecord(nullMx), { name: "example.net", type: "MX", ttl: 300, content: ".", priority: 0 });
    assert.deepEqual(encodeRoute53RecordSet([nullMx]).records, ["0 ."]);
  });
});
