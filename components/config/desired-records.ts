import { dmarcIntentFindings } from "../dns/protocols/dmarc";
import { getPublicSuffix } from "tldts";
import {
  bimiRecord,
  caaRecords,
  checkMtaStsCoversMx,
  dkimRecord,
  dmarcRecord,
  heloSpfRecord,
  mtaStsPolicyHost,
  mtaStsPolicyText,
  mtaStsRecord,
  mxRecords,
  nullMxRecord,
  parkedDmarcIntent,
  parkedDomainRecords,
  reportAuthorizationRecords,
  spfRecord,
  tlsRptRecord,
  type DmarcIntent,
  type DmarcMode,
  type MtaStsIntent,
} from "../dns/protocols";
import { dkimPlaceholderRecord } from "../dkim/records";
import { RecordBuildError, type Finding } from "../dns/findings";
import { enclosingZone, rdataText, type DnsRecord } from "../dns/model";
import { publishingProblems, recordProblems, recordSetProblems } from "../dns/record-rules";
import { ValidationError } from "../validation";
import { resolveManagedDkimKeys, type ManagedDkimKey } from "./dkim-keys";
import type { DnsBackendConfig, ParkedDomainConfig, SendingDomainConfig, StackConfig } from "./schema";

/**
 * From validated stack config to the records each zone must hold: the one
 * place where config intent meets the protocol builders. Pure: no Pulumi.
 * Every record remembers the config path it came from, so problems found
 * across records (two SPF records at one name) name the settings to change.
 */

/** One zone's desired state: its records, its managed DKIM keys and where they are published. */
export interface DomainRecords {
  domain: string;
  /** "sending" domains send mail; "parked" ones must never send. */
  kind: "sending" | "parked";
  backend: DnsBackendConfig;
  records: DnsRecord[];
  /** Keys Postforge generates for this domain; their records come from the keyring at deploy. */
  dkimKeys: ManagedDkimKey[];
  /** The domain's record TTL. */
  ttl: number;
  /** The MTA-STS policy file to serve at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
  mtaStsPolicy?: string;
  /**
   * Who serves `mtaStsPolicy` (config `mtaSts.serve`): the stack's mail host
   * (this zone then publishes `mta-sts.<domain>` at its Elastic IP),
   * CloudFront (MtaStsPolicySite), or someone else (the plan warns).
   */
  mtaStsServedBy?: MtaStsServer;
  /** The stack's mail host's A record, in this zone; its address is the Elastic IP, known at deploy. */
  hostAddress?: { name: string; ttl: number };
}

/** Who serves a domain's MTA-STS policy file (config `mtaSts.serve`). */
export type MtaStsServer = "mail-host" | "cloudfront" | "elsewhere";

/**
 * `mta-sts.<domain>` at the mail host's address, in a zone whose MTA-STS
 * policy the host serves: what MailStack publishes (address: the Elastic IP)
 * and what the checks before deploy hold in its place (a placeholder).
 */
export function policyHostRecord<A>(zone: Pick<DomainRecords, "domain" | "ttl" | "mtaStsServedBy">, address: A): { name: string; type: "A"; ttl: number; purpose: "mta-sts-policy-host"; address: A } | undefined {
  return zone.mtaStsServedBy === "mail-host" ? { name: mtaStsPolicyHost(zone.domain), type: "A", ttl: zone.ttl, purpose: "mta-sts-policy-host", address } : undefined;
}

/** Where the stack's mail host sits in its zones (from `postforge:mailHost`). */
export interface MailHostPlacement {
  hostname: string;
  /** The sending domain whose zone holds the host's A record and HELO SPF. */
  zone: string;
  /** The sending domains the host signs, sends and receives for. */
  domains: string[];
}

/** Stands in for the Elastic IP wherever records are checked before it exists (RFC 5737 documentation address; never published). */
export const HOST_ADDRESS_PLACEHOLDER = "192.0.2.1";

/** Stands in for the host's A record wherever records are checked before the Elastic IP exists. */
export function hostAddressPlaceholder(name: string, ttl: number): DnsRecord {
  return { name, ttl, purpose: "host-address", type: "A", address: HOST_ADDRESS_PLACEHOLDER };
}

