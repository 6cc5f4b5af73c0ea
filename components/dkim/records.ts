import type { TxtRecord } from "../dns/model";
import { splitTxtValue } from "../dns/txt";

/**
 * A managed key's record before the key exists: same name, type and TTL as the
 * real one, so the stack-wide record rules and resource naming can judge it
 * before deploy.
 */
export function dkimPlaceholderRecord(domain: string, selector: string, algorithm: string, ttl: number): TxtRecord {
  return dkimKeyRecord(domain, selector, `v=DKIM1; k=${algorithm}; p=`, ttl);
}

/** The record core's TXT record for a key's published value (see DkimKey.dnsValue). */
export function dkimKeyRecord(domain: string, selector: string, dnsValue: string, ttl: number): TxtRecord {
  return { name: `${selector}._domainkey.${domain}`, ttl, purpose: "dkim", type: "TXT", strings: splitTxtValue(dnsValue) };
}
