import type { TxtRecord } from "../dns/model";
import { splitTxtValue } from "../dns/txt";

/** The record core's TXT record for a key's published value (see DkimKey.dnsValue). */
export function dkimKeyRecord(domain: string, selector: string, dnsValue: string, ttl: number): TxtRecord {
  return { name: `${selector}._domainkey.${domain}`, ttl, purpose: "dkim", type: "TXT", strings: splitTxtValue(dnsValue) };
}