/** What desiredRecordsForStack returns: every zone's records, where the mail host sits, and the warnings. */
export interface StackRecords {
  /** Every zone of the stack, sending domains first, then parked ones, in config order. */
  domains: DomainRecords[];
  /** Where the stack's mail host sits, when the config has one. */
  mailHost?: MailHostPlacement;
  /** Things the user should know that do not block a deploy (config path first). */
  warnings: string[];
}

/** Collects problems and warnings, and where each record came from. */
class Collector {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  readonly origin = new Map<DnsRecord, string>();

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  warn(path: string, message: string): void {
    this.warnings.push(`${path}: ${message}`);
  }

  /** Run a builder; its errors become problems at `path` (plus the finding's own sub-path). */
  build<T>(path: string, build: () => T): T | undefined {
    try {
      return build();
    } catch (error) {
      if (!(error instanceof RecordBuildError)) throw error;
      for (const f of error.findings) this.problems.push(`${joinPath(path, f.path)}: ${f.message}`);
      return undefined;
    }
  }

  /** Build records into `into`, remembering their origin. */
  add(into: DnsRecord[], path: string, build: () => DnsRecord | DnsRecord[]): void {
    const built = this.build(path, build);
    for (const record of built === undefined ? [] : Array.isArray(built) ? built : [built]) {
      this.origin.set(record, path);
      into.push(record);
    }
  }

  warnFindings(path: string, findings: Finding[]): void {
    for (const f of findings) if (f.severity === "warning") this.warn(joinPath(path, f.path), f.message);
  }
}

/**
 * The records every zone of the stack must hold, with its managed DKIM keys
 * and the mail host's place. Throws a ValidationError naming every problem
 * at its config path; `today` dates the DKIM key rotation warnings.
 */
export function desiredRecordsForStack(config: StackConfig, subject: string, today: Date = new Date()): StackRecords {
  const c = new Collector();
  const domains: DomainRecords[] = [];
  const reportAuthorizations: DnsRecord[] = [];
  const claimed = new Map<string, string>();
  const claim = (name: string, path: string) => {
    // A public suffix (co.uk, github.io) is no one's to send from: receivers find no organizational domain for it.
    if (getPublicSuffix(name, { allowPrivateDomains: true }) === name) {
      c.problem(`${path}.name`, `"${name}" is a public suffix (Public Suffix List): no one owns it, so it cannot be a sending or parked domain; use a domain registered under it, such as example.${name}`);
    }
    const previous = claimed.get(name);
    if (previous) c.problem(`${path}.name`, `"${name}" is already configured at ${previous}; each domain appears once`);
    else claimed.set(name, path);
  };

  const host = config.mailHost ? placeMailHost(config, c) : undefined;
  // The stack's zones by name, for finding the zone a name falls in (the first of a name listed twice, which is refused).
  const zones = new Map<string, SendingDomainConfig>();
  for (const d of config.domains) if (!zones.has(d.name)) zones.set(d.name, d);
  config.domains.forEach((domain, i) => {
    const path = `domains[${i}]`;
    claim(domain.name, path);
    const role = host && { ...host, serves: host.domains.includes(domain.name), holdsAddress: host.zone === domain.name };
    const built = sendingDomainRecords(domain, path, config, zones, c, role);
    const dkim = resolveManagedDkimKeys(domain, path, config.dkim, today);
    dkim.problems.forEach((p) => c.problems.push(p));
    dkim.warnings.forEach((w) => c.warnings.push(w));
    domains.push({
      domain: domain.name,
      kind: "sending",
      backend: domain.dns,
      records: built.records,
      dkimKeys: dkim.keys,
      ttl: built.ttl,
      mtaStsPolicy: built.mtaStsPolicy,
      ...(built.mtaStsServedBy ? { mtaStsServedBy: built.mtaStsServedBy } : {}),
      ...(role?.holdsAddress ? { hostAddress: { name: host!.hostname, ttl: built.ttl } } : {}),
    });
    reportAuthorizations.push(...built.reportAuthorizations);
    if (role?.serves && !dkim.keys.some((k) => k.state === "active")) {
      c.problem(
        `mailHost.domains[${host!.domains.indexOf(domain.name)}]`,
        `"${domain.name}" has no active managed DKIM key, and the mail host signs everything it sends; add one under ${path}.dkim.keys (pending first, active once published), or remove the domain from the host`,
      );
    }
  });
  config.parkedDomains.forEach((parked, i) => {
    const path = `parkedDomains[${i}]`;
    claim(parked.name, path);
    const built = parkedRecords(parked, path, config, c);
    domains.push({ domain: parked.name, kind: "parked", backend: parked.dns, records: built.records, dkimKeys: [], ttl: built.ttl });
    reportAuthorizations.push(...built.reportAuthorizations);
  });

  placeReportAuthorizations(domains, reportAuthorizations, c);
  checkAcrossRecords(domains, c);

  if (c.problems.length > 0) throw new ValidationError(subject, c.problems);
  return { domains, warnings: c.warnings, ...(host ? { mailHost: host } : {}) };
}

