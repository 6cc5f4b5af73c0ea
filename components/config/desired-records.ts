import {
  bimiRecord,
  caaRecords,
  dkimRecord,
  dmarcRecord,
  heloSpfRecord,
  mtaStsRecord,
  checkMtaStsCoversMx,
  mxRecords,
  nullMxRecord,
  nullSpfRecord,
  reportAuthorizationRecords,
  spfRecord,
  tlsRptRecord,
  type DmarcIntent,
  type DmarcMode,
} from "../dns/protocols";
import { RecordBuildError, type Finding } from "../dns/findings";
import { rdataText, type DnsRecord } from "../dns/model";
import { splitTxtValue } from "../dns/txt";
import { ValidationError } from "../validation";
import { resolveManagedDkimKeys, type ManagedDkimKey } from "./dkim-keys";
import type { DnsBackendConfig, ParkedDomainConfig, SendingDomainConfig, StackConfig } from "./schema";

/**
 * From validated stack config to the records each zone must hold: the one
 * place where config intent meets the protocol builders. Pure: no Pulumi.
 */

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
}

export interface StackRecords {
  domains: DomainRecords[];
  /** Things the user should know that do not block a deploy (config path first). */
  warnings: string[];
}

export function desiredRecordsForStack(config: StackConfig, subject: string, today: Date = new Date()): StackRecords {
  const problems: string[] = [];
  const warnings: string[] = [];
  const attempt = <T>(path: string, build: () => T, fallback: T): T => {
    try {
      const result = build();
      return result;
    } catch (error) {
      if (error instanceof RecordBuildError) {
        for (const f of error.findings) problems.push(`${joinPath(path, f.path)}: ${f.message}`);
      } else {
        problems.push(`${path}: ${(error as Error).message}`);
      }
      return fallback;
    }
  };
  const note = (path: string, findings: Finding[] | undefined) => {
    for (const f of findings ?? []) if (f.severity === "warning") warnings.push(`${joinPath(path, f.path)}: ${f.message}`);
  };

  const seen = new Map<string, string>();
  const claim = (name: string, path: string) => {
    const previous = seen.get(name);
    if (previous) problems.push(`${path}.name = "${name}": already configured at ${previous}; each domain appears once`);
    else seen.set(name, path);
  };

  const domains: DomainRecords[] = [];
  const reportAuthorizations: { record: DnsRecord; path: string }[] = [];

  config.domains.forEach((domain, i) => {
    const path = `domains[${i}]`;
    claim(domain.name, path);
    const built = sendingDomainRecords(domain, path, config, attempt, note);
    const dkim = resolveManagedDkimKeys(domain, path, config.dkim, today);
    problems.push(...dkim.problems);
    warnings.push(...dkim.warnings);
    domains.push({ domain: domain.name, kind: "sending", backend: domain.dns, records: built.records, dkimKeys: dkim.keys, ttl: domain.ttl ?? config.defaultTtl });
    for (const record of built.reportAuthorizations) reportAuthorizations.push({ record, path: `${path}.dmarc` });
  });
  config.parkedDomains.forEach((parked, i) => {
    const path = `parkedDomains[${i}]`;
    claim(parked.name, path);
    const ttl = parked.ttl ?? config.defaultTtl;
    const dmarc: DmarcIntent = { p: "reject", sp: "reject", adkim: "s", aspf: "s", ...(parked.rua ? { rua: parked.rua } : {}) };
    const records = attempt(path, () => parkedDomainRecords(parked, dmarc, config.dmarcMode, ttl), [] as DnsRecord[]);
    const auth = attempt(`${path}.rua`, () => reportAuthorizationRecords(parked.name, dmarc, ttl), []);
    for (const record of auth) reportAuthorizations.push({ record, path: `${path}.rua` });
    domains.push({ domain: parked.name, kind: "parked", backend: parked.dns, records, dkimKeys: [], ttl });
  });

  placeReportAuthorizations(domains, reportAuthorizations, warnings);

  if (problems.length > 0) throw new ValidationError(subject, problems);
  return { domains, warnings };
}

type Attempt = <T>(path: string, build: () => T, fallback: T) => T;
type Note = (path: string, findings: Finding[] | undefined) => void;

