import { randomBytes } from "node:crypto";
import type { DNSResolver } from "mailauth";
import { loadProjectStack } from "../../cli/plan/stack-files";
import { desiredRecordsForStack, mailHostPlanFor, stackConfigFromValues } from "../../components/config";
import { dkimKeyProvider, type DkimKeyOutputs } from "../../components/dkim/provider";
import { dkimKeyRecord } from "../../components/dkim/records";
import type { DnsRecord } from "../../components/dns/model";
import { parseMailHostConfig, roleMailboxes } from "../../components/mta-host";
import { freePort, resolver } from "./dns-tools";
import { startMailHost, type MailHostDaemons, type TestMailbox } from "./mta-daemons";
import { PROJECT_DIR } from "./offline";
import type { TestPorts } from "./mta-tools";

/**
 * The mail host the end-to-end test and the load benchmark both run: the one
 * the example stack `selfhosted` defines (stacks/Pulumi.selfhosted.yaml),
 * derived by the same functions index.ts uses, so the daemons run exactly the
 * files that stack's instance would boot with. The only change is one more
 * submission network, loopback, where the test clients connect from.
 */
export const EXAMPLE_STACK = "selfhosted";
const stackValues = loadProjectStack(PROJECT_DIR, EXAMPLE_STACK).config;
const stackConfig = stackConfigFromValues(stackValues, EXAMPLE_STACK);
const desired = desiredRecordsForStack(stackConfig, `stack "${EXAMPLE_STACK}" config`);
const plan = mailHostPlanFor(stackConfig, desired, stackValues["aws:region"], `stack "${EXAMPLE_STACK}" config`)!;

/** The domain the test sends from, and the host's own name. */
export const DOMAIN = "example.com";
export const HOST = plan.config.hostname;
/** The address the host sends from (and the clients connect from): its A record in the served zone. */
export const HOST_IP = "127.0.0.1";

export const config = parseMailHostConfig({ ...plan.config, submissionClients: [...plan.config.submissionClients, "127.0.0.0/8"] });

/** SASL users that submit (one per served domain), plus every role mailbox (LMTP refuses users the passwd-file lacks). */
export const SUBMITTER: TestMailbox = { address: `app@${DOMAIN}`, password: `app-${randomBytes(6).toString("hex")}` };
export const SUBMITTERS: TestMailbox[] = config.domains.map((d) =>
  d.domain === DOMAIN ? SUBMITTER : { address: `app@${d.domain}`, password: `app-${randomBytes(6).toString("hex")}` },
);
export const MAILBOXES: TestMailbox[] = [
  ...SUBMITTERS,
  ...roleMailboxes(config).map((m) => ({ address: m.address, password: `pw-${m.localPart}-${randomBytes(4).toString("hex")}` })),
];

export type FixtureKey = DkimKeyOutputs & { domain: string };

/** Every key the host signs with, made by the real DkimKey provider. */
export async function createKeys(): Promise<FixtureKey[]> {
  const keys: FixtureKey[] = [];
  for (const d of config.domains) {
    for (const s of d.selectors) {
      const { outs } = await dkimKeyProvider.create({
        domain: d.domain, selector: s.selector, algorithm: s.algorithm, bits: s.algorithm === "rsa" ? 2048 : 0, allowLegacy1024: false, state: "active", overlapSeconds: 604800,
      });
      keys.push({ ...(outs as DkimKeyOutputs), domain: d.domain });
    }
  }
  return keys;
}

/**
 * The zones receivers resolve: every record the stack derives for the
 * domains the host serves (SPF `a:<host>`, DMARC, MX, TLS-RPT, the host's
 * HELO SPF), the host's A record pointing at loopback, and the real keys.
 */
export function zones(keys: FixtureKey[]): { apex: string; records: DnsRecord[] }[] {
  return desired.domains
    .filter((d) => config.domains.some((c) => c.domain === d.domain))
    .map((d) => ({
      apex: d.domain,
      records: [
        ...d.records,
        ...(d.hostAddress ? [{ name: d.hostAddress.name, type: "A" as const, ttl: d.ttl, purpose: "host-address" as const, address: HOST_IP }] : []),
        ...keys.filter((k) => k.domain === d.domain).map((k) => dkimKeyRecord(d.domain, k.selector, k.dnsValue, d.ttl)),
      ],
    }));
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

/** Start the host with every key; test-only routing sends every outbound message to the receiver instead of the recipient's MX. */
export function startFixtureHost(ports: TestPorts, keys: FixtureKey[], receiverPort: number): Promise<MailHostDaemons> {
  return startMailHost(config, ports, MAILBOXES, {
    dkimKeys: Object.fromEntries(keys.map((k) => [`${k.domain}/${k.selector}`, k.privateKeyPem])),
    mainCfExtra: [`relayhost = [127.0.0.1]:${receiverPort}`],
  });
}