/**
 * Where the mail host goes: its name must be in one of this stack's sending
 * zones (the stack publishes its A record, and the PTR must match it), and it
 * serves only sending domains of this stack that can receive mail.
 */
function placeMailHost(config: StackConfig, c: Collector): MailHostPlacement | undefined {
  const host = config.mailHost!;
  const names = config.domains.map((d) => d.name);
  const seen = new Set<string>();
  host.domains.forEach((name, i) => {
    const path = `mailHost.domains[${i}]`;
    if (seen.has(name)) return c.problem(path, `"${name}" is listed twice; remove one`);
    seen.add(name);
    const j = names.indexOf(name);
    if (j < 0) return c.problem(path, `"${name}" is not a sending domain of this stack; add it under domains, or remove it here (the sending domains are ${names.join(", ") || "none"})`);
    if (config.domains[j].nullMx) c.problem(path, `"${name}" has nullMx: true, but the host receives its postmaster@, abuse@ and report mail; remove nullMx (its MX then defaults to ${host.hostname})`);
  });
  if (names.includes(host.hostname)) {
    c.problem("mailHost.hostname", `"${host.hostname}" is a sending domain; give the host its own name such as mail.${host.hostname}`);
    return undefined;
  }
  const zone = [...names].sort((a, b) => b.length - a.length).find((d) => host.hostname.endsWith(`.${d}`));
  if (!zone) {
    c.problem("mailHost.hostname", `"${host.hostname}" is in none of this stack's sending domains (${names.join(", ") || "none"}); the stack publishes its A record, which the reverse DNS must match, so name it inside one, such as mail.${names[0] ?? "example.com"}`);
    return undefined;
  }
  const zoneIndex = names.indexOf(zone);
  const zoneConfig = config.domains[zoneIndex];
  const listed = zoneConfig.hosts.findIndex((h) => h.name === host.hostname);
  if (listed >= 0) {
    c.problem(`domains[${zoneIndex}].hosts[${listed}].name`, `"${host.hostname}" is the mail host, whose A record is its Elastic IP; remove it from hosts`);
  }
  if (zoneConfig.dns.provider === "cloudflare" && !host.tls.cloudflareApiTokenSecretName) {
    c.problem("mailHost.tls.cloudflareApiTokenSecretName", `is required: ${zone} is on Cloudflare, so certbot's DNS-01 challenge needs a DNS-edit API token; store one in Secrets Manager and name its secret here`);
  }
  return { hostname: host.hostname, zone, domains: [...seen] };
}

/** How a sending domain relates to the stack's mail host. */
interface HostRole extends MailHostPlacement {
  /** The host signs, sends and receives for this domain. */
  serves: boolean;
  /** This zone holds the host's A record. */
  holdsAddress: boolean;
}

