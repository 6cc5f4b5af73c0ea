// The floor's Pulumi program: one provider resource per record in $BENCH_FLOOR_RECORDS
// (type, name, inputs, as Postforge's plan captured them), through the provider SDK's own class.
"use strict";
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");

const classes = {
  "cloudflare:index/dnsRecord:DnsRecord": () => require("@pulumi/cloudflare").DnsRecord,
  "aws:route53/record:Record": () => require("@pulumi/aws/route53").Record,
};
for (const { type, name, inputs } of JSON.parse(fs.readFileSync(process.env.BENCH_FLOOR_RECORDS, "utf8"))) {
  const Class = classes[type]?.();
  if (Class) new Class(name, inputs);
  else new pulumi.CustomResource(type, name, inputs);
}
