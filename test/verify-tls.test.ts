import assert from "node:assert/strict";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { certificateCheck } from "../cli/verify/checks/tls";
import { fetchMtaStsPolicy, probeSmtp } from "../cli/verify/net";

/**
 * The TLS half of verify against real TLS on loopback: an SMTP server that
 * upgrades with STARTTLS and an HTTPS policy host, with certificates made
 * here by a test CA (trusted only through the probe's tlsOptions).
 */
const forge = require("node-forge");

interface Issued { certPem: string; keyPem: string }

function makeCa(): Issued & { cert: any; key: any } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  const attrs = [{ name: "commonName", value: "Postforge Test CA" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: "basicConstraints", cA: true }, { name: "keyUsage", keyCertSign: true, cRLSign: true }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey, certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

function issue(ca: { cert: any; key: any }, hostname: string, serial: string): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  cert.setSubject([{ name: "commonName", value: hostname }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([{ name: "subjectAltName", altNames: [{ type: 2, value: hostname }] }]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A minimal SMTP server that offers STARTTLS and completes the TLS handshake with `identity`. */
function startTlsSmtp(identity: Issued): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.write("220 mx.test ESMTP\r\n");
    socket.on("data", (data) => {
      const line = data.toString();
      if (/^EHLO/i.test(line)) socket.write("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
      else if (/^STARTTLS/i.test(line)) {
        // Stop reading plaintext before the client's ClientHello arrives; the TLS socket takes over the stream.
        socket.removeAllListeners("data");
        socket.pause();
        socket.write("220 2.0.0 Ready to start TLS\r\n");
        const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: tls.createSecureContext({ cert: identity.certPem, key: identity.keyPem }) });
        secure.on("error", () => secure.destroy());
        secure.on("data", () => undefined);
      } else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("verify over real TLS on loopback", () => {
  let ca: ReturnType<typeof makeCa>;
  const servers: net.Server[] = [];
  before(() => {
    ca = makeCa();
  });
  after(() => servers.forEach((s) => s.close()));

  const probeWith = async (identity: Issued, host: string, trustCa: boolean) => {
    const server = await startTlsSmtp(identity);
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    return probeSmtp(host, "127.0.0.1", { port, timeoutMs: 3000, tls: true, ehloName: "verify.test", tlsOptions: trustCa ? { ca: ca.certPem } : {} });
  };

  it("passes a certificate that is trusted and names the MX host", async () => {
    const probe = await probeWith(issue(ca, "mx1.example.com", "02"), "mx1.example.com", true);
    assert.deepEqual(probe.certificate, { ok: true, subject: "mx1.example.com" });
    assert.equal(certificateCheck("example.com", "mx1.example.com", probe, true).status, "pass");
  });

  it("fails a certificate issued for another name", async () => {
    const probe = await probeWith(issue(ca, "other.example.net", "03"), "mx1.example.com", true);
    const result = certificateCheck("example.com", "mx1.example.com", probe, true);
    assert.equal(result.status, "fail");
    assert.match(result.message, /mx1\.example\.com/);
    assert.match(result.message, /other\.example\.net/);
  });

  it("fails a certificate nobody trusts", async () => {
    const probe = await probeWith(issue(ca, "mx1.example.com", "04"), "mx1.example.com", false);
    const result = certificateCheck("example.com", "mx1.example.com", probe, true);
    assert.equal(result.status, "fail");
    assert.match(result.message, /not trusted/);
  });

  it("fetches an MTA-STS policy over HTTPS with a valid certificate, and refuses an untrusted one", async () => {
    const identity = issue(ca, "mta-sts.example.com", "05");
    const policy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 604800\r\n";
    const server = https.createServer({ cert: identity.certPem, key: identity.keyPem }, (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(policy);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `https://127.0.0.1:${port}/.well-known/mta-sts.txt`;
      const trusted = await fetchMtaStsPolicy("example.com", { timeoutMs: 3000, url, tlsOptions: { ca: ca.certPem, servername: "mta-sts.example.com" } });
      assert.deepEqual(trusted, { ok: true, text: policy });
      const untrusted = await fetchMtaStsPolicy("example.com", { timeoutMs: 3000, url, tlsOptions: { servername: "mta-sts.example.com" } });
      assert.equal(untrusted.ok, false);
      // Given the address its own resolver found, verify connects there, never asking the system's: mta-sts.example.invalid
      // resolves nowhere, and the name is still what the certificate must be for.
      const invalid = issue(ca, "mta-sts.example.invalid", "06");
      const named = https.createServer({ cert: invalid.certPem, key: invalid.keyPem }, (req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(req.headers.host === "mta-sts.example.invalid" ? policy : "wrong Host");
      });
      await new Promise<void>((resolve) => named.listen(0, "127.0.0.1", resolve));
      try {
        const at = { timeoutMs: 3000, address: "127.0.0.1", port: (named.address() as AddressInfo).port, tlsOptions: { ca: ca.certPem } };
        assert.deepEqual(await fetchMtaStsPolicy("example.invalid", at), { ok: true, text: policy });
        // The certificate is held to the name, not the address: one for another name fails.
        const other = await fetchMtaStsPolicy("example.invalid", { ...at, port });
        assert.equal(other.ok, false);
        assert.match((other as { message: string }).message, /mta-sts\.example\.invalid|altnames|Hostname/i);
      } finally {
        named.close();
      }
    } finally {
      server.close();
    }
  });
});
