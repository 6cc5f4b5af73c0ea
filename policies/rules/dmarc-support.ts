/**
 * What the DMARC and BIMI rules share: the stack's DMARC records by domain,
 * the one record in force for a domain (its own, else its organizational
 * domain's), and its report addresses. A record that is unknown, duplicated
 * or does not parse yields nothing here: dmarc-one-record and dmarc-syntax
 * report those, so other rules skip them.
 */
import { canonicalName } from "../../components/dns/model";
import { checkDmarcUri, isDmarcValue, organizationalDomain, parseDmarc } from "../../components/dns/protocols";
import type { StackView, ViewRecord } from "../model/view";


const POLICIES = ["none", "quarantine", "reject"];

/** Domains with a DMARC record (known value) at `_dmarc.<domain>`. */
export function dmarcDomains(view: StackView): string[] {
  const out = new Set<string>();
  for (const r of view.records) {
    if (r.type === "TXT" && r.name.startsWith("_dmarc.") && r.value !== undefined && isDmarcValue(r.value)) out.add(r.name.slice("_dmarc.".length));
  }
  return [...out].sort();
}

export interface DmarcInForce {
  /** The domain whose `_dmarc` record it is. */
  domain: string;
  record: ViewRecord;
  /** Lower-cased tag name → value. */
  tags: Map<string, string>;
}

/**
 * The domain's own DMARC record when there is exactly one, it parses and its
 * p is valid; "skip" when the rules cannot judge (unknown at preview, several
 * records, invalid: other rules report those); undefined when there is none.
 */
export function ownDmarc(view: StackView, domain: string): DmarcInForce | "skip" | undefined {
  const name = `_dmarc.${canonicalName(domain)}`;
  if (view.hasUnknownTxt(name)) return "skip";
  const records = view.dmarcAt(domain);
  if (records.length === 0) return undefined;
  if (records.length > 1) return "skip";
  const parsed = parseDmarc(records[0].value!);
  if ("error" in parsed) return "skip";
  const tags = new Map(parsed.tags.map((t) => [t.key, t.value]));
  if (!POLICIES.includes((tags.get("p") ?? "").toLowerCase())) return "skip";
  if (tags.has("sp") && !POLICIES.includes(tags.get("sp")!.toLowerCase())) return "skip";
  return { domain: canonicalName(domain), record: records[0], tags };
}

/** The record receivers apply to a domain: its own, else its organizational domain's (whose sp then applies). */
export function dmarcInForce(view: StackView, domain: string): (DmarcInForce & { inherited: boolean }) | "skip" | undefined {
  const own = ownDmarc(view, domain);
  if (own !== undefined) return own === "skip" ? own : { ...own, inherited: false };
  const org = organizationalDomain(domain);
  if (org === canonicalName(domain)) return undefined;
  const parent = ownDmarc(view, org);
  if (parent === undefined || parent === "skip") return parent;
  return { ...parent, inherited: true };
}

export interface ReportAddress {
  tag: "rua" | "ruf";
  uri: string;
  address: string;
  /** The address's host, canonical. */
  host: string;
}

/** Valid mailto: report URIs of a record's rua and ruf (invalid ones are dmarc-syntax's). */
export function reportAddresses(tags: Map<string, string>): ReportAddress[] {
  const out: ReportAddress[] = [];
  for (const tag of ["rua", "ruf"] as const) {
    const value = tags.get(tag);
    if (value === undefined || value === "") continue;
    for (const raw of value.split(",")) {
      const uri = raw.trim();
      // rfc7489 rules accept a "!size" suffix; dmarc-syntax judges the record's own mode.
      if (checkDmarcUri(uri, "rfc7489", tag).some((f) => f.severity === "error")) continue;
      const m = /^mailto:([^!]*)/i.exec(uri)!;
      let address = m[1];
      try {
        address = decodeURIComponent(address);
      } catch {
        // checkDmarcUri accepted the raw text
      }
      out.push({ tag, uri, address, host: canonicalName(address.slice(address.lastIndexOf("@") + 1)) });
    }
  }
  return out;
}

/** The MailDomain that owns a domain (its own, else its zone's), to blame for something missing. */
export function mailDomainUrn(view: StackView, domain: string): string | undefined {
  const zone = view.zoneOf(domain);
  return (view.mailDomains.find((d) => d.domain === canonicalName(domain)) ?? view.mailDomains.find((d) => d.domain === zone))?.resource.urn;
}
