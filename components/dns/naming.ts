import type * as pulumi from "@pulumi/pulumi";
import type { RecordWaits } from "./backend";
import { createHash } from "node:crypto";
import { isDeferred, type DnsRecordInput } from "./backend";
import { rdataText, relativeName, type DnsRecord, type RecordType } from "./model";

/**
 * Logical names of the provider resources. They are part of each resource's
 * URN, so they must not move when a value changes: a renamed record is a
 * delete plus a create, and for SPF or DMARC that briefly publishes two
 * records (a permerror). Names therefore come from owner name and type; only
 * where a provider needs one resource per value (Cloudflare) does the value's
 * identity join the name, and then the identity that is stable for that type
 * (an MX exchange, a CAA tag and value).
 */

/**
 * The owner name relative to the zone, "@" for the apex. "@" cannot be a DNS
 * label, so no host (not even one called "apex") can take the apex's name.
 */
function label(apex: string, name: string): string {
  return relativeName(name, apex);
}

/** One name per record set: `<base>-<relative name>-<type>`, e.g. `example.com-_dmarc-txt`. */
export function recordSetResourceName(base: string, apex: string, name: string, type: RecordType): string {
  return `${base}-${label(apex, name)}-${type.toLowerCase()}`;
}

/**
 * One name per record value, for providers without record sets. A TXT name
 * never depends on how many values share its owner name or on the value: one
 * record per purpose at a name (the record rules enforce it), so changing an
 * SPF value updates it in place. MX values are named by exchange, CAA by tag
 * and value; A/AAAA by address only when several share a name.
 */
export function recordValueResourceName(base: string, apex: string, record: DnsRecordInput, setSize: number): string {
  const setName = recordSetResourceName(base, apex, record.name, record.type);
  switch (record.type) {
    case "MX":
      return `${setName}-${record.exchange === "." ? "null" : record.exchange}`;
    case "CAA":
      return `${setName}-${record.tag}-${shortHash(record.value)}`;
    case "TXT":
      return record.purpose === "other" && !isDeferred(record) ? `${setName}-${shortHash(rdataText(record as DnsRecord))}` : setName;
    default:
      if (setSize === 1) return setName;
      if (isDeferred(record)) {
        throw new Error(
          `${record.name} has ${setSize} ${record.type} records and one value is only known after deploy; ` +
            "give each such record its own name so resource names stay stable",
        );
      }
      return `${setName}-${shortHash(rdataText(record as DnsRecord))}`;
  }
}

/** Refuse two resources with one name: the engine would reject the second URN after the first was created. */
export function assertUniqueNames(names: string[], where: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`${where}: two records would both be named "${name}"; remove the duplicate record`);
    seen.add(name);
  }
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** A record resource's options: `opts`, waiting for what `waitFor` lists at the record's owner name. */
export function waitOptions<T extends pulumi.CustomResourceOptions>(opts: T, owner: string, waitFor?: RecordWaits): T {
  const before = waitFor?.[owner];
  return before && before.length > 0 ? { ...opts, dependsOn: [...before] } : opts;
}
