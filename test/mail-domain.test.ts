import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { beforeEach, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settled, valueOf, type Registered } from "./support/pulumi-mocks";
import { CloudflareBackend, MailDomain, Route53Backend, splitTxtValue, type DnsRecord } from "../components/dns";

let registered: Registered[] = [];
beforeEach(async () => {
  registered = await installMocks();
  registered.length = 0;
});

const dkimValue = `v=DKIM1; k=rsa; p=${generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;

function sampleRecords(address: pulumi.Input<string>): DnsRecord<pulumi.Input<string>>[] {
  return [
    { name: "example.com", ttl: 3600, purpose: "spf", type: "TXT", strings: ["v=spf1 ip4:203.0.113.25 -all"] },
    { name: "pf2026q4._domainkey.example.com", ttl: 3600, purpose: "dkim", type: "TXT", strings: splitTxtValue(dkimValue) },
    { name: "example.com", ttl: 3600, purpose: "mx", type: "MX", priority: 10, exchange: "mx1.example.com" },
    { name: "example.com", ttl: 3600, purpose: "mx", type: "MX", priority: 20, exchange: "mx2.example.com" },
    { name: "example.com", ttl: 3600, purpose: "caa", type: "CAA", flags: 0, tag: "issue", value: "letsencrypt.org" },
    { name: "mail.example.com", ttl: 3600, purpose: "host-address", type: "A", address },
    { name: "_dmarc.example.com", ttl: 3600, purpose: "dmarc", type: "TXT", strings: ['v=DMARC1; p=reject; rua=mailto:"q"@example.com'] },
  ];
}

// Registration order is asynchronous; compare by logical name.
const children = () => registered.filter((r) => r.custom).sort((a, b) => a.name.localeCompare(b.name));

describe("MailDomain on Cloudflare", () => {
  it("registers one DnsRecord per value with exact names and inputs, parented to the component", async () => {
    const address = pulumi.output("203.0.113.25"); // an Elastic IP known only after deploy
    const domain = new MailDomain("example.com", { domain: "example.com", records: sampleRecords(address), backend: new CloudflareBackend({ zoneId: "zone123" }) });
    await settled(domain.dnsRecords);

    const component = registered.find((r) => !r.custom)!;
    assert.equal(component.type, "postforge:dns:MailDomain");
    assert.equal(component.name, "example.com");
    assert.deepEqual(component.inputs, { domain: "example.com", provider: "cloudflare" });

    const [dkimHead, dkimTail] = splitTxtValue(dkimValue);
    assert.deepEqual(
      children().map((r) => [r.type, r.name, r.inputs]),
      [
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-_dmarc-txt", { zoneId: "zone123", name: "_dmarc.example.com", type: "TXT", ttl: 3600, content: '"v=DMARC1; p=reject; rua=mailto:\\"q\\"@example.com"' }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-@-caa-issue-f2bb7bab", { zoneId: "zone123", name: "example.com", type: "CAA", ttl: 3600, data: { flags: 0, tag: "issue", value: "letsencrypt.org" } }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-@-mx-mx1.example.com", { zoneId: "zone123", name: "example.com", type: "MX", ttl: 3600, content: "mx1.example.com", priority: 10 }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-@-mx-mx2.example.com", { zoneId: "zone123", name: "example.com", type: "MX", ttl: 3600, content: "mx2.example.com", priority: 20 }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-@-txt", { zoneId: "zone123", name: "example.com", type: "TXT", ttl: 3600, content: '"v=spf1 ip4:203.0.113.25 -all"' }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-mail-a", { zoneId: "zone123", name: "mail.example.com", type: "A", ttl: 3600, content: "203.0.113.25" }],
        ["cloudflare:index/dnsRecord:DnsRecord", "example.com-pf2026q4._domainkey-txt", { zoneId: "zone123", name: "pf2026q4._domainkey.example.com", type: "TXT", ttl: 3600, content: `"${dkimHead}" "${dkimTail}"` }],
      ],
    );
    assert.ok(dkimHead.length <= 255 && dkimTail.length <= 255 && dkimHead + dkimTail === dkimValue);
    for (const child of domain.dnsRecords) {
      const urn = await valueOf(child.urn);
      assert.match(urn, /::postforge:dns:MailDomain\$cloudflare:index\/dnsRecord:DnsRecord::example\.com-/);
    }
    const published = await valueOf(domain.records);
    assert.equal(published.length, 7);
    assert.equal(splitTxtValue(dkimValue).length, 2, "a 2048-bit key fits two strings");
    assert.deepEqual(published[5], { name: "mail.example.com", ttl: 3600, purpose: "host-address", type: "A", address: "203.0.113.25" });
  });

  it("produces identical names and inputs on a second run (no spurious diff)", async () => {
    const first = new MailDomain("a", { domain: "example.com", records: sampleRecords("203.0.113.25"), backend: new CloudflareBackend({ zoneId: "z" }) });
    await settled(first.dnsRecords);
    const firstRun = children().map((r) => [r.name, r.inputs]);
    registered.length = 0;
    const second = new MailDomain("a", { domain: "example.com", records: sampleRecords("203.0.113.25"), backend: new CloudflareBackend({ zoneId: "z" }) });
    await settled(second.dnsRecords);
    assert.deepEqual(children().map((r) => [r.name, r.inputs]), firstRun);
  });
});

describe("MailDomain on Route53", () => {
  it("registers one Record per name and type holding all values, TXT strings joined with \"\"", async () => {
    const domain = new MailDomain("example.com", { domain: "example.com", records: sampleRecords("203.0.113.25"), backend: new Route53Backend({ hostedZoneId: "Z123" }) });
    await settled(domain.dnsRecords);
    const [dkimHead, dkimTail] = splitTxtValue(dkimValue);
    assert.deepEqual(
      children().map((r) => [r.type, r.name, r.inputs]),
      [
        ["aws:route53/record:Record", "example.com-_dmarc-txt", { zoneId: "Z123", name: "_dmarc.example.com", type: "TXT", ttl: 3600, records: ['v=DMARC1; p=reject; rua=mailto:\\"q\\"@example.com'] }],
        ["aws:route53/record:Record", "example.com-@-caa", { zoneId: "Z123", name: "example.com", type: "CAA", ttl: 3600, records: ['0 issue "letsencrypt.org"'] }],
        ["aws:route53/record:Record", "example.com-@-mx", { zoneId: "Z123", name: "example.com", type: "MX", ttl: 3600, records: ["10 mx1.example.com.", "20 mx2.example.com."] }],
        ["aws:route53/record:Record", "example.com-@-txt", { zoneId: "Z123", name: "example.com", type: "TXT", ttl: 3600, records: ["v=spf1 ip4:203.0.113.25 -all"] }],
        ["aws:route53/record:Record", "example.com-mail-a", { zoneId: "Z123", name: "mail.example.com", type: "A", ttl: 3600, records: ["203.0.113.25"] }],
        ["aws:route53/record:Record", "example.com-pf2026q4._domainkey-txt", { zoneId: "Z123", name: "pf2026q4._domainkey.example.com", type: "TXT", ttl: 3600, records: [`${dkimHead}""${dkimTail}`] }],
      ],
    );
  });

  it("refuses a record set whose values disagree on TTL, before creating anything", async () => {
    const records: DnsRecord[] = [
      { name: "example.com", ttl: 300, purpose: "mx", type: "MX", priority: 10, exchange: "mx1.example.com" },
      { name: "example.com", ttl: 600, purpose: "mx", type: "MX", priority: 20, exchange: "mx2.example.com" },
    ];
    assert.throws(() => new MailDomain("x", { domain: "example.com", records, backend: new Route53Backend({ hostedZoneId: "Z1" }) }), /TTLs 300 and 600/);
    await new Promise((r) => setImmediate(r));
    assert.equal(registered.length, 0);
  });
});

describe("MailDomain argument validation", () => {
  const backend = new CloudflareBackend({ zoneId: "z" });
  const cases: [string, () => unknown, RegExp][] = [
    ["record outside the zone", () => new MailDomain("x", { domain: "example.com", records: [{ name: "example.org", ttl: 300, purpose: "spf", type: "TXT", strings: ["v=spf1 -all"] }], backend }), /records\[0\]\.name = "example\.org": is outside the zone example\.com/],
    ["invalid domain", () => new MailDomain("x", { domain: "not a domain", records: [], backend }), /domain = "not a domain": must be a host name/],
    ["missing backend", () => new MailDomain("x", { domain: "example.com", records: [], backend: undefined as any }), /backend = nothing: must be a DnsBackend/],
    ["string over 255 octets", () => new MailDomain("x", { domain: "example.com", records: [{ name: "example.com", ttl: 300, purpose: "other", type: "TXT", strings: ["a".repeat(256)] }], backend }), /string 0 is 256 octets; character-strings hold at most 255 \(split the value with splitTxtValue\)/],
    ["duplicate record", () => new MailDomain("x", { domain: "example.com", records: [{ name: "example.com", ttl: 300, purpose: "mx", type: "MX", priority: 1, exchange: "m.example.com" }, { name: "example.com", ttl: 300, purpose: "mx", type: "MX", priority: 1, exchange: "m.example.com" }], backend }), /listed twice/],
    ["upper-case owner", () => new MailDomain("x", { domain: "example.com", records: [{ name: "Example.com", ttl: 300, purpose: "spf", type: "TXT", strings: ["v=spf1 -all"] }], backend }), /records\[0\]: TXT record "Example\.com": the owner name is not a valid DNS name \(lower-case letters/],
  ];
  for (const [label, build, message] of cases) {
    it(`refuses ${label} and registers nothing`, async () => {
      assert.throws(build, message);
      await new Promise((r) => setImmediate(r));
      assert.equal(registered.length, 0);
    });
  }
});
