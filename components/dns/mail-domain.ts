import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { hostname } from "../config/fields";
import { parseOrThrow, ValidationError } from "../validation";
import { isDeferred, type DnsBackend, type DnsRecordInput, type PreparedRecords, type RecordWaits } from "./backend";
import type { DnsRecord } from "./model";
import { isDnsName, publishingProblems, recordProblems, recordSetProblems } from "./record-rules";

/** The arguments of a MailDomain: one zone, its records and the provider that publishes them. */
export interface MailDomainArgs {
  /**
   * The zone apex, e.g. `example.com`. A plain string, not an Input: it names
   * the child resources, which must be known when the program runs.
   */
  domain: string;
  /**
   * The records to publish, all inside `domain` (see ./model.ts). A plain
   * list so the number of resources is known at plan time; A/AAAA addresses
   * may be `pulumi.Input`s (an Elastic IP known only after deploy).
   */
  records: DnsRecordInput[];
  /** Where the records live: `new CloudflareBackend({...})` or `new Route53Backend({...})`. */
  backend: DnsBackend;
  /**
   * The MTA-STS policy file served for this domain, when it publishes
   * `_mta-sts`. Recorded in state (it is public) so policy packs can check
   * that the record's `id` and the policy agree and that `mx:` covers the MX hosts.
   */
  mtaStsPolicy?: string;
  /**
   * Resources that must be in place before the records at a name change, by
   * that name: MailStack puts the `_mta-sts.<domain>` TXT record after the
   * host serves the policy its id names (RFC 8461 §3.3: the file first).
   */
  waitFor?: RecordWaits;
}

export { MAIL_DOMAIN_TYPE } from "../type-tokens";
import { MAIL_DOMAIN_TYPE } from "../type-tokens";

/**
 * One domain's email-authentication records on one DNS provider. Creates one
 * provider resource per record set (per value on Cloudflare), named
 * `<name>-<label>-<type>`, and exposes what it published as `records`.
 */
export class MailDomain extends pulumi.ComponentResource {
  /** The zone apex. */
  readonly domain: string;
  /** The records this component publishes, addresses resolved. */
  readonly records: pulumi.Output<DnsRecord[]>;
  /** The provider resources, in the order they were created. */
  readonly dnsRecords: pulumi.CustomResource[];

  constructor(name: string, args: MailDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate and encode before super() so a bad argument registers nothing at all
    // (unless MailStack already did, for the whole stack at once).
    const checked = vouched.has(args)
      ? { domain: args.domain, prepared: vouched.get(args) ?? prepareOrThrow(name, args.backend, args.records, args.domain) }
      : checkMailDomainArgs(name, args);
    // Public facts, recorded in state and registered as outputs (what stack policies see of a component).
    // Not the records: the provider records below hold them in state already, and copying each zone's
    // records into its component's outputs cost a tenth of a large plan (Pulumi serialises them twice).
    const facts = { domain: checked.domain, provider: args.backend.provider, ...(args.mtaStsPolicy !== undefined ? { mtaStsPolicy: args.mtaStsPolicy } : {}) };
    super(MAIL_DOMAIN_TYPE, name, facts, opts);
    this.domain = checked.domain;
    this.dnsRecords = checked.prepared.create(this, args.waitFor);
    this.records = pulumi.output(args.records) as pulumi.Output<DnsRecord[]>;
    this.registerOutputs(facts);
  }
}

const argsShape = z.object({
  domain: hostname,
  // Each record is judged by the record rules below (one rule set, not a second schema).
  records: z.array(z.object({ name: z.string(), type: z.enum(["A", "AAAA", "CNAME", "MX", "TXT", "CAA"], { error: "must be one of A, AAAA, CNAME, MX, TXT, CAA" }) }).loose()),
  mtaStsPolicy: z.string({ error: "must be the MTA-STS policy text (mtaStsPolicyText)" }).optional(),
  backend: z.custom<DnsBackend>((v) => typeof (v as DnsBackend)?.prepare === "function", {
    error: "must be a DnsBackend such as new CloudflareBackend({ zoneId }) or new Route53Backend({ hostedZoneId })",
  }),
});

/**
 * Validate a MailDomain's arguments and encode its records, creating nothing:
 * what the constructor does before it registers. Call it for every zone first
 * to refuse a whole stack before any zone is created.
 */
export function checkMailDomainArgs(name: string, args: MailDomainArgs): { domain: string; prepared: PreparedRecords } {
  const subject = `MailDomain "${name}"`;
  const { domain } = parseOrThrow(argsShape, args, subject);
  const problems: string[] = [];
  const plain: DnsRecord[] = [];
  args.records.forEach((record, i) => {
    if (record.name !== domain && !record.name.endsWith(`.${domain}`)) {
      problems.push(`records[${i}].name = "${record.name}": is outside the zone ${domain}; publish it through that zone's MailDomain`);
    }
    // A value known only after deploy is split and checked by its producer (see splitTxtValue); its name is ours to check.
    if (isDeferred(record)) {
      if (!isDnsName(record.name)) problems.push(`records[${i}].name = "${record.name}": is not a valid DNS name`);
      return;
    }
    const concrete = record as DnsRecord;
    for (const p of [...recordProblems(concrete), ...publishingProblems(concrete)]) problems.push(`records[${i}]: ${p}`);
    plain.push(concrete);
  });
  for (const p of recordSetProblems(plain)) problems.push(p.message);
  if (problems.length > 0) throw new ValidationError(subject, problems);
  return { domain, prepared: prepareOrThrow(name, args.backend, args.records, domain) };
}

/**
 * Arguments MailStack validated with the whole stack's config (the same
 * record rules, over every zone at once) before creating anything, with
 * their encoding when it could make it then: MailDomain does neither again.
 * Module-private; MailStack reaches it through vouchForMailDomainArgs.
 */
const vouched = new WeakMap<MailDomainArgs, PreparedRecords | undefined>();

/**
 * For MailStack (not exported by the package): mark `args` as validated,
 * and encoded as `prepared` when given, so the MailDomain built from them
 * takes them as they are. Each record is then checked and encoded once.
 */
export function vouchForMailDomainArgs(args: MailDomainArgs, prepared?: PreparedRecords): MailDomainArgs {
  vouched.set(args, prepared);
  return args;
}

/** Encode records for their provider and name their resources, creating nothing; a problem is a ValidationError. */
export function prepareOrThrow(name: string, backend: DnsBackend, records: DnsRecordInput[], apex: string = name): PreparedRecords {
  try {
    return backend.prepare({ baseName: name, apex, records });
  } catch (error) {
    throw new ValidationError(`MailDomain "${name}"`, [(error as Error).message]);
  }
}
