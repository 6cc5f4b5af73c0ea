import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkTlsRpt, tlsRptRecord } from "../components/dns/protocols";
import { buildErrors, codes } from "./support/findings";

describe("TLS-RPT", () => {
  it("builds the _smtp._tls record", () => {
    assert.deepEqual(tlsRptRecord("Example.com", { rua: ["mailto:tls-reports@example.com", "https://reports.example.net/v1/tlsrpt"] }, 3600), {
      name: "_smtp._tls.example.com",
      type: "TXT",
      ttl: 3600,
      purpose: "tls-rpt",
      strings: ["v=TLSRPTv1; rua=mailto:tls-reports@example.com,https://reports.example.net/v1/tlsrpt"],
    });
  });

  it("refuses empty or non-mailto/https destinations", () => {
    assert.deepEqual(buildErrors(() => tlsRptRecord("example.com", { rua: [] }, 300)).map((f) => [f.code, f.path]), [["tls-rpt.rua.missing", "rua"]]);
    const errors = buildErrors(() =>
      tlsRptRecord("example.com", { rua: ["http://reports.example.net", "mailto:nobody", "mailto:a@example.com,mailto:b@example.com"] }, 300),
    );
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["tls-rpt.uri.scheme", "rua[0]"],
      ["tls-rpt.uri.invalid", "rua[1]"],
      ["tls-rpt.uri.invalid", "rua[2]"],
    ]);
  });

  it("percent-encodes non-ASCII https URLs and refuses non-ASCII mailto addresses with the fix", () => {
    const record = tlsRptRecord("example.com", { rua: ["https://reports.example.net/tlsrpt/é", "https://bücher.example/tlsrpt"] }, 300);
    assert.deepEqual(record.strings, ["v=TLSRPTv1; rua=https://reports.example.net/tlsrpt/%C3%A9,https://xn--bcher-kva.example/tlsrpt"]);
    const errors = buildErrors(() => tlsRptRecord("example.com", { rua: ["mailto:tls@exämple.com", "mailto:jösé@example.com"] }, 300));
    assert.deepEqual(errors.map((f) => [f.code, f.path]), [
      ["tls-rpt.uri.non-ascii", "rua[0]"],
      ["tls-rpt.uri.non-ascii", "rua[1]"],
    ]);
    assert.equal(
      errors[0].message,
      'TLS-RPT rua[0] "mailto:tls@exämple.com" contains non-ASCII characters, which a TLS-RPT record cannot carry; write the host in its xn-- form: "mailto:tls@xn--exmple-cua.com"',
    );
    assert.match(errors[1].message, /use an ASCII mailbox/);
    const published = checkTlsRpt("v=TLSRPTv1; rua=https://reports.example.net/é");
    assert.deepEqual(published.map((f) => [f.code, f.path]), [["tls-rpt.uri.non-ascii", "rua[0]"]]);
    assert.match(published[0].message, /publish the percent-encoded URL "https:\/\/reports\.example\.net\/%C3%A9"/);
  });

  it("judges published values", () => {
    assert.deepEqual(checkTlsRpt("v=TLSRPTv1;rua=mailto:a@example.com;"), []);
    assert.deepEqual(codes(checkTlsRpt("rua=mailto:a@example.com; v=TLSRPTv1")), ["tls-rpt.version"]);
    assert.deepEqual(codes(checkTlsRpt("v=TLSRPTv1")), ["tls-rpt.rua.missing"]);
    assert.deepEqual(codes(checkTlsRpt("v=TLSRPTv1; rua=ftp://x.example.com")), ["tls-rpt.uri.scheme"]);
  });
});
