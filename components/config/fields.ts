import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";

/** Reusable field schemas; every message says what is allowed. */

const LDH_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cases and drops a trailing dot before checking, so `Mail.Example.com.` is accepted. */
export const hostname = z.preprocess(
  (v) => (typeof v === "string" ? v.trim().toLowerCase().replace(/\.$/, "") : v),
  z.string({ error: "must be a host name such as mail.example.com" }).regex(LDH_NAME, {
    error: "must be a host name of letters, digits and hyphens in dot-separated labels, such as mail.example.com",
  }),
);

export const ttl = z
  .number({ error: "must be a number of seconds" })
  .int({ error: "must be a whole number of seconds" })
  .min(60, { error: "must be at least 60 seconds (Cloudflare's and most providers' minimum)" })
  .max(86400, { error: "must be at most 86400 seconds (one day)" });

export const ipv4 = z.string().refine((v) => isIPv4(v), { error: "must be an IPv4 address such as 203.0.113.10" });
export const ipv6 = z.string().refine((v) => isIPv6(v), { error: "must be an IPv6 address such as 2001:db8::10" });

export const ipv4Range = z.string().refine((v) => isCidr(v, 4), {
  error: "must be an IPv4 address or CIDR range such as 203.0.113.0/24",
});
export const ipv6Range = z.string().refine((v) => isCidr(v, 6), {
  error: "must be an IPv6 address or CIDR range such as 2001:db8::/32",
});

function isCidr(value: string, family: 4 | 6): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0) return false;
  if (!(family === 4 ? isIPv4(address) : isIPv6(address))) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

export const httpsUrl = z.string().refine((v) => /^https:\/\/[^\s/]+\/\S*$/.test(v), {
  error: "must be an https:// URL such as https://example.com/logo.svg",
});

export const cloudflareZoneId = z.string().regex(/^[0-9a-f]{32}$/, {
  error: "must be a Cloudflare zone id: 32 lower-case hex characters (Dashboard → Overview → Zone ID)",
});

export const route53HostedZoneId = z.string().regex(/^Z[0-9A-Z]{1,32}$/, {
  error: "must be a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ",
});

/** A domain name that may hold service labels (`_spf.google.com`); lower-cased, trailing dot dropped. */
export const domainName = z.preprocess(
  (v) => (typeof v === "string" ? v.trim().toLowerCase().replace(/\.$/, "") : v),
  z.string({ error: "must be a domain name such as _spf.example.com" }).regex(
    /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    { error: "must be a domain name of letters, digits, '-' and '_' in dot-separated labels, such as _spf.example.com" },
  ),
);
