import { addDays } from "../sending/warmup-schedule";
import type { DomainDay } from "./summary";

/**
 * Evidence for a DMARC policy's next step, from what receivers reported: for
 * a domain at p=none or p=quarantine, the share of its mail that passed DMARC
 * over the last days of reports, which of our own sources still fail (the
 * step would hurt our own mail: fix them first), and which unknown sources
 * fail and are still let through (the step stops them: spoofers, or a
 * service that sends for you and is not aligned yet). Pure.
 */

/** When the reports support the next step: enough mail, nearly all of it passing, none of ours failing. */
export const EVIDENCE_RULES = {
  /** Days of reports looked at, up to the latest day reported. */
  windowDays: 14,
  /** Messages reported in the window below which reports say too little. */
  minimumMessages: 100,
  /** Share of the domain's mail that must pass DMARC (percent). */
  minimumPassShare: 98,
};

/** What the reports say about moving one domain's DMARC policy a step up, and the config change to make. */
export interface DmarcEvidence {
  domain: string;
  current: "none" | "quarantine";
  next: "quarantine" | "reject";
  from: string;
  to: string;
  messages: number;
  /** Percent of the messages that passed DMARC. */
  passShare?: number;
  supported: boolean;
  /** Why, in a sentence. */
  because: string;
  /** Our sources whose mail fails: the next step would quarantine or reject our own mail. */
  oursFailing: { sourceIp: string; failing: number }[];
  /** Unknown sources whose failing mail receivers still deliver: the next step stops it. */
  unknownLetThrough: { sourceIp: string; failing: number; reporters: string[]; ptr?: string[] }[];
}

/** The evidence for one domain (its organizational domain's reports: the domain and its subdomains). */
export function dmarcEvidence(domain: string, current: "none" | "quarantine", days: readonly DomainDay[], rules = EVIDENCE_RULES, today = new Date().toISOString().slice(0, 10)): DmarcEvidence {
  // A report dated after today (a reporter's bug, or a forger's) must not move the window off the real ones.
  const mine = days.filter((d) => (d.domain === domain || d.domain.endsWith(`.${domain}`)) && d.day <= today);
  const to = mine.reduce((latest, d) => (d.day > latest ? d.day : latest), "");
  const from = to === "" ? "" : addDays(to, -(rules.windowDays - 1));
  const window = mine.filter((d) => d.day >= from && d.day <= to);
  const messages = window.reduce((n, d) => n + d.messages, 0);
  const passed = window.reduce((n, d) => n + d.dmarcPass, 0);
  const bySource = new Map<string, { ours: boolean; failing: number; letThrough: number; reporters: Set<string>; ptr?: string[] }>();
  for (const d of window)
    for (const s of d.sources) {
      const entry = bySource.get(s.sourceIp) ?? { ours: s.ours, failing: 0, letThrough: 0, reporters: new Set<string>() };
      const failing = s.messages - s.dmarcPass;
      entry.failing += failing;
      // Of the failing mail, what receivers delivered anyway (none) or only quarantined: what the next step changes.
      const failed = s.failingDispositions ?? {};
      entry.letThrough += (failed.none ?? 0) + (current === "quarantine" ? (failed.quarantine ?? 0) : 0);
      for (const r of s.reporters) entry.reporters.add(r);
      if (s.ptr && s.ptr.length > 0) entry.ptr = s.ptr;
      bySource.set(s.sourceIp, entry);
    }
  const oursFailing = [...bySource].filter(([, s]) => s.ours && s.failing > 0).map(([sourceIp, s]) => ({ sourceIp, failing: s.failing })).sort((a, b) => b.failing - a.failing);
  const unknownLetThrough = [...bySource]
    .filter(([, s]) => !s.ours && s.letThrough > 0)
    .map(([sourceIp, s]) => ({ sourceIp, failing: s.letThrough, reporters: [...s.reporters].sort(), ...(s.ptr ? { ptr: s.ptr } : {}) }))
    .sort((a, b) => b.failing - a.failing || a.sourceIp.localeCompare(b.sourceIp));
  const passShare = messages > 0 ? Math.round((passed / messages) * 10_000) / 100 : undefined;
  // Compared unrounded: 97.995% is not 98%.
  const enoughPass = passed * 100 >= rules.minimumPassShare * messages;
  const oursKnown = window.some((d) => d.sources.some((s) => s.ours));
  const next = current === "none" ? "quarantine" : "reject";
  const because =
    messages < rules.minimumMessages
      ? `only ${messages} messages reported from ${from || "-"} to ${to || "-"} (at least ${rules.minimumMessages} in ${rules.windowDays} days): too few to judge`
      : !oursKnown
        ? "none of the reported sources is marked as ours (postforge reports --our-source): without knowing our own mail, the reports cannot show it aligned"
        : oursFailing.length > 0
        ? `${oursFailing.reduce((n, s) => n + s.failing, 0)} messages from our own sources failed DMARC (${oursFailing.map((s) => s.sourceIp).join(", ")}): p=${next} would ${next === "reject" ? "refuse" : "quarantine"} them; fix their DKIM or SPF alignment first`
        : !enoughPass
          ? `${passShare}% of ${messages} messages passed DMARC, under ${rules.minimumPassShare}%: find the failing senders below before moving`
          : `${passShare}% of ${messages} messages passed DMARC from ${from} to ${to}, all of our sources aligned`;
  const supported = messages >= rules.minimumMessages && oursKnown && oursFailing.length === 0 && enoughPass;
  return { domain, current, next, from, to, messages, ...(passShare !== undefined ? { passShare } : {}), supported, because, oursFailing, unknownLetThrough };
}
