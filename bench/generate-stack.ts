import { generateKeyPairSync } from "node:crypto";

/**
 * A realistic large stack for the benchmark: N sending domains, each with its
 * own mail host, HELO SPF, SPF with a third-party include, RSA and Ed25519
 * DKIM keys, DMARC with external reports, MTA-STS, TLS-RPT and CAA.
 */
export function generateStackConfig(
  domainCount: number,
  provider: "cloudflare" | "route53",
  /** The i-th domain's host address (default in 198.51.0.0/16, documentation space). */
  address: (i: number) => string = (i) => `198.51.${Math.floor(i / 250)}.${(i % 250) + 1}`,
): Record<string, string> {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }).subarray(12).toString("base64");
  const domains = Array.from({ length: domainCount }, (_, i) => {
    const name = `sender${i}.example`;
    const ip = address(i);
    return {
      name,
      dns: provider === "cloudflare" ? { provider, zoneId: i.toString(16).padStart(32, "0") } : { provider, hostedZoneId: `Z${i.toString().padStart(20, "0")}` },
      mx: [{ host: `mail.${name}`, priority: 10 }],
      hosts: [{ name: `mail.${name}`, ipv4: ip }],
      heloHosts: [`mail.${name}`],
      spf: { ip4: [ip], includes: ["sendgrid.net"], all: "-all" },
      dkim: { publicKeys: [{ selector: "pf2026q4", algorithm: "rsa", publicKey: rsa }, { selector: "pf2026q4e", algorithm: "ed25519", publicKey: ed }] },
      dmarc: { p: "reject", adkim: "s", rua: ["mailto:dmarc@reports.example.com"] },
      mtaSts: { mode: "enforce", maxAge: 604800 },
      tlsRpt: { rua: ["mailto:tls@reports.example.com"] },
      caa: { issue: ["letsencrypt.org"] },
    };
  });
  return {
    "postforge:environment": "production",
    "postforge:domains": JSON.stringify(domains),
  };
}
