/**
 * MX records, including the null MX of RFC 7505 for domains that receive no
 * mail. Paths in findings are relative to the hosts array ("[1].priority").
 */
import { isIP } from "node:net";
import { MxRecord, canonicalName } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { finding, isDomainName, ownerName, recordTtl } from "./common";

/** One mail exchanger a domain's MX records name, with its preference. */
export interface MxHost {
  /** Mail exchanger host name, e.g. "inbound-smtp.eu-west-1.amazonaws.com". */
  host: string;
  /** Preference: lower is tried first (0-65535). */
  priority: number;
}

/** Every finding for a list of MX hosts. */
export function mxHostFindings(hosts: MxHost[]): Finding[] {
  if (hosts.length === 0) {
    return [finding("mx.hosts.empty", "error", `MX host list is empty; list at least one host, or publish a null MX for a domain that receives no mail`)];
  }
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  hosts.forEach(({ host, priority }, i) => {
    if (!Number.isInteger(priority) || priority < 0 || priority > 65535) {
      findings.push(finding("mx.priority.invalid", "error", `MX [${i}].priority ${priority} is invalid; use a whole number from 0 to 65535, e.g. 10`, `[${i}].priority`));
    }
    const name = canonicalName(host);
    if (name === "." || name === "") {
      findings.push(finding("mx.host.null", "error", `MX [${i}].host "${host}" is the null MX; use nullMx for a domain that receives no mail instead of mixing it with hosts`, `[${i}].host`));
    } else if (isIP(name)) {
      findings.push(finding("mx.host.ip", "error", `MX [${i}].host "${host}" is an IP address; an MX must name a host (RFC 5321 §5.1). Use the host's name`, `[${i}].host`));
    } else if (!isDomainName(name)) {
      findings.push(finding("mx.host.invalid", "error", `MX [${i}].host "${host}" is not a host name; use a fully qualified name such as "mx1.example.com"`, `[${i}].host`));
    }
    const first = seen.get(name);
    if (first !== undefined) {
      findings.push(finding("mx.host.duplicate", "error", `MX [${i}].host "${host}" repeats [${first}].host; list each host once`, `[${i}].host`));
    } else {
      seen.set(name, i);
    }
  });
  return findings;
}

/** MX records for the domain, in the order given. */
export function mxRecords(domain: string, hosts: MxHost[], ttl: number): MxRecord[] {
  const name = ownerName(domain, "MX records");
  throwOnErrors(mxHostFindings(hosts));
  return hosts.map(({ host, priority }) => ({
    name,
    type: "MX",
    ttl: recordTtl(ttl),
    purpose: "mx",
    priority,
    exchange: canonicalName(host),
  }));
}

/** RFC 7505 null MX: the domain accepts no mail, so senders fail fast instead of retrying. */
export function nullMxRecord(domain: string, ttl: number): MxRecord {
  return { name: ownerName(domain, "null MX record"), type: "MX", ttl: recordTtl(ttl), purpose: "null-mx", priority: 0, exchange: "." };
}

/** Judge the MX records published at each name. */
export function checkMxSet(records: MxRecord[]): Finding[] {
  const findings: Finding[] = [];
  const byName = new Map<string, MxRecord[]>();
  for (const r of records) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  for (const [name, set] of byName) {
    const nulls = set.filter((r) => r.exchange === "." || r.exchange === "");
    if (nulls.length > 0 && set.length > nulls.length) {
      findings.push(
        finding("mx.null.mixed", "error", `MX at "${name}" mixes a null MX (".") with mail hosts; RFC 7505 §3 forbids it. Remove the null MX to receive mail, or the other MX records to refuse it`),
      );
    }
    for (const r of nulls) {
      if (r.priority !== 0) {
        findings.push(finding("mx.null.priority", "warning", `Null MX at "${name}" has preference ${r.priority}; RFC 7505 specifies "0 ."`));
      }
    }
    const seen = new Set<string>();
    for (const r of set) {
      if (r.exchange !== "." && isIP(r.exchange)) {
        findings.push(finding("mx.host.ip", "error", `MX at "${name}" points at the IP address ${r.exchange}; an MX must name a host. Publish an A record and point the MX at its name`));
      }
      const key = canonicalName(r.exchange);
      if (seen.has(key)) findings.push(finding("mx.host.duplicate", "warning", `MX at "${name}" lists "${r.exchange}" more than once; keep one`));
      seen.add(key);
    }
  }
  return findings;
}
