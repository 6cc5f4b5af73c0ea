import { isIPv4, isIPv6 } from "node:net";
import { rdataText, txtValue, type DnsRecord, type MxRecord } from "./model";
import { checkDmarcRecordSet } from "./protocols/dmarc";
import { checkMtaStsRecordSet } from "./protocols/mta-sts";
import { checkMxSet } from "./protocols/mx";
import { checkSpfRecordSet } from "./protocols/spf";
import { MAX_CHARACTER_STRING_OCTETS, octets } from "./txt";

/**
 * Rules on records themselves, shared by every place that accepts them: the
 * config layer (before anything is created), MailDomain (for records other
 * teams build), and the zone renderer. Record values first, then rules across
 * the records of one name: one SPF, one DMARC, one key per DKIM selector,
 * CNAME alone, one TTL per set.
 */

/** RFC 2181 §8: TTLs are 31-bit. */
export const MAX_TTL = 2147483647;

/**
 * Owner and target names as they may appear in DNS data: LDH labels plus `_`
 * (service labels such as `_dmarc`) and a leading `*` wildcard label; IDNs
 * must already be A-labels (punycode).
 */
export function isDnsName(name: string): boolean {
  const labels = name.split(".");
  return (
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((l, i) => l.length > 0 && l.length <= 63 && (/^[a-z0-9_-]+$/.test(l) || (l === "*" && i === 0)))
  );
}

const NAME_RULE = "lower-case letters, digits, '-', '_', a leading '*' label; labels 1..63 octets, at most 253 in all";

/** Problems with one record's name, TTL and data. */
export function recordProblems(record: DnsRecord): string[] {
  const where = `${record.type} record "${record.name}"`;
  const problems: string[] = [];
  if (!isDnsName(record.name)) problems.push(`${where}: the owner name is not a valid DNS name (${NAME_RULE})`);
  if (!Number.isInteger(record.ttl) || record.ttl < 0 || record.ttl > MAX_TTL) {
    problems.push(`${where}: TTL must be a whole number of seconds 0..${MAX_TTL}, got ${record.ttl}`);
  }
  switch (record.type) {
    case "TXT":
      if (record.strings.length === 0) problems.push(`${where}: has no character-strings; give at least one (possibly empty) string`);
      record.strings.forEach((s, i) => {
        if (octets(s) > MAX_CHARACTER_STRING_OCTETS) {
          problems.push(`${where}: string ${i} is ${octets(s)} octets; character-strings hold at most ${MAX_CHARACTER_STRING_OCTETS} (split the value with splitTxtValue)`);
        }
      });
      break;
    case "MX":
      if (!Number.isInteger(record.priority) || record.priority < 0 || record.priority > 65535) {
        problems.push(`${where}: priority must be a whole number 0..65535, got ${record.priority}`);
      }
      if (record.exchange !== "." && !isDnsName(record.exchange)) problems.push(`${where}: exchange "${record.exchange}" is not a valid host name (${NAME_RULE})`);
      break;
    case "A":
      if (!isIPv4(record.address)) problems.push(`${where}: address "${record.address}" is not an IPv4 address`);
      break;
    case "AAAA":
      if (!isIPv6(record.address)) problems.push(`${where}: address "${record.address}" is not an IPv6 address`);
      break;
    case "CNAME":
      if (!isDnsName(record.target)) problems.push(`${where}: target "${record.target}" is not a valid DNS name (${NAME_RULE})`);
      break;
    case "CAA":
      if (!Number.isInteger(record.flags) || record.flags < 0 || record.flags > 255) problems.push(`${where}: flags must be a whole number 0..255, got ${record.flags}`);
      if (!["issue", "issuewild", "iodef"].includes(record.tag)) problems.push(`${where}: tag "${record.tag}" is not one of issue, issuewild, iodef`);
      break;
  }
  return problems;
}

/**
 * Problems publishing a valid record through a provider API: Cloudflare and
 * Route53 escape non-ASCII TXT differently (decimal escapes vs raw UTF-8), so
 * such a value would not read back the same.
 */
export function publishingProblems(record: DnsRecord): string[] {
  if (record.type === "TXT" && /[^\x20-\x7e]/.test(txtValue(record))) {
    return [`TXT record "${record.name}": the value holds characters outside printable ASCII; percent-encode URLs and use ASCII text`];
  }
  return [];
}

/** A problem found across several records; `records` lets callers say where each came from. */
export interface RecordSetProblem {
  message: string;
  records: DnsRecord[];
}

/** Problems across records that share a name: duplicates, conflicting TTLs, and one-per-name protocol records. */
export function recordSetProblems(records: DnsRecord[]): RecordSetProblem[] {
  const problems: RecordSetProblem[] = [];
  const byName = new Map<string, DnsRecord[]>();
  for (const r of records) {
    const list = byName.get(r.name);
    if (list) list.push(r);
    else byName.set(r.name, [r]);
  }
  for (const [name, atName] of byName) {
    if (atName.length === 1) continue;
    const byType = new Map<string, DnsRecord[]>();
    for (const r of atName) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);

    const cname = byType.get("CNAME");
    if (cname && atName.length > 1) {
      problems.push({ message: `"${name}" has a CNAME and other records; a CNAME must stand alone (RFC 1034 §3.6.2)`, records: atName });
    }
    for (const [type, set] of byType) {
      const seen = new Map<string, DnsRecord>();
      for (const r of set) {
        const key = rdataText(r);
        if (seen.has(key)) problems.push({ message: `${type} record "${name}" ${key} is listed twice; remove one`, records: [seen.get(key)!, r] });
        seen.set(key, r);
      }
      const ttls = [...new Set(set.map((r) => r.ttl))];
      if (ttls.length > 1) {
        problems.push({ message: `${type} records at "${name}" have TTLs ${ttls.join(" and ")}; one name and type share one TTL (RFC 2181 §5.2)`, records: set });
      }
    }
    const txt = (byType.get("TXT") ?? []).filter((r) => r.type === "TXT");
    const values = txt.map((r) => txtValue(r as DnsRecord & { type: "TXT" }));
    const setFindings = [
      ...checkSpfRecordSet(values),
      ...(name.startsWith("_dmarc.") ? checkDmarcRecordSet(values) : []),
      ...(name.startsWith("_mta-sts.") ? checkMtaStsRecordSet(values) : []),
    ].filter((f) => f.severity === "error");
    for (const f of setFindings) problems.push({ message: `"${name}": ${f.message}`, records: txt });
    if (name.includes("._domainkey.") && txt.length > 1) {
      problems.push({ message: `"${name}" would hold ${txt.length} DKIM key records; receivers pick one and fail signatures made with the others; give each key its own selector`, records: txt });
    }
    const mx = (byType.get("MX") ?? []) as MxRecord[];
    for (const f of checkMxSet(mx).filter((f) => f.severity === "error")) problems.push({ message: `"${name}": ${f.message}`, records: mx });
  }
  return problems;
}
