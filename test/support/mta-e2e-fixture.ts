import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DNSResolver } from "mailauth";
import { loadProjectStack } from "../../cli/plan/stack-files";
import { desiredRecordsForStack, mailHostPlanFor, stackConfigFromValues } from "../../components/config";
import { policyHostRecord } from "../../components/config/desired-records";
import { dkimKeyProvider, type DkimKeyOutputs } from "../../components/dkim/provider";
import { dkimKeyRecord } from "../../components/dkim/records";
import type { DnsRecord } from "../../components/dns/model";
import { renderZoneFile } from "../../components/dns/zonefile";
import { parseMailHostConfig, roleMailboxes } from "../../components/mta-host";
import { renderPasswdFile } from "../../components/mta-host/host-secrets";
import { unsubscribeKeySecretName } from "../../components/mta-host/unsubscribe";
import { resolver, startKnot, type KnotServer } from "./dns-tools";
import { LAB } from "./lab";
import { startMailHost, type MailHostDaemons, type MailHostOptions } from "./mta-daemons";
import { run } from "./mta-tools";
import { PROJECT_DIR } from "./offline";

/**
 * The mail host the end-to-end tests and the load benchmark run: the one the
 * example stack `selfhosted` defines (stacks/Pulumi.selfhosted.yaml), derived
 * by the same functions index.ts uses, so the daemons run exactly the files
 * that stack's instance would boot with. One change to its config: the
 * lab's application address (test/support/lab.ts) joins the submission and
 * admin networks, as an application host in 10.0.0.0/16 would be.
 */
export const EXAMPLE_STACK = "selfhosted";
const stackValues = loadProjectStack(PROJECT_DIR, EXAMPLE_STACK).config;
const stackConfig = stackConfigFromValues(stackValues, EXAMPLE_STACK);
const desired = desiredRecordsForStack(stackConfig, `stack "${EXAMPLE_STACK}" config`);
const plan = mailHostPlanFor(stackConfig, desired, stackValues["aws:region"], `stack "${EXAMPLE_STACK}" config`)!;

/** The domain most tests send from, and the host's own name. */
export const DOMAIN = "example.com";
export const HOST = plan.config.hostname;
/** The host's address: its A record in the lab's zones, where it listens and what it sends from. */
export const HOST_IP = LAB.MAIL_HOST;

export const config = parseMailHostConfig({
  ...plan.config,
  submissionClients: [...plan.config.submissionClients, `${LAB.APPLICATION}/32`],
  adminClients: [...plan.config.adminClients, `${LAB.APPLICATION}/32`],
});

/** A login and its password, as the operator reads them from the stack's secret outputs. */
export interface Credential {
  login: string;
  password: string;
}

const password = () => randomBytes(24).toString("base64url").replace(/[-_]/g, "x").slice(0, 32);

/** The one-click unsubscribe key (MailHost generates 43 alphanumeric characters). */
export const UNSUBSCRIBE_KEY = password() + password().slice(0, 11);

/** Every role mailbox with a fresh password (MailHost generates them with random.RandomPassword). */
export const MAILBOXES: Credential[] = roleMailboxes(config).map((m) => ({ login: m.address, password: password() }));
/** Every submission login of the stack (`mailHost.senders`) with a fresh password. */
export const SENDERS: Credential[] = config.senders.map((s) => ({ login: s.login, password: password() }));

export const passwordOf = (login: string): string => {
  const found = [...MAILBOXES, ...SENDERS].find((c) => c.login === login);
  if (!found) throw new Error(`no credential for ${login}`);
  return found.password;
};

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
 * What Secrets Manager holds for the host, by secret name: each DKIM private
 * key, the two passwd-files as MailHost renders them (renderPasswdFile,
 * from the passwords above and fresh salts), and the one-click unsubscribe key.
 */
