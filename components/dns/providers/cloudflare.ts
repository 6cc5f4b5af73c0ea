import * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import { groupRecordSets, type DnsBackend, type PrepareArgs, type PreparedRecords } from "../backend";
import { recordValueResourceName } from "../naming";
import { encodeCloudflareRecord } from "./cloudflare-encoding";

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
        name: recordValueResourceName(baseName, apex, record, set.length),
        inputs: encodeCloudflareRecord(record),
      })),
    );
    return {
      names: planned.map((p) => p.name),
      create: (parent) => {
        const opts = { parent, provider: this.args.provider };
        return planned.map(({ name, inputs }) => new cloudflare.DnsRecord(name, { zoneId: this.args.zoneId, ...inputs }, opts));
      },
    };
  }
}
