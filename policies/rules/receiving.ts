import type { MxRecord } from "../../components/dns/model";
import { checkMxSet } from "../../components/dns/protocols";
import { mailDomainUrn } from "./dmarc-support";
import { mxExchange } from "./host-support";
import type { Rule, Violation } from "./rule";

export const mxPresent: Rule = {
  name: "mx-present",
  group: "MX and receiving",
  profile: "baseline",
  description: "Every sending domain publishes MX records (a domain that must never receive mail publishes a null MX and is parked), and no MX set mixes a null MX with hosts or names an address.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 5321 §5.1 and §4.5.1; RFC 7505 §3",
  check(view) {
    const violations: Violation[] = [];
    for (const domain of view.sendingDomains) {
      if (!view.manages(domain) || view.recordsAt(domain, "MX").length > 0) continue;
      // An unknown TXT may make it parked, an unreadable record may be its MX.
      if (view.hasUnknownTxt(domain) || view.unreadable.length > 0) continue;
      violations.push({
        message: `${domain}: sends mail but publishes no MX record, so bounces, replies and reports addressed to ${domain} fall back to its address record (RFC 5321 §5.1) and are usually lost, and receivers distrust a sender domain that accepts no mail; publish MX records for ${domain} pointing at the hosts that receive its mail (domains[].mx in the stack config), or park it with a null MX "0 ." if it must never send`,
        urn: mailDomainUrn(view, domain),
      });
    }
    const mxNames = [...new Set(view.records.filter((r) => r.type === "MX").map((r) => r.name))].sort();
    for (const name of mxNames) {
      const set = view.recordsAt(name, "MX");
      if (set.some((r) => r.value === undefined)) continue;
      const records: MxRecord[] = set.map((r) => ({
        name,
        type: "MX",
        ttl: r.ttl ?? 0,
        purpose: "mx",
        priority: Number(r.value!.trim().split(/\s+/)[0]),
        exchange: mxExchange(r.value!) ?? ".",
      }));
      for (const f of checkMxSet(records).filter((f) => f.severity === "error")) {
        violations.push({ message: `${name}: MX ${set.map((r) => `"${r.value}"`).join(", ")}: ${f.message}`, urn: set[0].resource.urn });
      }
    }
    return violations;
  },
};

export const roleMailboxes: Rule = {
  name: "role-mailboxes",
  group: "MX and receiving",
  profile: "baseline",
  description: "Every sending domain whose MX is a mail host of the stack has postmaster@ and abuse@ mailboxes and a feedback-loop address on that host.",
  enforcementLevel: "mandatory",
  severity: "medium",
  source: "RFC 5321 §4.5.1 (postmaster); RFC 2142 §2 and §4 (abuse); Yahoo CFL and Microsoft JMRP (feedback loops)",
  check(view) {
    const violations: Violation[] = [];
    for (const domain of view.sendingDomains) {
      const judged = new Set<string>();
      for (const record of view.recordsAt(domain, "MX")) {
        const exchange = record.value === undefined ? undefined : mxExchange(record.value);
        const host = view.mailHosts.find((h) => h.hostname === exchange);
        if (!host || judged.has(host.hostname)) continue; // an MX outside the stack: its mailboxes cannot be seen from here
        judged.add(host.hostname);
        const mailboxes = new Set(host.mailboxes.map((m) => m.toLowerCase()));
        const missing = [`postmaster@${domain}`, `abuse@${domain}`].filter((a) => !mailboxes.has(a)).map((a) => `the mailbox ${a}`);
        if (!host.feedbackLoopAddresses.some((a) => a.toLowerCase().endsWith(`@${domain}`))) missing.push(`a feedback-loop address at ${domain}`);
        if (missing.length === 0) continue;
        violations.push({
          message: `${domain}: MX "${record.value}" is mail host ${host.hostname}, which lacks ${missing.length > 1 ? `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]}` : missing[0]}; mail to postmaster@ must be accepted (RFC 5321 §4.5.1), abuse@ is where complaints go (RFC 2142), and Yahoo and Microsoft feedback loops report to an address at the domain; add ${domain} to the mail host's domains (postforge:mailHost domains), which creates these mailboxes`,
          urn: host.resource.urn,
        });
      }
    }
    return violations;
  },
};

export const RECEIVING_RULES = [mxPresent, roleMailboxes];