export function hostSecrets(keys: FixtureKey[]): Record<string, string> {
  const salted = (list: Credential[]) => list.map((c) => ({ address: c.login, password: c.password, saltBase64: randomBytes(16).toString("base64") }));
  const secrets: Record<string, string> = {
    [config.mailboxPasswordsSecretName]: renderPasswdFile(salted(MAILBOXES)),
    [config.senderPasswordsSecretName]: renderPasswdFile(salted(SENDERS), "submission logins"),
    [unsubscribeKeySecretName(config.hostname)]: UNSUBSCRIBE_KEY,
  };
  for (const d of config.domains) {
    for (const s of d.selectors) {
      const key = keys.find((k) => k.domain === d.domain && k.selector === s.selector);
      if (!key) throw new Error(`no key for ${d.domain}/${s.selector}`);
      secrets[s.secretName] = key.privateKeyPem;
    }
  }
  return secrets;
}

/**
 * Receiving mail domains of the lab: each has an MX host listening at its address on port 25.
 * gmail.com and outlook.com are the lab's own zones (its DNS answers nothing else), so the
 * host's warm-up counts them in their receiver groups exactly as it would the real ones.
 */
export const PROVIDERS = [
  { domain: "provider.example", mx: "mx.provider.example", address: LAB.RECEIVERS[0] },
  { domain: "reporter.example", mx: "mx.reporter.example", address: LAB.RECEIVERS[1] },
  { domain: "gmail.com", mx: "mx.gmail.com", address: LAB.RECEIVERS[2] },
  { domain: "outlook.com", mx: "mx.outlook.com", address: LAB.RECEIVERS[3] },
] as const;

/**
 * The zones of the lab: every record the stack derives for the domains the
 * host serves (SPF `a:<host>`, DMARC, MX, TLS-RPT, the host's HELO SPF), the
 * host's A record at its lab address and the real keys; and the receiving
 * providers' domains (MX, address, SPF).
 */
export function zones(keys: FixtureKey[]): { apex: string; records: DnsRecord[] }[] {
  const served = desired.domains
    .filter((d) => config.domains.some((c) => c.domain === d.domain))
    .map((d) => ({
      apex: d.domain,
      records: [
        ...d.records,
        ...(d.hostAddress ? [{ name: d.hostAddress.name, type: "A" as const, ttl: d.ttl, purpose: "host-address" as const, address: HOST_IP }] : []),
        // mta-sts.<domain> at the host, as MailStack publishes it where the host serves the domain's MTA-STS policy.
        ...[policyHostRecord(d, HOST_IP)].filter((r) => r !== undefined),
        ...keys.filter((k) => k.domain === d.domain).map((k) => dkimKeyRecord(d.domain, k.selector, k.dnsValue, d.ttl)),
      ],
    }));
  const providers = PROVIDERS.map((p) => ({
    apex: p.domain,
    records: [
      { name: p.domain, type: "MX" as const, ttl: 300, purpose: "mx" as const, priority: 10, exchange: p.mx },
      { name: p.mx, type: "A" as const, ttl: 300, purpose: "host-address" as const, address: p.address },
      { name: p.domain, type: "TXT" as const, ttl: 300, purpose: "spf" as const, strings: [`v=spf1 ip4:${p.address} ip4:${LAB.STRANGER} -all`] },
    ],
  }));
  // The parents of every lab domain, empty: the lab's DNS then answers NXDOMAIN above them as the
  // internet's does (DMARC's tree walk asks _dmarc.org), instead of refusing names it does not serve.
  const parents = [...new Set([...served, ...providers].map((z) => z.apex.split(".").slice(-1)[0]))].map((tld) => ({ apex: tld, records: [] as DnsRecord[] }));
  return [...served, ...providers, ...parents];
}

