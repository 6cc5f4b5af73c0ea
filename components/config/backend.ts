import type { DnsBackend } from "../dns/backend";
import { CloudflareBackend } from "../dns/providers/cloudflare";
import { Route53Backend } from "../dns/providers/route53";
import type { DnsBackendConfig } from "./schema";

/** The DnsBackend a domain's `dns:` config names. */
export function dnsBackendFromConfig(config: DnsBackendConfig): DnsBackend {
  switch (config.provider) {
    case "cloudflare":
      return new CloudflareBackend({ zoneId: config.zoneId });
    case "route53":
      return new Route53Backend({ hostedZoneId: config.hostedZoneId });
  }
}