function sendingDomainRecords(
  configured: SendingDomainConfig,
  path: string,
  config: StackConfig,
  zones: ReadonlyMap<string, SendingDomainConfig>,
  c: Collector,
  host?: HostRole,
): { records: DnsRecord[]; reportAuthorizations: DnsRecord[]; ttl: number; mtaStsPolicy?: string; mtaStsServedBy?: MtaStsServer } {
  const domain = host?.serves ? withHostDefaults(configured, path, host, config, c) : configured;
  const ttl = domain.ttl ?? config.defaultTtl;
  const name = domain.name;
  const records: DnsRecord[] = [];
  const inZone = (h: string) => h === name || h.endsWith(`.${name}`);
  const addressed = new Set([...domain.hosts.map((h) => h.name), ...(host?.holdsAddress ? [host.hostname] : [])]);

  if (domain.mx && domain.nullMx) {
    c.problem(`${path}.nullMx`, "a domain cannot both receive mail (mx) and refuse it (nullMx: true); keep one");
  } else if (domain.mx) {
    c.add(records, `${path}.mx`, () => mxRecords(name, domain.mx!, ttl));
    domain.mx.forEach((mx, j) => {
      // An MX target in one of the stack's zones must have an address there: a sender finds no host to
      // deliver to otherwise, and mail to the domain bounces (RFC 5321 §5.1).
      const zone = enclosingZone(mx.host, zones);
      if (!zone) return;
      const zoneIndex = config.domains.indexOf(zone);
      const zoneAddressed = zone === configured ? addressed : new Set([...zone.hosts.map((h) => h.name), ...(config.mailHost?.hostname ? [config.mailHost.hostname] : [])]);
      if (!zoneAddressed.has(mx.host) && !(host?.hostname === mx.host)) {
        c.problem(
          `${path}.mx[${j}].host`,
          `"${mx.host}" has no address in ${zone.name}, a zone of this stack, so mail for ${name} cannot be delivered (RFC 5321 §5.1); add it to domains[${zoneIndex}].hosts with its ipv4, or name a host that has one`,
        );
      }
    });
  } else if (domain.nullMx) {
    c.add(records, `${path}.nullMx`, () => nullMxRecord(name, ttl));
  } else {
    c.warn(path, `${name} publishes no MX, so senders fall back to its A record and bounces may never arrive; add mx, or nullMx: true if it receives no mail`);
  }
  if (domain.spf.mx && (domain.nullMx || !domain.mx)) {
    c.warn(`${path}.spf.mx`, `${name} has no MX hosts, so "mx" costs a lookup and matches nothing; remove it`);
  }

  const hostsSeen = new Set<string>();
  domain.hosts.forEach((host, j) => {
    const hostPath = `${path}.hosts[${j}]`;
    if (hostsSeen.has(host.name)) return c.problem(`${hostPath}.name`, `"${host.name}" is listed twice; give each host once with all its addresses`);
    hostsSeen.add(host.name);
    if (!inZone(host.name)) return c.problem(`${hostPath}.name`, `"${host.name}" is outside ${name}; list it under the domain whose zone holds it`);
    if (!host.ipv4 && !host.ipv6) return c.problem(hostPath, `host "${host.name}" needs ipv4, ipv6 or both`);
    if (host.ipv4) c.add(records, hostPath, () => ({ name: host.name, ttl, purpose: "host-address", type: "A", address: host.ipv4! }));
    if (host.ipv6) c.add(records, hostPath, () => ({ name: host.name, ttl, purpose: "host-address", type: "AAAA", address: host.ipv6! }));
  });

  const heloSeen = new Set<string>();
  domain.heloHosts.forEach((host, j) => {
    const hostPath = `${path}.heloHosts[${j}]`;
    if (heloSeen.has(host)) return c.problem(hostPath, `"${host}" is listed twice; remove one`);
    heloSeen.add(host);
    if (host === name) return c.problem(hostPath, `"${host}" is the domain itself, whose SPF record lists the senders; use a host name such as mail.${name}`);
    if (!inZone(host)) return c.problem(hostPath, `"${host}" is outside ${name}; list it under the domain whose zone holds it`);
    if (!addressed.has(host)) c.warn(hostPath, `"${host}" has no address in hosts, so "v=spf1 a -all" matches nothing and HELO checks fail; add it to hosts`);
    c.add(records, hostPath, () => heloSpfRecord(host, ttl));
  });
  // The mail host's HELO name gets its own SPF record, so HELO checks pass (RFC 7208 §2.3).
  if (host?.holdsAddress && !heloSeen.has(host.hostname)) c.add(records, "mailHost.hostname", () => heloSpfRecord(host.hostname, ttl));

  c.add(records, `${path}.spf`, () => spfRecord(name, domain.spf, ttl));

  domain.dkim.publicKeys.forEach((key, j) => c.add(records, `${path}.dkim.publicKeys[${j}]`, () => dkimRecord(name, key, ttl)));

  const dmarcIntent = stripUndefined(domain.dmarc) as DmarcIntent;
  c.add(records, `${path}.dmarc`, () => dmarcRecord(name, dmarcIntent, config.dmarcMode as DmarcMode, ttl));
  c.warnFindings(`${path}.dmarc`, dmarcIntentFindings(dmarcIntent, config.dmarcMode as DmarcMode));
  if (config.environment === "production" && dmarcIntent.p === "none") {
    c.warn(`${path}.dmarc.p`, `production domain ${name} has DMARC p=none, which protects nothing; move to quarantine, then reject, once reports show your mail aligned`);
  }
  const reportAuthorizations = c.build(`${path}.dmarc`, () => reportAuthorizationRecords(name, dmarcIntent, ttl)) ?? [];
  reportAuthorizations.forEach((r) => c.origin.set(r, `${path}.dmarc`));

  let mtaStsPolicy: string | undefined;
  let mtaStsServedBy: MtaStsServer | undefined;
  if (domain.mtaSts) {
    const mxHosts = (domain.mx ?? []).map((m) => m.host);
    const intent: MtaStsIntent = { mode: domain.mtaSts.mode, mx: domain.mtaSts.mx ?? mxHosts, maxAge: domain.mtaSts.maxAge };
    const coverage = checkMtaStsCoversMx(intent, mxHosts);
    const errors = coverage.filter((f) => f.severity === "error");
    if (errors.length > 0) c.build(`${path}.mtaSts`, () => { throw new RecordBuildError(errors); });
    c.warnFindings(`${path}.mtaSts`, coverage);
    const before = records.length;
    c.add(records, `${path}.mtaSts`, () => mtaStsRecord(name, intent, ttl));
    if (records.length > before) {
      mtaStsPolicy = mtaStsPolicyText(intent);
      const hostCanServe = host?.serves === true && zones.get(host.zone)?.dns.provider === domain.dns.provider;
      mtaStsServedBy = mtaStsServer(domain, path, c, hostCanServe, host);
      if (mtaStsServedBy === "elsewhere") {
        c.warn(
          `${path}.mtaSts`,
          `serve the policy (printed by the plan) at https://mta-sts.${name}/.well-known/mta-sts.txt with a certificate for mta-sts.${name}; until then senders ignore it and TLS-RPT reports fetch failures (or set ${path}.mtaSts.serve: ${hostCanServe ? '"mail-host"' : '"cloudfront"'} and Postforge serves it)`,
        );
      }
    }
  }
  if (domain.tlsRpt) c.add(records, `${path}.tlsRpt`, () => tlsRptRecord(name, domain.tlsRpt!, ttl));
  if (domain.bimi) c.add(records, `${path}.bimi`, () => bimiRecord(name, stripUndefined(domain.bimi!), { intent: dmarcIntent, mode: config.dmarcMode }, ttl));
  if (domain.caa) c.add(records, `${path}.caa`, () => caaRecords(name, stripUndefined(domain.caa!), ttl));

  return { records, reportAuthorizations, ttl, mtaStsPolicy, mtaStsServedBy };
}

