import type * as aws from "@pulumi/aws";
import { Record as Route53Record } from "@pulumi/aws/route53";
import type * as pulumi from "@pulumi/pulumi";
import { groupRecordSets, type DeferredRecord, type DnsBackend, type PrepareArgs, type PreparedRecords } from "../backend";
import { waitOptions } from "../naming";
import { assertUniqueNames, recordSetResourceName } from "../naming";
import { encodeRoute53RecordSet } from "./route53-encoding";

/** The arguments of a Route53Backend: which hosted zone, through which provider. */
export interface Route53BackendArgs {
  /** The Route53 hosted zone id of the domain. */
  hostedZoneId: pulumi.Input<string>;
  /** An explicit AWS provider; default: the stack's default provider. */
  provider?: aws.Provider;
}

/** Publishes records as Route53 `Record`s, one per name and type holding all values. */
export class Route53Backend implements DnsBackend {
  readonly provider = "route53" as const;
  constructor(private readonly args: Route53BackendArgs) {}

  prepare({ baseName, apex, records }: PrepareArgs): PreparedRecords {
    const planned = groupRecordSets(records).map((set) => ({
      owner: set[0].name,
      name: recordSetResourceName(baseName, apex, set[0].name, set[0].type),
      inputs: encodeRoute53RecordSet(set),
    }));
    assertUniqueNames(planned.map((p) => p.name), `zone ${apex}`);
    return {
      names: planned.map((p) => p.name),
      create: (parent, waitFor) => {
        const opts = { parent, provider: this.args.provider };
        return planned.map(({ owner, name, inputs }) => new Route53Record(name, { zoneId: this.args.hostedZoneId, ...inputs }, waitOptions(opts, owner, waitFor)));
      },
    };
  }

  publishDeferred(logicalName: string, record: DeferredRecord, opts: pulumi.CustomResourceOptions): Route53Record {
    return new Route53Record(logicalName, { zoneId: this.args.hostedZoneId, name: record.name, type: record.type, ttl: record.ttl, records: [record.value], ...(record.allowOverwrite ? { allowOverwrite: true } : {}) }, { ...opts, provider: this.args.provider });
  }
}
