import type * as pulumi from "@pulumi/pulumi";
import { mapInput, type DnsRecordInput } from "../backend";
import { canonicalName, type DnsRecord, type RecordType } from "../model";
import { parsedOnce } from "../txt";

/**
 * How canonical records are written as one Route53 `Record` per name and type
 * (a record set) and read back. The AWS provider wraps each value in quotes
 * itself; a TXT value of several character-strings is written `a""b`, and `"`
 * and `\` inside a string are backslash-escaped.
 */
/** The inputs of one Route53 `Record`: a name and type, their one TTL, and every value in presentation form. */
export interface Route53RecordSetInputs {
  name: string;
  type: RecordType;
  ttl: number;
  records: pulumi.Input<string>[];
}

/**
 * The inputs of the one Route53 Record that holds `records`, which must share
 * a name, a type and a TTL (Route53 keeps one TTL per record set); throws otherwise.
 */
export function encodeRoute53RecordSet(records: DnsRecordInput[]): Route53RecordSetInputs {
  const [first] = records;
  if (!first) throw new Error("a Route53 record set needs at least one record");
  for (const record of records) {
    if (record.name !== first.name || record.type !== first.type) {
      throw new Error(`record set ${first.name} ${first.type} cannot hold ${record.name} ${record.type}`);
    }
    if (record.ttl !== first.ttl) {
      throw new Error(
        `records at ${first.name} ${first.type} have TTLs ${first.ttl} and ${record.ttl}; Route53 keeps one TTL per record set, so give them the same ttl`,
      );
    }
  }
  return { name: first.name, type: first.type, ttl: first.ttl, records: records.map(route53Value) };
}

function route53Value(record: DnsRecordInput): pulumi.Input<string> {
  switch (record.type) {
    case "TXT":
      return mapInput(record.strings, (strings) => strings.map(escapeRoute53String).join('""'));
    case "MX":
      return `${record.priority} ${fqdn(record.exchange)}`;
    case "A":
    case "AAAA":
      return record.address;
    case "CNAME":
      return fqdn(record.target);
    case "CAA":
      return `${record.flags} ${record.tag} "${escapeRoute53String(record.value)}"`;
  }
}

function escapeRoute53String(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

function fqdn(name: string): string {
  return name === "." || name.endsWith(".") ? name : `${name}.`;
}

/** The inputs of a Route53 Record (ours or hand-made) as canonical records. Alias records have no values and decode to none. */
export function decodeRoute53RecordSet(inputs: Record<string, unknown>): DnsRecord[] {
  const name = canonicalName(String(inputs.name));
  const ttl = Number(inputs.ttl ?? 300);
  const type = String(inputs.type).toUpperCase();
  const values = Array.isArray(inputs.records) ? inputs.records.map(String) : [];
  return values.map((value): DnsRecord => {
    switch (type) {
      case "TXT":
        return { name, ttl, purpose: "other", type: "TXT", strings: unescapeRoute53Strings(value) };
      case "MX": {
        const [priority, exchange] = value.trim().split(/\s+/);
        return { name, ttl, purpose: "other", type: "MX", priority: Number(priority), exchange: canonicalName(exchange) };
      }
      case "A":
      case "AAAA":
        return { name, ttl, purpose: "other", type, address: value };
      case "CNAME":
        return { name, ttl, purpose: "other", type: "CNAME", target: canonicalName(value) };
      case "CAA": {
        const match = /^(\d+)\s+(\S+)\s+"(.*)"$/s.exec(value);
        if (!match) throw new Error(`malformed Route53 CAA value at ${name}: ${value}`);
        return { name, ttl, purpose: "other", type: "CAA", flags: Number(match[1]), tag: match[2] as "issue", value: match[3].replace(/\\([\s\S])/g, "$1") };
      }
      default:
        throw new Error(`Route53 record type ${type} at ${name} is not modelled by Postforge`);
    }
  });
}

/** `a""b` → ["a", "b"], honouring backslash escapes (so an escaped quote is not a boundary); each value parsed once (parsedOnce). */
export const unescapeRoute53Strings: (value: string) => string[] = parsedOnce((value: string): string[] => {
  const strings: string[] = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) {
      current += value[++i];
    } else if (c === '"' && value[i + 1] === '"') {
      strings.push(current);
      current = "";
      i++;
    } else {
      current += c;
    }
  }
  strings.push(current);
  return strings;
});
