import type * as pulumi from "@pulumi/pulumi";
import { mapInput, type DnsRecordInput } from "../backend";
import { canonicalName, quoteCharacterString, type DnsRecord } from "../model";
import { parseCharacterStrings, parsedOnce, splitTxtValue } from "../txt";

/**
 * How a canonical record is written as a Cloudflare v6 `DnsRecord` and read
 * back. Cloudflare has no record sets: every value is its own record.
 * TXT content is sent as explicitly quoted character-strings, so the split
 * we chose is the split Cloudflare serves (unquoted content would be re-split
 * by Cloudflare at its own boundaries).
 */
/** The inputs of one Cloudflare `DnsRecord`: `content` for most types, `data` for CAA, `priority` for MX. */
export interface CloudflareRecordInputs {
  name: string;
  type: string;
  ttl: number;
  content?: pulumi.Input<string>;
  priority?: number;
  data?: { flags: number; tag: string; value: string };
}

/** The inputs of the Cloudflare DnsRecord that publishes `record`; a TXT value stays an Output if it is one. */
export function encodeCloudflareRecord(record: DnsRecordInput): CloudflareRecordInputs {
  const base = { name: record.name, type: record.type, ttl: record.ttl };
  switch (record.type) {
    case "TXT":
      return { ...base, content: mapInput(record.strings, (strings) => strings.map(quoteCharacterString).join(" ")) };
    case "MX":
      return { ...base, content: record.exchange, priority: record.priority };
    case "A":
    case "AAAA":
      return { ...base, content: record.address };
    case "CNAME":
      return { ...base, content: record.target };
    case "CAA":
      return { ...base, data: { flags: record.flags, tag: record.tag, value: record.value } };
  }
}

/** The character-strings Cloudflare serves for a TXT record's content: quoted strings as given, unquoted content split at 255 octets. */
export const cloudflareTxtStrings: (content: string) => string[] = parsedOnce((content) => {
  const strings = parseCharacterStrings(content);
  return strings.length === 1 && !content.trim().startsWith('"') ? splitTxtValue(strings[0]) : strings;
});

/** The inputs of a Cloudflare DnsRecord (ours or hand-made) as a canonical record. */
export function decodeCloudflareRecord(inputs: Record<string, unknown>): DnsRecord {
  const name = canonicalName(String(inputs.name));
  const ttl = Number(inputs.ttl ?? 1);
  const type = String(inputs.type).toUpperCase();
  const content = String(inputs.content ?? "");
  switch (type) {
    case "TXT":
      return { name, ttl, purpose: "other", type: "TXT", strings: cloudflareTxtStrings(content) };
    case "MX":
      return { name, ttl, purpose: "other", type: "MX", priority: Number(inputs.priority ?? 0), exchange: canonicalName(content) };
    case "A":
    case "AAAA":
      return { name, ttl, purpose: "other", type, address: content };
    case "CNAME":
      return { name, ttl, purpose: "other", type: "CNAME", target: canonicalName(content) };
    case "CAA": {
      const data = (inputs.data ?? {}) as { flags?: number; tag?: string; value?: string };
      return { name, ttl, purpose: "other", type: "CAA", flags: Number(data.flags ?? 0), tag: data.tag as "issue", value: String(data.value ?? "") };
    }
    default:
      throw new Error(`Cloudflare record type ${type} at ${name} is not modelled by Postforge`);
  }
}