/** The CAA issuer names of the CAs that issue for each way of serving (Let's Encrypt for the host's certbot; Amazon's for ACM). */
const MTA_STS_ISSUERS: Record<"mail-host" | "cloudfront", readonly string[]> = {
  "mail-host": ["letsencrypt.org"],
  cloudfront: ["amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"],
};

/**
 * Who serves a domain's MTA-STS policy: as configured, else the mail host
 * where it serves the domain and can answer its certificate's challenge (the
 * domain's zone on the host zone's DNS provider); anything else is served
 * elsewhere, as before Postforge served policies. The host can serve only
 * the domains it serves (its certificate names them), `mta-sts.<domain>`
 * must be free for the record Postforge publishes, and the domain's CAA must
 * let the serving side's CA issue.
 */
function mtaStsServer(domain: SendingDomainConfig, path: string, c: Collector, hostCanServe: boolean, host?: HostRole): MtaStsServer {
  const serve = domain.mtaSts!.serve ?? (hostCanServe ? "mail-host" : "elsewhere");
  const policyHost = mtaStsPolicyHost(domain.name);
  if (serve === "mail-host" && !host?.serves) {
    c.problem(
      `${path}.mtaSts.serve`,
      `"mail-host": ${host ? `the mail host ${host.hostname} does not serve ${domain.name}; add it to mailHost.domains` : "this stack has no mailHost"}, or use "cloudfront" (S3 and CloudFront on AWS) or "elsewhere" (you serve the policy)`,
    );
  }
  if (serve !== "elsewhere") {
    const j = domain.hosts.findIndex((h) => h.name === policyHost);
    if (j >= 0) c.problem(`${path}.hosts[${j}].name`, `"${policyHost}" is where Postforge serves the MTA-STS policy (mtaSts.serve: "${serve}"), so the stack publishes its address; remove it from hosts, or set mtaSts.serve: "elsewhere"`);
    const issuers = MTA_STS_ISSUERS[serve];
    // An issuer with validationmethods (RFC 8657) must allow the one the serving side uses: DNS-01 for certbot, DNS for ACM.
    const method = serve === "mail-host" ? "dns-01" : undefined;
    const lets = (value: string) => {
      const [issuer, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
      if (!issuers.includes(issuer)) return false;
      const methods = params.find((p) => p.startsWith("validationmethods="))?.slice("validationmethods=".length).split(",").map((m) => m.trim());
      return method === undefined || methods === undefined || methods.includes(method);
    };
    if (domain.caa && !domain.caa.issue.some(lets)) {
      c.problem(
        `${path}.caa.issue`,
        `${JSON.stringify(domain.caa.issue)} lets no ${serve === "mail-host" ? "Let's Encrypt certificate validated by DNS-01" : "Amazon certificate"} be issued for ${policyHost}, which mtaSts.serve: "${serve}" needs (RFC 8659, RFC 8657); add "${issuers[0]}"`,
      );
    }
  }
  return serve;
}

/**
 * A domain the mail host serves, with the host filled in where the config is
 * silent: MX (so the role mailboxes receive), SPF `a:<host>` (the Elastic IP
 * is only known at deploy, and an `a:` term keeps the record checkable before
 * it), and DMARC rua/ruf and TLS-RPT rua to the host's report mailboxes.
 */
function withHostDefaults(domain: SendingDomainConfig, path: string, host: HostRole, config: StackConfig, c: Collector): SendingDomainConfig {
  const roles = config.mailHost!.roles;
  const mx = domain.mx ?? [{ host: host.hostname, priority: 10 }];
  const receives = mx.some((m) => m.host === host.hostname);
  if (!receives) {
    c.warn(`${path}.mx`, `the mail host ${host.hostname} is not an MX of ${domain.name}, so its postmaster@, abuse@, ${roles.feedbackLoop}@ and report mailboxes receive nothing; add it, or make sure those addresses exist on ${mx.map((m) => m.host).join(", ")}`);
  }
  const mailbox = (local: string) => `mailto:${local}@${domain.name}`;
  return {
    ...domain,
    mx,
    spf: domain.spf.a.includes(host.hostname) ? domain.spf : { ...domain.spf, a: [...domain.spf.a, host.hostname] },
    dmarc: receives
      ? { ...domain.dmarc, rua: domain.dmarc.rua ?? [mailbox(roles.dmarcAggregate)], ruf: domain.dmarc.ruf ?? [mailbox(roles.dmarcFailure)] }
      : domain.dmarc,
    tlsRpt: domain.tlsRpt ?? (receives ? { rua: [mailbox(roles.tlsReports)] } : undefined),
  };
}

/** M3AAWG's parked-domain set (see protocols/parked.ts): nothing sends, nothing is received, spoofing is rejected and reported. */
function parkedRecords(parked: ParkedDomainConfig, path: string, config: StackConfig, c: Collector): { records: DnsRecord[]; reportAuthorizations: DnsRecord[]; ttl: number } {
  const ttl = parked.ttl ?? config.defaultTtl;
  const records: DnsRecord[] = [];
  // The builder's intent has only `rua`, so its findings' paths fall under this domain's `rua`.
  c.add(records, path, () => parkedDomainRecords(parked.name, { rua: parked.rua }, config.dmarcMode, ttl));
  const reportAuthorizations = c.build(`${path}.rua`, () => reportAuthorizationRecords(parked.name, parkedDmarcIntent({ rua: parked.rua }), ttl)) ?? [];
  reportAuthorizations.forEach((r) => c.origin.set(r, `${path}.rua`));
  return { records, reportAuthorizations, ttl };
}

/**
 * Report-authorization records live in the destination's zone. When that zone
 * is in this stack we publish them there; otherwise its owner must, or
 * receivers drop the reports (RFC 7489 §7.1), so we say so.
 */
function placeReportAuthorizations(domains: DomainRecords[], authorizations: DnsRecord[], c: Collector): void {
  const byApex = new Map(domains.map((d) => [d.domain, d]));
  // What each zone already holds, by "name rdata", built when a zone first receives one.
  const held = new Map<DomainRecords, Set<string>>();
  for (const record of authorizations) {
    const path = c.origin.get(record) ?? "(report authorization)";
    const zone = enclosingZone(record.name, byApex);
    if (!zone) {
      c.warn(path, `reports go outside this stack; ask the owner of ${record.name.split("._report._dmarc.")[1]} to publish TXT ${record.name} "v=DMARC1", or receivers will not send them`);
      continue;
    }
    const placed = { ...record, ttl: zone.ttl };
    const identity = `${placed.name} ${rdataText(placed)}`;
    let identities = held.get(zone);
    if (!identities) held.set(zone, (identities = new Set(zone.records.map((r) => `${r.name} ${rdataText(r)}`))));
    if (!identities.has(identity)) {
      identities.add(identity);
      c.origin.set(placed, path);
      zone.records.push(placed);
    }
  }
}

/**
 * Rules across every record of the stack, before anything is created: valid
 * data, and one SPF / DMARC / DKIM key per name even when two configured
 * domains put records at the same name. Managed DKIM keys take part through a
 * placeholder, since their values only exist after deploy.
 */
function checkAcrossRecords(domains: DomainRecords[], c: Collector): void {
  const all: DnsRecord[] = [];
  for (const zone of domains) {
    for (const record of zone.records) {
      for (const p of [...recordProblems(record), ...publishingProblems(record)]) c.problem(c.origin.get(record) ?? zone.domain, p);
      all.push(record);
    }
    if (zone.hostAddress) {
      const placeholder = hostAddressPlaceholder(zone.hostAddress.name, zone.hostAddress.ttl);
      c.origin.set(placeholder, "mailHost.hostname");
      all.push(placeholder);
    }
    const policyHost = policyHostRecord(zone, HOST_ADDRESS_PLACEHOLDER);
    if (policyHost) {
      c.origin.set(policyHost, `${zone.domain} mtaSts.serve`);
      all.push(policyHost);
    }
    for (const key of zone.dkimKeys) {
      const placeholder = dkimPlaceholderRecord(zone.domain, key.selector, key.algorithm, zone.ttl);
      c.origin.set(placeholder, `${zone.kind === "sending" ? "managed key" : "key"} ${key.selector} of ${zone.domain}`);
      all.push(placeholder);
    }
  }
  for (const problem of recordSetProblems(all)) {
    const sources = [...new Set(problem.records.map((r) => c.origin.get(r) ?? r.name))];
    c.problem(sources.join(" and "), problem.message);
  }
}

function joinPath(base: string, sub: string | undefined): string {
  if (!sub) return base;
  return sub.startsWith("[") ? `${base}${sub}` : `${base}.${sub}`;
}

/** zod leaves absent optional keys as undefined; builders compare intent shapes exactly. */
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