function sendingDomainRecords(
  domain: SendingDomainConfig,
  path: string,
  config: StackConfig,
  attempt: Attempt,
  note: Note,
): { records: DnsRecord[]; reportAuthorizations: DnsRecord[] } {
  const ttl = domain.ttl ?? config.defaultTtl;
  const name = domain.name;
  const records: DnsRecord[] = [];
  const add = (built: DnsRecord | DnsRecord[]) => records.push(...(Array.isArray(built) ? built : [built]));
  const none: DnsRecord[] = [];
  const inZone = (host: string) => host === name || host.endsWith(`.${name}`);

  if (domain.mx && domain.nullMx) {
    attempt(`${path}.nullMx`, () => {
      throw new Error("a domain cannot both receive mail (mx) and refuse it (nullMx: true); keep one");
    }, undefined);
  } else if (domain.mx) {
    add(attempt<DnsRecord | DnsRecord[]>(`${path}.mx`, () => mxRecords(name, domain.mx!, ttl), none));
  } else if (domain.nullMx) {
    add(nullMxRecord(name, ttl));
  }

  domain.hosts.forEach((host, j) => {
    const hostPath = `${path}.hosts[${j}]`;
    if (!inZone(host.name)) {
      attempt(`${hostPath}.name`, () => {
        throw new Error(`"${host.name}" is outside ${name}; list it under the domain whose zone holds it`);
      }, undefined);
      return;
    }
    if (!host.ipv4 && !host.ipv6) {
      attempt(hostPath, () => {
        throw new Error(`host "${host.name}" needs ipv4, ipv6 or both`);
      }, undefined);
    }
    if (host.ipv4) add({ name: host.name, ttl, purpose: "host-address", type: "A", address: host.ipv4 });
    if (host.ipv6) add({ name: host.name, ttl, purpose: "host-address", type: "AAAA", address: host.ipv6 });
  });

  domain.heloHosts.forEach((host, j) => {
    const hostPath = `${path}.heloHosts[${j}]`;
    const problem =
      host === name
        ? `"${host}" is the domain itself, whose SPF record lists the senders; use a host name such as mail.${name}`
        : !inZone(host)
          ? `"${host}" is outside ${name}; list it under the domain whose zone holds it`
          : undefined;
    if (problem) {
      attempt(hostPath, () => {
        throw new Error(problem);
      }, undefined);
      return;
    }
    add(attempt<DnsRecord | DnsRecord[]>(hostPath, () => heloSpfRecord(host, ttl), none));
  });

  add(attempt<DnsRecord | DnsRecord[]>(`${path}.spf`, () => spfRecord(name, domain.spf, ttl), none));

  domain.dkim.publicKeys.forEach((key, j) => {
    add(attempt<DnsRecord | DnsRecord[]>(`${path}.dkim.publicKeys[${j}]`, () => dkimRecord(name, key, ttl), none));
  });

  const dmarcIntent = stripUndefined(domain.dmarc) as DmarcIntent;
  add(attempt<DnsRecord | DnsRecord[]>(`${path}.dmarc`, () => dmarcRecord(name, dmarcIntent, config.dmarcMode as DmarcMode, ttl), none));
  const reportAuthorizations = attempt(`${path}.dmarc`, () => reportAuthorizationRecords(name, dmarcIntent, ttl), []);

  if (domain.mtaSts) {
    const mxHosts = (domain.mx ?? []).map((m) => m.host);
    const intent = { mode: domain.mtaSts.mode, mx: domain.mtaSts.mx ?? mxHosts, maxAge: domain.mtaSts.maxAge };
    const coverage = checkMtaStsCoversMx(intent, mxHosts);
    attempt(`${path}.mtaSts`, () => {
      const errors = coverage.filter((f) => f.severity === "error");
      if (errors.length > 0) throw new RecordBuildError(errors);
    }, undefined);
    note(`${path}.mtaSts`, coverage);
    add(attempt<DnsRecord | DnsRecord[]>(`${path}.mtaSts`, () => mtaStsRecord(name, intent, ttl), none));
  }
  if (domain.tlsRpt) add(attempt<DnsRecord | DnsRecord[]>(`${path}.tlsRpt`, () => tlsRptRecord(name, domain.tlsRpt!, ttl), none));
  if (domain.bimi) {
    add(attempt<DnsRecord | DnsRecord[]>(`${path}.bimi`, () => bimiRecord(name, stripUndefined(domain.bimi!), { intent: dmarcIntent, mode: config.dmarcMode }, ttl), none));
  }
  if (domain.caa) add(attempt<DnsRecord | DnsRecord[]>(`${path}.caa`, () => caaRecords(name, stripUndefined(domain.caa!), ttl), none));

  return { records, reportAuthorizations };
}

/** M3AAWG's parked-domain set: nothing may send, nothing is received, spoofing is rejected and reported. */
function parkedDomainRecords(parked: ParkedDomainConfig, dmarc: DmarcIntent, mode: DmarcMode, ttl: number): DnsRecord[] {
  return [
    nullMxRecord(parked.name, ttl),
    nullSpfRecord(parked.name, ttl),
    dmarcRecord(parked.name, dmarc, mode, ttl),
    // A revoked key at every selector: any DKIM signature claiming this domain fails.
    { name: `*._domainkey.${parked.name}`, ttl, purpose: "dkim", type: "TXT", strings: splitTxtValue("v=DKIM1; p=") },
  ];
}

/**
 * Report-authorization records live in the destination's zone. When that zone
 * is in this stack we publish them there; otherwise its owner must, or
 * receivers drop the reports (RFC 7489 §7.1), so we say so.
 */
function placeReportAuthorizations(
  domains: DomainRecords[],
  authorizations: { record: DnsRecord; path: string }[],
  warnings: string[],
): void {
  const byApex = [...domains].sort((a, b) => b.domain.length - a.domain.length);
  for (const { record, path } of authorizations) {
    const zone = byApex.find((d) => record.name === d.domain || record.name.endsWith(`.${d.domain}`));
    if (!zone) {
      warnings.push(
        `${path}: reports go outside this stack; ask the owner of ${record.name.split("._report._dmarc.")[1]} to publish TXT ${record.name} "v=DMARC1", or receivers will not send them`,
      );
      continue;
    }
    const identity = `${record.name} ${rdataText(record)}`;
    if (!zone.records.some((r) => `${r.name} ${rdataText(r)}` === identity)) zone.records.push(record);
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