/** The lab's DNS: knotd on its address, port 53, serving the lab's zones (what the lab's resolv.conf names). */
export async function startLabDns(keys: FixtureKey[], extraZones: { apex: string; records: DnsRecord[] }[] = []): Promise<KnotServer> {
  const all = [...zones(keys), ...extraZones];
  const dns = await startKnot(
    all.map((z) => ({ apex: z.apex, text: renderZoneFile(z.apex, z.records) })),
    { address: LAB.DNS_SERVER, port: 53 },
  );
  try {
    const [first, ...others] = LAB.ROOT_SERVERS;
    if (!first) throw new Error("the mail lab has no root servers: install dns-root-data (a dependency of opendkim's libunbound; see .ci/run)");
    const root = await startKnot([{ apex: ".", text: rootZone(all.map((z) => z.apex)), signed: true }], { address: first, port: 53, alsoListen: others });
    let anchored = false;
    try {
      await trustLabRoot();
      anchored = true;
    } catch (error) {
      await root.stop();
      throw error;
    }
    return {
      port: dns.port,
      address: dns.address,
      log: () => `${dns.log()}\n--- root ---\n${root.log()}`,
      stop: async () => {
        if (anchored) await run("umount", [ROOT_TRUST_ANCHOR]);
        await root.stop();
        await dns.stop();
      },
    };
  } catch (error) {
    await dns.stop();
    throw error;
  }
}

/** Where Debian's DNSSEC validators (libunbound, so OpenDKIM) read the root's key: dns-root-data's file. */
const ROOT_TRUST_ANCHOR = "/usr/share/dns/root.key";

/**
 * The lab's root is signed (knotd makes its keys when it starts), and its key is the one the lab's
 * validators trust: the lab's private mount namespace binds a file holding it over Debian's root.key,
 * as it binds resolv.conf. OpenDKIM then validates exactly as on the internet: the lab's
 * top-level domains are unsigned delegations, so their answers are insecure, not bogus.
 */
async function trustLabRoot(): Promise<void> {
  const keys = await run("kdig", [`@${LAB.ROOT_SERVERS[0]}`, ".", "DNSKEY", "+short"]);
  const ksk = keys.stdout.split("\n").filter((l) => l.startsWith("257 "));
  if (!keys.ok || ksk.length === 0) throw new Error(`the lab's root serves no key-signing key:\n${keys.output}`);
  const dir = await mkdtemp(join(tmpdir(), "postforge-root-anchor-"));
  const file = join(dir, "root.key");
  await writeFile(file, ksk.map((k) => `. 3600 IN DNSKEY ${k}\n`).join(""));
  await chmod(dir, 0o755);
  await chmod(file, 0o644);
  const mounted = await run("mount", ["--bind", file, ROOT_TRUST_ANCHOR]);
  if (!mounted.ok) throw new Error(`could not put the lab's root key over ${ROOT_TRUST_ANCHOR}:\n${mounted.output}`);
}

/** The lab's root zone: every top-level domain of the lab's zones delegated to the lab's DNS server (glue under each). */
function rootZone(apexes: string[]): string {
  const tlds = [...new Set(apexes.map((a) => a.split(".").slice(-1)[0]))].sort();
  return [
    "$TTL 3600",
    ". IN SOA a.root-servers.net. hostmaster.lab. 1 7200 3600 1209600 3600",
    ". IN NS a.root-servers.net.",
    `a.root-servers.net. IN A ${LAB.ROOT_SERVERS[0]}`,
    ...tlds.flatMap((tld) => [`${tld}. IN NS ns.${tld}.`, `ns.${tld}. IN A ${LAB.DNS_SERVER}`]),
    "",
  ].join("\n");
}

/** mailauth's resolver, asking only the lab's DNS. */
export function labResolver(): DNSResolver {
  const r = resolver(53, LAB.DNS_SERVER);
  return (async (name: string, rrtype: string) => r.resolve(name, rrtype)) as unknown as DNSResolver;
}

/** Install and start the stack's host in the lab with every key and the passwd-files. */
export function startFixtureHost(keys: FixtureKey[], options: MailHostOptions = {}): Promise<MailHostDaemons> {
  return startMailHost(config, hostSecrets(keys), options);
}
