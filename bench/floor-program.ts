/**
 * The floor: a bare Pulumi program that registers plain Cloudflare DNS records
 * with precomputed inputs (read from BENCH_FLOOR_RECORDS), no components, no
 * validation, no record building. Postforge's plan is measured against it.
 */
import * as fs from "node:fs";
import * as cloudflare from "@pulumi/cloudflare";

const records = JSON.parse(fs.readFileSync(process.env.BENCH_FLOOR_RECORDS!, "utf8")) as { name: string; inputs: cloudflare.DnsRecordArgs }[];
for (const record of records) new cloudflare.DnsRecord(record.name, record.inputs);
