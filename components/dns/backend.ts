import * as pulumi from "@pulumi/pulumi";
import type { DnsRecord } from "./model";

/**
 * A record as MailDomain accepts it: names, types and TTLs plain (they decide
 * resources and their names), while an address or TXT strings may be outputs
 * of other resources (an Elastic IP, a DKIM key generated at deploy).
 */
export type DnsRecordInput = DnsRecord<pulumi.Input<string>, pulumi.Input<string[]>>;

/** Apply `f` now when the value is plain (no Output overhead), or once it resolves. */
export function mapInput<T, U>(value: pulumi.Input<T>, f: (v: T) => U): pulumi.Input<U> {
  if (pulumi.Output.isInstance(value)) return (value as pulumi.Output<T>).apply(f) as pulumi.Output<U>;
  if (value instanceof Promise) return pulumi.output(value).apply((v) => f(v as T)) as pulumi.Output<U>;
  return f(value as T);
}

/** Whether any value of the record is only known after deploy. */
export function isDeferred(record: DnsRecordInput): boolean {
  const value = record.type === "TXT" ? record.strings : record.type === "A" || record.type === "AAAA" ? record.address : undefined;
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

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
  /**
   * Register one record whose name or target is known only after deploy (an
   * ACM validation record, a CNAME to a CloudFront distribution), outside
   * any MailDomain: its name cannot name a resource, so the caller names it.
   */
  publishDeferred?(logicalName: string, record: DeferredRecord, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
}

/** A CNAME known only after deploy, for DnsBackend.publishDeferred. */
export interface DeferredRecord {
  /** The owner name, absolute, without the trailing dot. */
  name: pulumi.Input<string>;
  type: "CNAME";
  /** The target name. */
  value: pulumi.Input<string>;
  ttl: number;
  /** Route53: take over a record already at the name (ACM's validation records, shared by every certificate of a name). */
  allowOverwrite?: boolean;
}

/** What a backend is given to prepare one zone's records. */
export interface PrepareArgs {
  /** The MailDomain's name: the prefix of every provider resource's logical name. */
  baseName: string;
  /** The zone apex the records are in; resource names use each record's name relative to it. */
  apex: string;
  /** The zone's records, each inside `apex`; values may be outputs of other resources. */
  records: DnsRecordInput[];
}

/** A zone's records encoded for its provider and named, ready to be registered. */
export interface PreparedRecords {
  /** Logical names of the resources `create` will register, in order. */
  readonly names: string[];
  /**
   * Register the provider resources as children of `parent`; a record whose
   * owner name `waitFor` lists is registered after the resources it names.
   */
  create(parent: pulumi.Resource, waitFor?: RecordWaits): pulumi.CustomResource[];
}

/**
 * Resources that must exist (be created or updated) before the records at an
 * owner name change, by that name: the `_mta-sts` TXT record after the policy
 * file its id names is served (RFC 8461 §3.3).
 */
export type RecordWaits = Readonly<Record<string, readonly pulumi.Resource[]>>;

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
