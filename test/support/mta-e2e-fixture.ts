import { randomBytes } from "node:crypto";
import type { DNSResolver } from "mailauth";
import { dkimKeyProvider, type DkimKeyOutputs } from "../../components/dkim/provider";
import { dkimKeyRecord } from "../../components/dkim/records";
import type { DnsRecord } from "../../components/dns/model";
import { txtRecord } from "../../components/dns/protocols/common";
import { parseMailHostConfig, roleMailboxes } from "../../components/mta-host";
import { freePort, resolver } from "./dns-tools";
import { startMailHost, type MailHostDaemons, type TestMailbox } from "./mta-daemons";
import type { TestPorts } from "./mta-tools";

/**
 * The mail host the end-to-end test and the load benchmark both run: one
 * definition, so the benchmark measures exactly what the test proves.
 */
export const DOMAIN = "example.com";
export const HOST = "mail.example.com";
export const TTL = 300;
/** The address the host sends from (and the clients connect from). */
export const HOST_IP = "127.0.0.1";

export const config = parseMailHostConfig({
  hostname: HOST,
  domains: [
    {
      domain: DOMAIN,
      selectors: [
        { selector: "pf2026q4", algorithm: "rsa", secretName: "postforge/dkim/example.com/pf2026q4" },
        { selector: "pf2026q4e", algorithm: "ed25519", secretName: "postforge/dkim/example.com/pf2026q4e" },
      ],
    },
  ],
  // The VPC, and loopback where the clients connect from.
  submissionClients: ["10.0.0.0/16", "127.0.0.0/8"],
  adminClients: ["10.0.1.0/24"],
  awsRegion: "eu-west-1",
  mailboxPasswordsSecretName: "postforge/mail-host/mailboxes",
  tls: { acmeEmail: "postmaster@example.com", dnsChallenge: { provider: "route53" } },
});

/** The SASL user that submits, plus every role mailbox (LMTP refuses users the passwd-file lacks). */
export const SUBMITTER: TestMailbox = { address: "app@example.com", password: `app-${randomBytes(6).toString("hex")}` };
export const MAILBOXES: TestMailbox[] = [
  SUBMITTER,
  ...roleMailboxes(config).map((m) => ({ address: m.address, password: `pw-${m.localPart}-${randomBytes(4).toString("hex")}` })),
];

/** A signing key made by the real DkimKey provider. */
export async function createKey(selector: string, algorithm: "rsa" | "ed25519"): Promise<DkimKeyOutputs> {
  const { outs } = await dkimKeyProvider.create({
    domain: DOMAIN, selector, algorithm, bits: algorithm === "rsa" ? 2048 : 0, allowLegacy1024: false, state: "active", overlapSeconds: 604800,
  });
  return outs as DkimKeyOutputs;
}

/** The zone receivers resolve: SPF for the host's IP, strict DMARC at reject, both keys, the host's A, HELO SPF and MX. */
export function zoneRecords(rsa: DkimKeyOutputs, ed: DkimKeyOutputs): DnsRecord[] {
  return [
    txtRecord(DOMAIN, `v=spf1 ip4:${HOST_IP} -all`, TTL, "spf"),
    txtRecord(`_dmarc.${DOMAIN}`, `v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:dmarc-rua@${DOMAIN}`, TTL, "dmarc"),
    dkimKeyRecord(DOMAIN, rsa.selector, rsa.dnsValue, TTL),
    dkimKeyRecord(DOMAIN, ed.selector, ed.dnsValue, TTL),
    { name: HOST, type: "A", ttl: TTL, purpose: "host-address", address: HOST_IP },
    txtRecord(HOST, `v=spf1 ip4:${HOST_IP} -all`, TTL, "helo-spf"),
    { name: DOMAIN, type: "MX", ttl: TTL, purpose: "mx", priority: 10, exchange: HOST },
  ];
}

/** mailauth's resolver, asking only the given knotd. */
export function knotResolver(port: number): DNSResolver {
  const r = resolver(port);
  return (async (name: string, rrtype: string) => r.resolve(name, rrtype)) as unknown as DNSResolver;
}

/** Free loopback ports for every listener the host has. */
export async function freeMailPorts(): Promise<TestPorts> {
  return {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imaps: await freePort(),
    milter: await freePort(),
    milterEd25519: await freePort(),
  };
}

/** Start the host with both keys; test-only routing sends every outbound message to the receiver instead of the recipient's MX. */
export function startFixtureHost(ports: TestPorts, rsa: DkimKeyOutputs, ed: DkimKeyOutputs, receiverPort: number): Promise<MailHostDaemons> {
  return startMailHost(config, ports, MAILBOXES, {
    dkimKeys: { [`${DOMAIN}/${rsa.selector}`]: rsa.privateKeyPem, [`${DOMAIN}/${ed.selector}`]: ed.privateKeyPem },
    mainCfExtra: [`relayhost = [127.0.0.1]:${receiverPort}`],
  });
}
