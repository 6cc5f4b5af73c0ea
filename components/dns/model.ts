/**
 * The canonical DNS record model shared by every builder, provider encoder,
 * zone exporter, policy and verifier. Owner names are lower-case FQDNs without
 * the trailing dot; TXT values are kept unescaped, already split into
 * RFC 1035 character-strings (see ./txt.ts), so joining `strings` gives the
 * exact value back.
 */

/** The record types Postforge models: what email authentication and its hosts need. */
export type RecordType = "A" | "AAAA" | "CNAME" | "MX" | "TXT" | "CAA";

/** What a record is for; builders set it so logical names and reports stay meaningful. */
export type RecordPurpose =
  | "spf"
  | "helo-spf"
  | "dmarc"
  | "dmarc-report-auth"
  | "dkim"
  | "mx"
  | "null-mx"
  | "mta-sts"
  | "mta-sts-policy-host"
  | "tls-rpt"
  | "bimi"
  | "caa"
  | "host-address"
  | "other";

interface RecordBase {
  /** Owner name: lower-case FQDN without the trailing dot. */
  name: string;
  /** Time to live in seconds. */
  ttl: number;
  /** What the record is for (not published; used for names, plans and reports). */
  purpose: RecordPurpose;
}

/**
 * `Strings` is `string[]` for plain records; MailDomain also accepts a
 * `pulumi.Input<string[]>` so a DKIM record can carry a key that is only
 * generated during the deployment.
 */
export interface TxtRecord<Strings = string[]> extends RecordBase {
  type: "TXT";
  /** Unescaped character-strings, each at most 255 octets. */
  strings: Strings;
}

/** An MX record (RFC 5321 §5): where mail for the owner name is delivered, lowest priority first. */
export interface MxRecord extends RecordBase {
  type: "MX";
  /** Preference: lower values are tried first. */
  priority: number;
  /** Mail exchanger host name without trailing dot; "." (empty root) for null MX. */
  exchange: string;
}

/**
 * `Address` is `string` for plain records; MailDomain also accepts a
 * `pulumi.Input<string>` so a host's A record can carry an Elastic IP that is
 * only known after deploy.
 */
export interface AddressRecord<Address = string> extends RecordBase {
  type: "A" | "AAAA";
  address: Address;
}

/** A CNAME record: the owner name is an alias of `target` (it can hold no other record, RFC 1034 §3.6.2). */
export interface CnameRecord extends RecordBase {
  type: "CNAME";
  /** Canonical name without trailing dot. */
  target: string;
}

/** A CAA record (RFC 8659): which certificate authorities may issue for the owner name. */
export interface CaaRecord extends RecordBase {
  type: "CAA";
  /** Flags octet; 128 is the critical bit. */
  flags: number;
  /** The property: `issue`, `issuewild` or `iodef` (where CAs report violations). */
  tag: "issue" | "issuewild" | "iodef";
  /** The property value, e.g. a CA's domain such as `letsencrypt.org`. */
  value: string;
}

/**
 * Any record Postforge models, one of the types above. The type parameters
 * let MailDomain accept addresses and TXT strings known only after deploy.
 */
export type DnsRecord<Address = string, Strings = string[]> =
  | TxtRecord<Strings>
  | MxRecord
  | AddressRecord<Address>
  | CnameRecord
  | CaaRecord;

/** The full unescaped value of a TXT record. */
export function txtValue(record: TxtRecord): string {
  return record.strings.join("");
}

/** Lower-case, trailing dot removed: the one spelling of an owner name we store. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith(".") && lower !== "." ? lower.slice(0, -1) : lower;
}

/**
 * The longest of `zones` that is `name` or one of its parents, found by
 * walking up the name's labels (a lookup per label, not a scan of every zone:
 * planning and diffing call this once per record).
 */
export function enclosingZone<T>(name: string, zones: ReadonlyMap<string, T>): T | undefined {
  for (let suffix = name; ; ) {
    const zone = zones.get(suffix);
    if (zone !== undefined) return zone;
    const dot = suffix.indexOf(".");
    if (dot < 0) return undefined;
    suffix = suffix.slice(dot + 1);
  }
}

/** The owner name relative to a zone apex: "@" for the apex itself. */
export function relativeName(name: string, apex: string): string {
  if (name === apex) return "@";
  if (name.endsWith(`.${apex}`)) return name.slice(0, -(apex.length + 1));
  throw new Error(`record name "${name}" is outside the zone "${apex}"`);
}

/** A record's rdata as presentation text (zone-file style), used for sorting, display and diffs. */
export function rdataText(record: DnsRecord): string {
  switch (record.type) {
    case "TXT":
      return record.strings.map(quoteCharacterString).join(" ");
    case "MX":
      return `${record.priority} ${record.exchange === "." ? "." : `${record.exchange}.`}`;
    case "A":
    case "AAAA":
      return record.address;
    case "CNAME":
      return `${record.target}.`;
    case "CAA":
      return `${record.flags} ${record.tag} ${quoteCharacterString(record.value)}`;
  }
}

/** Printable ASCII but `"` and `\`: what needs no escaping in a character-string. */
const PLAIN_CHARACTER_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** RFC 1035 §5.1 quoting: backslash and double quote escaped, non-printable bytes as \DDD. */
export function quoteCharacterString(value: string): string {
  // Nearly every value is printable ASCII with nothing to escape: quoted as it is, without a byte walk.
  if (PLAIN_CHARACTER_STRING.test(value)) return `"${value}"`;
  let out = '"';
  for (const byte of Buffer.from(value, "utf8")) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString().padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

/** Records grouped by owner name and type: what Route53 calls a record set. */
export interface RecordSet {
  name: string;
  type: RecordType;
  records: DnsRecord[];
}

/** Code-unit order: unlike localeCompare, it does not depend on the ICU version or locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deterministic order: by name, then type, then rdata. */
export function compareRecords(a: DnsRecord, b: DnsRecord): number {
  return compareText(a.name, b.name) || compareText(a.type, b.type) || compareText(rdataText(a), rdataText(b));
}
