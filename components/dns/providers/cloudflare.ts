import * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import { groupRecordSets, type DeferredRecord, type DnsBackend, type PrepareArgs, type PreparedRecords } from "../backend";
import { waitOptions } from "../naming";
import { assertUniqueNames, recordValueResourceName } from "../naming";
import { encodeCloudflareRecord } from "./cloudflare-encoding";

/** The arguments of a CloudflareBackend: which zone, through which provider. */
export interface CloudflareBackendArgs {
  /** The Cloudflare zone id of the domain. */
  zoneId: pulumi.Input<string>;
  /** An explicit Cloudflare provider; default: the stack's default provider. */
  provider?: cloudflare.Provider;
}

/** Publishes records as Cloudflare v6 `DnsRecord`s, one per value. */
export class CloudflareBackend implements DnsBackend {
  readonly provider = "cloudflare" as const;
  constructor(private readonly args: CloudflareBackendArgs) {}

  prepare({ baseName, apex, records }: PrepareArgs): PreparedRecords {
    const planned = groupRecordSets(records).flatMap((set) =>
      set.map((record) => ({
        owner: record.name,
        name: recordValueResourceName(baseName, apex, record, set.length),
        inputs: encodeCloudflareRecord(record),
      })),
    );
    for (const record of records) {
      if (record.ttl !== 1 && (record.ttl < 60 || record.ttl > 86400)) {
        throw new Error(`${record.type} record "${record.name}": TTL ${record.ttl} is outside Cloudflare's range; use 1 (automatic) or 60..86400 seconds`);
      }
    }
    assertUniqueNames(planned.map((p) => p.name), `zone ${apex}`);
    return {
      names: planned.map((p) => p.name),
      create: (parent, waitFor) => {
        const opts = { parent, provider: this.args.provider };
        return planned.map(({ owner, name, inputs }) => new cloudflare.DnsRecord(name, { zoneId: this.args.zoneId, ...inputs }, waitOptions(opts, owner, waitFor)));
      },
    };
  }

  publishDeferred(logicalName: string, record: DeferredRecord, opts: pulumi.CustomResourceOptions): cloudflare.DnsRecord {
    // Not proxied: ACM and senders must see the record itself, not Cloudflare's edge.
    return new cloudflare.DnsRecord(logicalName, { zoneId: this.args.zoneId, name: record.name, type: record.type, ttl: record.ttl, content: record.value, proxied: false }, { ...opts, provider: this.args.provider });
  }
}
