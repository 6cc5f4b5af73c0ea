import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parkedDmarcIntent, parkedDomainRecords } from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

describe("Parked domains (M3AAWG)", () => {
  it("publishes null MX, null SPF, reject DMARC and a revoked DKIM wildcard", () => {
    assert.deepEqual(parkedDomainRecords("Parked.Example.", {}, "rfc9989", 3600), [
      { name: "parked.example", type: "MX", ttl: 3600, purpose: "null-mx", priority: 0, exchange: "." },
      { name: "parked.example", type: "TXT", ttl: 3600, purpose: "spf", strings: ["v=spf1 -all"] },
      { name: "_dmarc.parked.example", type: "TXT", ttl: 3600, purpose: "dmarc", strings: ["v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s"] },
      { name: "*._domainkey.parked.example", type: "TXT", ttl: 3600, purpose: "dkim", strings: ["v=DKIM1; p="] },
    ]);
  });

  it("adds rua to the DMARC record when given, in either mode", () => {
    for (const mode of ["rfc9989", "rfc7489"] as const) {
      const records = parkedDomainRecords("parked.example", { rua: ["mailto:dmarc@example.com"] }, mode, 300);
      assert.deepEqual(records[2], {
        name: "_dmarc.parked.example",
        type: "TXT",
        ttl: 300,
        purpose: "dmarc",
        strings: ["v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc@example.com"],
      });
      assert.equal(records.length, 4);
    }
    assert.deepEqual(parkedDmarcIntent({ rua: [] }), { p: "reject", sp: "reject", adkim: "s", aspf: "s" });
  });

  it("refuses a bad name, TTL or rua with the builders' findings", () => {
    assert.deepEqual(codes(buildErrors(() => parkedDomainRecords("not a domain", {}, "rfc9989", 300))), ["dns.name.invalid"]);
    assert.deepEqual(codes(buildErrors(() => parkedDomainRecords("parked.example", {}, "rfc9989", -1))), ["dns.ttl.invalid"]);
    const errors = buildErrors(() => parkedDomainRecords("parked.example", { rua: ["https://reports.example.com"] }, "rfc9989", 300));
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [["dmarc.uri.scheme", "rua[0]"]]);
  });
});
