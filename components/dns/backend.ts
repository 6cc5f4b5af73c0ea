import type * as pulumi from "@pulumi/pulumi";
import type { DnsRecord } from "./model";

/** A DNS provider that can publish one zone's records. Encoding lives in ./providers; this only wires resources. */
export interface DnsBackend {
  /** Provider name, recorded on the MailDomain so reports can say where records live. */
  readonly provider: "cloudflare" | "route53";
  /**
   * Encode every record into provider inputs and name each resource, without
   * creating anything: a bad record throws here, before the component
   * registers, so nothing is ever half-applied. One resource per record set,
   * or per value where the provider has no sets.
   */
  prepare(args: PrepareArgs): PreparedRecords;
}

export interface PrepareArgs {
  baseName: string;
  apex: string;
  records: DnsRecord<pulumi.Input<string>>[];
}

export interface PreparedRecords {
  /** Logical names of the resources `create` will register, in order. */
  readonly names: string[];
  /** Register the provider resources as children of `parent`. */
  create(parent: pulumi.Resource): pulumi.CustomResource[];
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
