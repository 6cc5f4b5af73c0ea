/**
 * Parked domains (M3AAWG "Protecting Parked Domains" BCP): a domain that
 * neither sends nor receives mail publishes records that say so, so spoofed
 * mail fails every check and is rejected, and the attempts are reported.
 */
import { DnsRecord } from "../model";
import { dmarcRecord, DmarcIntent, DmarcMode } from "./dmarc";
import { nullMxRecord } from "./mx";
import { nullSpfRecord } from "./spf";
import { ownerName, txtRecord } from "./common";

/** What a parked domain's record set needs beyond the fixed M3AAWG records: where DMARC reports go. */
export interface ParkedDomainIntent {
  /** Aggregate report destinations (`mailto:` URIs) for spoofing attempts; none when omitted. */
  rua?: string[];
}

/** The DMARC intent of a parked domain: reject everything, strict alignment. */
export function parkedDmarcIntent(intent: ParkedDomainIntent): DmarcIntent {
  return { p: "reject", sp: "reject", adkim: "s", aspf: "s", ...(intent.rua?.length ? { rua: intent.rua } : {}) };
}

/**
 * M3AAWG's parked-domain set, in this order: null MX (RFC 7505), `v=spf1 -all`,
 * DMARC `p=reject; sp=reject; adkim=s; aspf=s` (plus rua when given), and a
 * revoked DKIM key at `*._domainkey.<domain>` so a signature under any selector
 * fails. Throws RecordBuildError when the name, TTL or rua is invalid.
 */
export function parkedDomainRecords(domain: string, intent: ParkedDomainIntent, mode: DmarcMode, ttl: number): DnsRecord[] {
  const name = ownerName(domain, "parked domain");
  return [
    nullMxRecord(name, ttl),
    nullSpfRecord(name, ttl),
    dmarcRecord(name, parkedDmarcIntent(intent), mode, ttl),
    txtRecord(`*._domainkey.${name}`, "v=DKIM1; p=", ttl, "dkim"),
  ];
}
