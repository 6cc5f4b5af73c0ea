import { organizationalDomain } from "../../components/dns/protocols";
import { dmarcInForce, mailDomainUrn } from "./dmarc-support";
import type { Rule, Violation } from "./rule";
import { quote } from "./text";

/**
 * The bulk-sender requirements Gmail and Yahoo enforce since February 2024
 * and Outlook.com since May 2025, for more than about 5,000 messages a day to
 * their users. Advisory by default: a stack that sends less need not meet them.
 */

const BULK_SOURCE =
  "Gmail sender guidelines (support.google.com/mail/answer/81126), Yahoo sender best practices (2024), Outlook.com high-volume sender requirements (May 2025)";

export const bulkSpfAndDkim: Rule = {
  name: "bulk-spf-and-dkim",
  group: "Bulk senders",
  profile: "bulk-sender",
  description: "Every sending domain publishes both SPF and at least one live DKIM key of its own, as Gmail, Yahoo and Outlook.com require of bulk senders.",
  enforcementLevel: "advisory",
  severity: "high",
  source: BULK_SOURCE,
  check(view) {
    const violations: Violation[] = [];
    for (const domain of view.sendingDomains) {
      // A domain without SPF is already spf-one-record's violation (every profile): only DKIM is judged here, so one fault is reported once.
      if (!view.manages(domain) || view.liveDkimSelectors(domain).length > 0 || view.unreadable.length > 0) continue;
      const what = view.spfAt(domain).length > 0 ? "publishes SPF but no live DKIM key" : "publishes neither SPF nor a live DKIM key";
      violations.push({
        message: `${domain}: ${what} (no non-revoked TXT record at <selector>._domainkey.${domain}); bulk senders must pass both SPF and DKIM (Gmail, Yahoo, Outlook.com reject or junk their mail otherwise); publish a DKIM key for ${domain} (dkim.keys in its stack config, or the public key your ESP signs with) and sign its mail with it`,
        urn: mailDomainUrn(view, domain),
      });
    }
    return violations;
  },
};

export const bulkDmarcAlignment: Rule = {
  name: "bulk-dmarc-alignment",
  group: "Bulk senders",
  profile: "bulk-sender",
  description:
    "Every sending domain has a DMARC policy (p=none is enough), its own or its organizational domain's, and its mail can align: a live DKIM key at the domain (or at the organizational domain under relaxed adkim), or SPF at the domain.",
  enforcementLevel: "advisory",
  severity: "high",
  source: BULK_SOURCE,
  check(view) {
    const violations: Violation[] = [];
    for (const domain of view.sendingDomains) {
      const org = organizationalDomain(domain);
      if (!view.manages(domain) && !view.manages(org)) continue;
      const policy = dmarcInForce(view, domain);
      if (policy === "skip") continue; // unknown at preview, duplicated or invalid: the DMARC rules' to report
      if (policy === undefined) {
        if (view.unreadable.length > 0) continue;
        violations.push({
          message: `${domain}: sends mail but has no DMARC record (none at _dmarc.${domain}${org !== domain ? ` nor at _dmarc.${org}` : ""}); Gmail, Yahoo and Outlook.com require bulk senders to publish one; publish TXT "v=DMARC1; p=none; rua=mailto:<reports>" at _dmarc.${domain} (p=none is enough to start)`,
          urn: mailDomainUrn(view, domain),
        });
        continue;
      }
      const adkim = (policy.tags.get("adkim") ?? "r").toLowerCase();
      const dkimAligned = view.liveDkimSelectors(domain).length > 0 || (adkim !== "s" && org !== domain && view.liveDkimSelectors(org).length > 0);
      const spfAligned = view.spfAt(domain).length > 0 || view.hasUnknownTxt(domain);
      if (dkimAligned || spfAligned || view.unreadable.length > 0) continue;
      const keys = adkim === "s" ? `a DKIM key at ${domain} itself (adkim=s: strict)` : `a DKIM key at ${domain}${org !== domain ? ` or ${org}` : ""}`;
      violations.push({
        message: `${domain}: DMARC ${policy.record.name} (TXT ${quote(policy.record.value!, 100)}) is in force, but its mail cannot align: there is neither ${keys} nor SPF at ${domain}; bulk senders' mail must pass DMARC through aligned SPF or DKIM (Gmail, Yahoo, Outlook.com); publish a DKIM key at <selector>._domainkey.${domain} and sign with d=${domain}, or SPF at ${domain}`,
        urn: mailDomainUrn(view, domain),
      });
    }
    return violations;
  },
};

export const BULK_SENDER_RULES = [bulkSpfAndDkim, bulkDmarcAlignment];
