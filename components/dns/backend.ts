import type * as pulumi from "@pulumi/pulumi";
import type { DnsRecord } from "./model";

/** A DNS provider that can publish one zone's records. Encoding lives in ./providers; this only wires resources. */
export interface DnsBackend {
  /** Provider name, recorded on the MailDomain so reports can say where records live. */
  readonly provider: "cloudflare" | "route53";
  /**
   * Create one provider resource per record set (per value where the provider
   * has no sets), named from `baseName`, parented to `parent`. Everything is
   * encoded before the first resource is created, so a bad record fails the
   * whole domain rather than half of it.
   */
  publish(args: PublishArgs): pulumi.CustomResource[];
}

export interface PublishArgs {
  baseName: string;
  apex: string;
  records: DnsRecord<pulumi.Input<string>>[];
  parent: pulumi.Resource;
}

/** Group records by owner name and type, preserving first-seen order. */
export function groupRecordSets<R extends { name: string; type: string }>(records: R[]): R[][] {
  const sets = new Map<string, R[]>();
  for (const record of records) {
    const key = `${record.name}\u0000${record.type}`;
    const set = sets.get(key);
    if (set) set.push(record);
    else sets.set(key, [record]);
  }
  return [...sets.values()];
}
