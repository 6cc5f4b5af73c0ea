import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkMxSet, mxRecords, nullMxRecord } from "../components/dns/protocols";
import { buildErrors } from "./support/findings";

describe("MX", () => {
  it("builds records in the order given, names canonical", () => {
    assert.deepEqual(
      mxRecords("Example.com.", [
        { host: "MX1.Example.com.", priority: 10 },
        { host: "mx2.example.net", priority: 0 },
      ], 3600),
      [
        { name: "example.com", type: "MX", ttl: 3600, purpose: "mx", priority: 10, exchange: "mx1.example.com" },
        { name: "example.com", type: "MX", ttl: 3600, purpose: "mx", priority: 0, exchange: "mx2.example.net" },
      ],
    );
  });

  it("builds the RFC 7505 null MX", () => {
    assert.deepEqual(nullMxRecord("Parked.example", 300), {
      name: "parked.example",
      type: "MX",
      ttl: 300,
      purpose: "null-mx",
      priority: 0,
      exchange: ".",
    });
  });

  it("refuses bad priorities, hosts and duplicates with paths", () => {
    const errors = buildErrors(() =>
      mxRecords("example.com", [
        { host: "mx1.example.com", priority: 65536 },
        { host: "192.0.2.1", priority: 10 },
        { host: "not a host", priority: 1.5 },
        { host: ".", priority: 0 },
        { host: "MX1.example.com", priority: 20 },
      ], 3600),
    );
    assert.deepEqual(
      errors.map((f) => [f.code, f.path]),
      [
        ["mx.priority.invalid", "[0].priority"],
        ["mx.host.ip", "[1].host"],
        ["mx.priority.invalid", "[2].priority"],
        ["mx.host.invalid", "[2].host"],
        ["mx.host.null", "[3].host"],
        ["mx.host.duplicate", "[4].host"],
      ],
    );
    assert.match(errors[0].message, /65536.*0 to 65535/);
    assert.deepEqual(buildErrors(() => mxRecords("example.com", [], 3600)).map((f) => f.code), ["mx.hosts.empty"]);
    assert.deepEqual(buildErrors(() => mxRecords("example.com", [{ host: "mx.example.com", priority: 1 }], -1)).map((f) => f.code), ["dns.ttl.invalid"]);
    assert.deepEqual(buildErrors(() => mxRecords("not a domain", [{ host: "mx.example.com", priority: 1 }], 1)).map((f) => f.code), ["dns.name.invalid"]);
  });

  it("refuses a null MX mixed with mail hosts", () => {
    const mixed = [nullMxRecord("example.com", 300), ...mxRecords("example.com", [{ host: "mx.example.com", priority: 10 }], 300)];
    const findings = checkMxSet(mixed);
    assert.deepEqual(findings.map((f) => [f.code, f.severity]), [["mx.null.mixed", "error"]]);
    assert.deepEqual(checkMxSet([nullMxRecord("example.com", 300)]), []);
    // Different names are judged separately.
    assert.deepEqual(checkMxSet([nullMxRecord("a.example.com", 300), ...mxRecords("b.example.com", [{ host: "mx.example.com", priority: 10 }], 300)]), []);
    assert.deepEqual(checkMxSet([{ ...nullMxRecord("example.com", 300), priority: 10 }]).map((f) => f.code), ["mx.null.priority"]);
  });
});
