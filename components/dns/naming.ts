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

/** "@" → "apex" so names read well; other labels stay as they are. */
function label(apex: string, name: string): string {
  const relative = relativeName(name, apex);
  return relative === "@" ? "apex" : relative;
}

/** One name per record set: `<base>-<relative name>-<type>`, e.g. `example.com-_dmarc-txt`. */
export function recordSetResourceName(base: string, apex: string, name: string, type: RecordType): string {
  return `${base}-${label(apex, name)}-${type.toLowerCase()}`;
}

/** One name per record value, for providers without record sets. */
export function recordValueResourceName(
  base: string,
  apex: string,
  record: DnsRecordInput,
  setSize: number,
): string {
  const setName = recordSetResourceName(base, apex, record.name, record.type);
  switch (record.type) {
    case "MX":
      return `${setName}-${record.exchange === "." ? "null" : record.exchange}`;
    case "CAA":
      return `${setName}-${record.tag}-${shortHash(record.value)}`;
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

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}
