import type { DnsRecord, RecordPurpose } from "./model";

/**
 * What a record is for, judged from its name and value alone. Used for
 * records read back from providers or other stacks, which carry no purpose.
 */
export function inferPurpose(record: DnsRecord): RecordPurpose {
  const name = record.name;
  switch (record.type) {
    case "MX":
      return record.exchange === "." ? "null-mx" : "mx";
    case "A":
    case "AAAA":
      return "host-address";
    case "CAA":
      return "caa";
    case "CNAME":
      return name.startsWith("mta-sts.") ? "mta-sts-policy-host" : "other";
    case "TXT": {
      const value = record.strings.join("");
      if (name.includes("._report._dmarc.")) return "dmarc-report-auth";
      if (name.startsWith("_dmarc.")) return "dmarc";
      if (name.includes("._domainkey.")) return "dkim";
      if (name.startsWith("_mta-sts.")) return "mta-sts";
      if (name.startsWith("_smtp._tls.")) return "tls-rpt";
      if (name.includes("._bimi.")) return "bimi";
      if (/^v=spf1(\s|$)/i.test(value)) return value.trim().toLowerCase() === "v=spf1 a -all" ? "helo-spf" : "spf";
      return "other";
    }
  }
}
