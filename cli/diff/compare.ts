import {
  SPF_LOOKUP_LIMIT,
  isDmarcValue,
  isSpfValue,
  parseDmarc,
  parseSpf,
  rsaModulusBits,
  spfTermsLookupCount,
  type SpfTerm,
} from "../../components/dns/protocols";
import { parseTagList } from "../../components/dns/protocols/common";
import type { Finding } from "../../components/dns/findings";
import { enclosingZone } from "../../components/dns/model";

/**
 * What changes between two plans (`postforge plan --json` of the base branch
 * and of a pull request), as data: per domain, what the change means for mail
 * authentication, then the records added, changed and removed. Pure: the
 * command reads the files and `./markdown.ts` renders the result.
 *
 * The meaning is read with the protocol parsers (parseSpf and the lookup count
 * checkSpf judges, parseDmarc, the shared tag-list parser), so a value means
 * here what it means to the builders and rules.
 */

/** The part of a plan the diff reads; a `Plan` is one. Unknown fields are never read, so never printed. */
export interface DiffRecord {
  name: string;
  type: string;
  ttl: number;
  /** Presentation-format rdata, as the plan shows it. */
  value: string;
  purpose?: string;
  /** TXT character-strings, unescaped; their concatenation is the value receivers read. */
  strings?: string[];
}

export interface DiffablePlan {
  /** Plans written before the project was recorded have none. */
  project?: string;
  stack: string;
  domains: { domain: string; records: DiffRecord[] }[];
  dkimKeys: { domain: string; selector: string; algorithm: string; bits: number; state: string }[];
  mtaStsPolicies: Record<string, string>;
  /** Declared SPF include costs; plans made before they were recorded have none. */
  spfIncludeCosts?: Record<string, number>;
  /** The mail hosts the plan runs; plans made before mail hosts have none. */
  mailHosts?: {
    hostname: string;
    instanceType: string;
    ami: string;
    userData: string;
    config?: string;
    signingKeys: string[];
    mailboxes: string[];
    senders?: { login: string; allowed: string[] }[];
    ingress: { port: number; protocol: string; sources: string[] }[];
    /** Plans from before warm-up schedules have none. */
    warmup?: DiffableWarmup;
  }[];
  /** The policy pack's verdict on this plan; plans made before policies have none. */
  policyViolations?: { rule: string; enforcementLevel: string; message: string; resource?: string }[];
}

/** A mail host's warm-up as the diff reads it. */
export interface DiffableWarmup {
  startDate: string;
  endDate: string;
  lastDay: number;
  ramps: Record<string, { day: number; dailyCap: number }[]>;
}

export type ChangeSeverity = "weakens" | "info";
export type ChangeTopic = "spf" | "dmarc" | "dkim" | "mx" | "mta-sts" | "tls-rpt" | "bimi" | "caa" | "address" | "ptr";

/** One change in what the records mean to senders and receivers. */
export interface MeaningChange {
  topic: ChangeTopic;
  /** Stable code, e.g. "dmarc.p" or "spf.lookups". */
  code: string;
  /** "weakens": mail authentication or its reporting gets weaker; "info": anything else worth a reviewer's eye. */
  severity: ChangeSeverity;
  /** Plain text; the renderer escapes it. */
  message: string;
}

export interface RecordChange {
  change: "added" | "changed" | "removed";
  name: string;
  type: string;
  before?: { ttl: number; value: string };
  after?: { ttl: number; value: string };
}

export interface DomainDiff {
  domain: string;
  status: "added" | "removed" | "changed" | "unchanged";
  meaning: MeaningChange[];
  records: RecordChange[];
}

export interface PlanDiff {
  baseStack: string;
  headStack: string;
  /** What changes on each mail host, replacements first. */
  mailHosts: MailHostChange[];
  /** The policy pack's violations in the head plan: what this change would be refused for. */
  headPolicyViolations: NonNullable<DiffablePlan["policyViolations"]>;
  /** Sorted by domain name. */
  domains: DomainDiff[];
}

/** Code-point order: the same on every machine and locale. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Everything one side of the diff publishes in one zone. */
interface ZoneSide {
  records: DiffRecord[];
  dkimKeys: DiffablePlan["dkimKeys"];
  /** MTA-STS policy text per mail domain in this zone. */
  mtaStsPolicies: Map<string, string>;
  /** Declared SPF include costs of this side's plan. */
  spfIncludeCosts: Record<string, number>;
}

const EMPTY_SIDE: ZoneSide = { records: [], dkimKeys: [], mtaStsPolicies: new Map(), spfIncludeCosts: {} };

export function comparePlans(base: DiffablePlan, head: DiffablePlan): PlanDiff {
  const baseZones = zoneSides(base);
  const headZones = zoneSides(head);
  const names = [...new Set([...baseZones.keys(), ...headZones.keys()])].sort(byText);
  return { baseStack: base.stack, headStack: head.stack, mailHosts: compareMailHosts(base.mailHosts ?? [], head.mailHosts ?? []), headPolicyViolations: head.policyViolations ?? [], domains: names.map((zone) => compareZone(zone, baseZones.get(zone), headZones.get(zone))) };
}

export interface MailHostChange {
  hostname: string;
  status: "added" | "removed" | "changed";
  /** Plain-text lines; the renderer escapes them. */
  changes: string[];
  /** The instance is replaced (new user-data, AMI): mail queued on it and its mailboxes go with it. */
  replacesInstance: boolean;
}

type PlannedHost = NonNullable<DiffablePlan["mailHosts"]>[number];

function compareMailHosts(base: PlannedHost[], head: PlannedHost[]): MailHostChange[] {
  const names = [...new Set([...base, ...head].map((h) => h.hostname))].sort(byText);
  const out: MailHostChange[] = [];
  for (const hostname of names) {
    const b = base.find((h) => h.hostname === hostname);
    const h = head.find((x) => x.hostname === hostname);
    if (!b || !h) {
      out.push({ hostname, status: b ? "removed" : "added", changes: [b ? "the mail host is removed (its Elastic IP is retained in the account)" : "a new mail host"], replacesInstance: false });
      continue;
    }
    const changes: string[] = [];
    const listDiff = (what: string, before: string[], after: string[]) => {
      const added = after.filter((x) => !before.includes(x));
      const removed = before.filter((x) => !after.includes(x));
      if (added.length > 0) changes.push(`${what} added: ${added.join(", ")}`);
      if (removed.length > 0) changes.push(`${what} removed: ${removed.join(", ")}`);
    };
    listDiff("signing keys", b.signingKeys, h.signingKeys);
    listDiff("mailboxes", b.mailboxes, h.mailboxes);
    const login = (s: { login: string; allowed: string[] }) => `${s.login} as ${s.allowed.join(", ")}`;
    listDiff("submission logins", (b.senders ?? []).map(login), (h.senders ?? []).map(login));
    const rule = (r: PlannedHost["ingress"][number]) => `${r.protocol}/${r.port} from ${r.sources.join(" ")}`;
    listDiff("inbound rules", b.ingress.map(rule), h.ingress.map(rule));
    changes.push(...warmupChanges(b.warmup, h.warmup));
    if (b.instanceType !== h.instanceType) changes.push(`instance type ${b.instanceType} → ${h.instanceType}`);
    const replaces = b.userData !== h.userData || b.ami !== h.ami;
    if (b.ami !== h.ami) changes.push(`AMI ${b.ami} → ${h.ami}`);
    if (b.userData !== h.userData) changes.push("boot configuration (user-data) changed");
    // A plan from before config manifests has none to compare; a replaced host starts from the new one anyway.
    if (b.config !== undefined && h.config !== undefined && b.config !== h.config && !replaces) {
      changes.push("configuration changed: the host applies it in place (postforge-sync, within about five minutes)");
    }
    if (changes.length > 0) out.push({ hostname, status: "changed", changes, replacesInstance: replaces });
  }
  return out;
}

/** What changes in a host's warm-up: added, removed, its dates, and which groups' caps. */
function warmupChanges(before: DiffableWarmup | undefined, after: DiffableWarmup | undefined): string[] {
  const span = (w: DiffableWarmup) => `${w.startDate} to ${w.endDate} (${w.lastDay} days)`;
  if (!before && !after) return [];
  if (!before) return [`warm-up added: ${span(after!)}`];
  if (!after) return [`warm-up removed (was ${span(before)}): the address sends at full speed`];
  const out: string[] = [];
  if (span(before) !== span(after)) out.push(`warm-up ${span(before)} → ${span(after)}`);
  const groups = [...new Set([...Object.keys(before.ramps), ...Object.keys(after.ramps)])].sort(byText);
  const changed = groups.filter((g) => JSON.stringify(before.ramps[g] ?? []) !== JSON.stringify(after.ramps[g] ?? []));
  if (changed.length > 0) out.push(`warm-up caps changed for ${changed.join(", ")}`);
  return out;
}

function zoneSides(plan: DiffablePlan): Map<string, ZoneSide> {
  const zones = new Map<string, ZoneSide>();
  const spfIncludeCosts = plan.spfIncludeCosts ?? {};
  for (const d of plan.domains) zones.set(d.domain, { records: d.records, dkimKeys: [], mtaStsPolicies: new Map(), spfIncludeCosts });
  const zoneOf = (name: string) => enclosingZone(name, zones);
  for (const key of plan.dkimKeys) zoneOf(key.domain)?.dkimKeys.push(key);
  for (const [domain, policy] of Object.entries(plan.mtaStsPolicies)) zoneOf(domain)?.mtaStsPolicies.set(domain, policy);
  return zones;
}

function compareZone(zone: string, base: ZoneSide | undefined, head: ZoneSide | undefined): DomainDiff {
  // Most zones of a pull request do not change: nothing to work out for them.
  if (base && head && sameSide(base, head)) return { domain: zone, status: "unchanged", meaning: [], records: [] };
  const b = base ?? EMPTY_SIDE;
  const h = head ?? EMPTY_SIDE;
  // Most changes are to TXT records: when the other records are the same, MX, CAA and addresses are not compared.
  const othersSame = sameRecords(sideIndex(b).other, sideIndex(h).other);
  const meaning = [
    ...compareSpf(zone, b, h),
    ...compareDmarc(zone, b, h),
    ...compareDkim(zone, b, h),
    ...(othersSame ? [] : compareMx(zone, b, h)),
    ...compareMtaSts(zone, b, h),
    ...compareTlsRpt(zone, b, h),
    ...compareBimi(zone, b, h),
    ...(othersSame ? [] : compareCaa(zone, b, h)),
    ...(othersSame ? [] : compareAddresses(zone, b, h)),
  ];
  const records = compareRecords(b.records, h.records);
  const status = !base ? "added" : !head ? "removed" : meaning.length > 0 || records.length > 0 ? "changed" : "unchanged";
  return { domain: zone, status, meaning, records };
}

// ---------------------------------------------------------------- helpers

/** Whether a zone's two sides publish the same: records, keys, MTA-STS policies and declared include costs. */
function sameSide(a: ZoneSide, b: ZoneSide): boolean {
  // Field by field, stopping at the first difference: an all-changed diff of 1,000 zones spent 13 ms serialising both sides.
  if (a.records.length !== b.records.length || a.dkimKeys.length !== b.dkimKeys.length || a.mtaStsPolicies.size !== b.mtaStsPolicies.size) return false;
  for (let i = 0; i < a.records.length; i++) if (!sameRecord(a.records[i], b.records[i])) return false;
  for (let i = 0; i < a.dkimKeys.length; i++) if (!sameKey(a.dkimKeys[i], b.dkimKeys[i])) return false;
  for (const [domain, policy] of a.mtaStsPolicies) if (b.mtaStsPolicies.get(domain) !== policy) return false;
  return sameCosts(a.spfIncludeCosts, b.spfIncludeCosts);
}

function sameRecords(a: DiffRecord[], b: DiffRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => sameRecord(r, b[i]));
}

function sameRecord(a: DiffRecord, b: DiffRecord): boolean {
  if (a.name !== b.name || a.type !== b.type || a.ttl !== b.ttl || a.value !== b.value || a.purpose !== b.purpose) return false;
  if (a.strings === b.strings) return true;
  if (!a.strings || !b.strings || a.strings.length !== b.strings.length) return false;
  return a.strings.every((x, i) => x === b.strings![i]);
}

function sameKey(a: ZoneSide["dkimKeys"][number], b: ZoneSide["dkimKeys"][number]): boolean {
  return a.domain === b.domain && a.selector === b.selector && a.algorithm === b.algorithm && a.bits === b.bits && a.state === b.state;
}

function sameCosts(a: Record<string, number>, b: Record<string, number>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

function change(topic: ChangeTopic, code: string, severity: ChangeSeverity, message: string): MeaningChange {
  return { topic, code, severity, message };
}

/** The value a receiver reads: TXT strings joined; other types as presented. */
function text(record: DiffRecord): string {
  const strings = record.strings;
  return strings ? (strings.length === 1 ? strings[0] : strings.join("")) : record.value;
}

/** What a TXT record is to the comparisons that read it. */
type TxtTopic = "spf" | "dmarc" | "dmarc-authorization" | "mta-sts" | "tls-rpt" | "bimi";

/**
 * A side's records sorted out once for every comparison: TXT by topic, DKIM
 * keys, the rest. A diff runs once in a short process, so what counts is
 * work done cold: values are joined only where a comparison reads them.
 */
interface SideIndex {
  /** Per topic, each owner's first TXT record of it (what receivers would pick), in plan order; a zone has a handful. */
  txt: Partial<Record<TxtTopic, DiffRecord[]>>;
  /** The TXT records under `_domainkey`, in plan order. */
  dkim: DiffRecord[];
  /** The other records, in plan order. */
  other: DiffRecord[];
}

const indexOfSide = new WeakMap<ZoneSide, SideIndex>();

function sideIndex(side: ZoneSide): SideIndex {
  let index = indexOfSide.get(side);
  if (index) return index;
  const txt: SideIndex["txt"] = {};
  const dkim: DiffRecord[] = [];
  const other: DiffRecord[] = [];
  const add = (topic: TxtTopic, record: DiffRecord) => {
    const list = txt[topic];
    if (!list) txt[topic] = [record];
    else if (!list.some((r) => r.name === record.name)) list.push(record);
  };
  for (const record of side.records) {
    if (record.type !== "TXT") {
      other.push(record);
      continue;
    }
    const name = record.name;
    if (startsAsSpf(record)) add("spf", record);
    if (name.startsWith("_dmarc.") && isDmarcValue(text(record))) add("dmarc", record);
    if (name.includes("._report._dmarc.")) add("dmarc-authorization", record);
    if (name.startsWith("_mta-sts.")) add("mta-sts", record);
    if (name.startsWith("_smtp._tls.")) add("tls-rpt", record);
    if (name.includes("._bimi.")) add("bimi", record);
    if (name.includes("._domainkey.")) dkim.push(record);
  }
  index = { txt, dkim, other };
  indexOfSide.set(side, index);
  return index;
}

/** Whether a TXT value is SPF, read from its first string when that is long enough to decide (`v=spf1 `), else joined. */
function startsAsSpf(record: DiffRecord): boolean {
  const first = record.strings?.[0];
  return isSpfValue(first !== undefined && first.length >= 7 ? first : text(record));
}

/** Owner names holding a TXT value of a topic, each with its (first) value per side, apex first. */
function txtByOwner(zone: string, base: ZoneSide, head: ZoneSide, topic: TxtTopic): [string, string | undefined, string | undefined][] {
  const b = sideIndex(base).txt[topic] ?? [];
  const h = sideIndex(head).txt[topic] ?? [];
  const valueAt = (list: DiffRecord[], owner: string) => {
    const found = list.find((r) => r.name === owner);
    return found && text(found);
  };
  // Nearly always one owner a side, the same: no sorting to do.
  const owners = b.length === 1 && h.length === 1 && b[0].name === h[0].name ? [b[0].name] : ownersApexFirst(zone, [...b, ...h].map((r) => r.name));
  return owners.map((owner) => [owner, valueAt(b, owner), valueAt(h, owner)]);
}

function ownersApexFirst(zone: string, owners: string[]): string[] {
  return [...new Set(owners)].sort((x, y) => (x === zone ? -1 : y === zone ? 1 : byText(x, y)));
}

/** "SPF" for the zone apex, "SPF at mail.example.com" elsewhere. */
function subject(what: string, owner: string, zone: string): string {
  return owner === zone ? what : `${what} at ${owner}`;
}

function tagMap(value: string): Map<string, string> | undefined {
  const parsed = parseTagList(value);
  return "error" in parsed ? undefined : new Map(parsed.tags.map((t) => [t.key, t.value]));
}

function listOrNone(values: string[]): string {
  return values.length > 0 ? values.join(", ") : "(none)";
}

// ---------------------------------------------------------------- SPF

/** How strongly an `all` result refuses unlisted senders; no `all` and no redirect is neutral, like `?all`. */
const ALL_STRENGTH: Record<string, number> = { "-all": 3, "~all": 2, "?all": 1, "(no all)": 1, "+all": 0 };

interface SpfMeaning {
  lookups: number;
  /** True when an include's cost is unknown and was counted as 1. */
  lowerBound: boolean;
  /** "-all", "~all", "?all", "+all", "redirect=<domain>" or "(no all)". */
  all: string;
  /** Terms other than `all` and `redirect=`, by comparison key (lower-cased, "+" dropped), as written. */
  terms: Map<string, string>;
}

function spfMeaning(terms: SpfTerm[], knownIncludes: Record<string, number>): SpfMeaning {
  const unknownCost: Finding[] = [];
  const lookups = spfTermsLookupCount(terms, { knownIncludes }, unknownCost);
  const allTerm = terms.find((t) => t.kind === "mechanism" && t.name === "all");
  const redirect = terms.find((t) => t.kind === "modifier" && t.name === "redirect");
  const all = allTerm ? `${allTerm.kind === "mechanism" ? allTerm.qualifier : ""}all` : redirect ? redirect.text : "(no all)";
  const others = new Map<string, string>();
  for (const t of terms) {
    if (t === allTerm || t === redirect) continue;
    others.set(t.text.toLowerCase().replace(/^\+/, ""), t.text);
  }
  return { lookups, lowerBound: unknownCost.length > 0, all, terms: others };
}

/** SPF values repeat across an estate's zones: each is parsed and its lookups counted once per side (per declared costs). */
const spfMeanings = new WeakMap<Record<string, number>, Map<string, SpfMeaning | { error: string }>>();

function spfOf(value: string, knownIncludes: Record<string, number>): SpfMeaning | { error: string } {
  let memo = spfMeanings.get(knownIncludes);
  if (!memo) spfMeanings.set(knownIncludes, (memo = new Map()));
  let meaning = memo.get(value);
  if (!meaning) {
    const parsed = parseSpf(value);
    meaning = "error" in parsed ? { error: parsed.error } : spfMeaning(parsed.terms, knownIncludes);
    memo.set(value, meaning);
  }
  return meaning;
}

function compareSpf(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of txtByOwner(zone, base, head, "spf")) {
    const what = subject("SPF", owner, zone);
    if (before === after) continue;
    if (after === undefined) {
      out.push(change("spf", "spf.removed", "weakens", `${what} removed: receivers get no SPF result, so anyone may send as ${owner}`));
      continue;
    }
    const h = spfOf(after, head.spfIncludeCosts);
    if ("error" in h) {
      out.push(change("spf", "spf.invalid", "weakens", `${what} no longer parses (${h.error}): receivers return permerror`));
      continue;
    }
    const parsedBefore = before === undefined ? undefined : spfOf(before, base.spfIncludeCosts);
    if (!parsedBefore || "error" in parsedBefore) {
      const overLimit = h.lookups > SPF_LOOKUP_LIMIT;
      out.push(
        change(
          "spf",
          parsedBefore ? "spf.valid" : "spf.added",
          overLimit ? "weakens" : "info",
          `${what} ${parsedBefore ? "parses again" : "published"}: ${h.all}, ${lookupsPhrase(h)}${overLimit ? ` (over the limit of ${SPF_LOOKUP_LIMIT})` : ""}`,
        ),
      );
      continue;
    }
    const b = parsedBefore;
    if (b.lookups !== h.lookups) out.push(lookupChange(what, b, h));
    if (b.all !== h.all) {
      const weaker = ALL_STRENGTH[h.all] !== undefined && ALL_STRENGTH[b.all] !== undefined && ALL_STRENGTH[h.all] < ALL_STRENGTH[b.all];
      out.push(change("spf", "spf.all", weaker ? "weakens" : "info", `${what} all: ${b.all} → ${h.all}`));
    }
    const added = [...h.terms].filter(([key]) => !b.terms.has(key)).map(([, t]) => t);
    const removed = [...b.terms].filter(([key]) => !h.terms.has(key)).map(([, t]) => t);
    // A new sender is worth a reviewer's eye but does not weaken what receivers check.
    if (added.length > 0) out.push(change("spf", "spf.terms.added", "info", `${what} adds ${added.join(", ")}`));
    if (removed.length > 0) out.push(change("spf", "spf.terms.removed", "info", `${what} removes ${removed.join(", ")}`));
  }
  return out;
}

function lookupText(m: SpfMeaning): string {
  return m.lowerBound ? `≥${m.lookups}` : String(m.lookups);
}

function lookupsPhrase(m: SpfMeaning): string {
  return `${lookupText(m)} lookup${m.lookups === 1 ? "" : "s"}`;
}

function lookupChange(what: string, b: SpfMeaning, h: SpfMeaning): MeaningChange {
  const over = h.lookups > SPF_LOOKUP_LIMIT;
  const wasOver = b.lookups > SPF_LOOKUP_LIMIT;
  const notes: string[] = [];
  if (over) notes.push(`${wasOver && h.lookups < b.lookups ? "still over" : "over"} the limit of ${SPF_LOOKUP_LIMIT}`);
  else if (wasOver) notes.push(`back within the limit of ${SPF_LOOKUP_LIMIT}`);
  if (b.lowerBound || h.lowerBound) notes.push("includes of unknown cost counted as 1");
  const weakens = over && (!wasOver || h.lookups > b.lookups);
  const suffix = notes.length > 0 ? ` (${notes.join("; ")})` : "";
  return change("spf", "spf.lookups", weakens ? "weakens" : "info", `${what} lookups ${lookupText(b)} → ${lookupText(h)}${suffix}`);
}

// ---------------------------------------------------------------- DMARC

/** DMARC policies from weakest to strongest. */
export const POLICY_STRENGTH: Record<string, number> = { none: 0, quarantine: 1, reject: 2 };

/** Tags whose change is reported, in the canonical order the builder writes them. */
const DMARC_TAGS = ["p", "sp", "np", "psd", "t", "adkim", "aspf", "pct", "fo", "rua", "ruf"] as const;
type DmarcTagKey = (typeof DMARC_TAGS)[number];

/** What receivers apply when a tag is not written (RFC 7489 §6.3, RFC 9989). */
function effectiveDmarc(tags: Map<string, string>): Record<DmarcTagKey, string> {
  const lower = (key: string) => tags.get(key)?.toLowerCase();
  const p = lower("p") ?? "none";
  const sp = lower("sp") ?? p;
  return {
    p,
    sp,
    np: lower("np") ?? sp,
    psd: lower("psd") ?? "u",
    t: lower("t") ?? "n",
    adkim: lower("adkim") ?? "r",
    aspf: lower("aspf") ?? "r",
    pct: tags.get("pct") ?? "100",
    fo: tags.get("fo") ?? "0",
    rua: tags.get("rua") ?? "",
    ruf: tags.get("ruf") ?? "",
  };
}

function dmarcTagWeakens(key: DmarcTagKey, before: string, after: string): boolean {
  switch (key) {
    case "p":
    case "sp":
    case "np":
      return (POLICY_STRENGTH[after] ?? 0) < (POLICY_STRENGTH[before] ?? 0);
    case "adkim":
    case "aspf":
      return before === "s" && after !== "s";
    case "pct":
      return Number(after) < Number(before);
    case "t":
      // Testing: receivers apply one level less than p.
      return before !== "y" && after === "y";
    case "rua":
      // Without aggregate reports nobody sees spoofing or broken alignment.
      return before !== "" && after === "";
    default:
      return false;
  }
}

function compareDmarc(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of txtByOwner(zone, base, head, "dmarc")) {
    if (before === after) continue;
    const domain = owner.slice("_dmarc.".length);
    const what = domain === zone ? "DMARC" : `DMARC for ${domain}`;
    if (after === undefined) {
      out.push(change("dmarc", "dmarc.removed", "weakens", `${what} removed: receivers apply no DMARC policy to ${domain}`));
      continue;
    }
    const parsedAfter = parseDmarc(after);
    if ("error" in parsedAfter) {
      out.push(change("dmarc", "dmarc.invalid", "weakens", `${what} no longer parses (${parsedAfter.error}): receivers ignore it`));
      continue;
    }
    const h = new Map(parsedAfter.tags.map((t) => [t.key, t.value]));
    const parsedBefore = before === undefined ? undefined : parseDmarc(before);
    if (!parsedBefore || "error" in parsedBefore) {
      out.push(change("dmarc", parsedBefore ? "dmarc.valid" : "dmarc.added", "info", `${what} ${parsedBefore ? "parses again" : "published"}: p=${effectiveDmarc(h).p}`));
      continue;
    }
    const b = new Map(parsedBefore.tags.map((t) => [t.key, t.value]));
    const effB = effectiveDmarc(b);
    const effH = effectiveDmarc(h);
    for (const key of DMARC_TAGS) {
      const written = (tags: Map<string, string>) => (key === "rua" || key === "ruf" || key === "fo" ? tags.get(key) : tags.get(key)?.toLowerCase());
      if (written(b) === written(h)) continue;
      const shown = (tags: Map<string, string>, eff: Record<DmarcTagKey, string>) => written(tags) ?? (eff[key] === "" ? "(unset)" : `(unset = ${eff[key]})`);
      const weakens = dmarcTagWeakens(key, effB[key], effH[key]);
      const message =
        (key === "rua" || key === "ruf") && effH[key] === ""
          ? `${what} ${key} removed: no ${key === "rua" ? "aggregate" : "failure"} reports (was ${effB[key]})`
          : `${what} ${key}: ${shown(b, effB)} → ${shown(h, effH)}`;
      out.push(change("dmarc", `dmarc.${key}`, weakens ? "weakens" : "info", message));
    }
  }
  for (const [owner, before, after] of txtByOwner(zone, base, head, "dmarc-authorization")) {
    if ((before === undefined) === (after === undefined)) continue;
    const [source, destination] = owner.split("._report._dmarc.");
    out.push(
      change(
        "dmarc",
        after === undefined ? "dmarc.report-authorization.removed" : "dmarc.report-authorization.added",
        "info",
        `DMARC reports for ${source} ${after === undefined ? "no longer" : "now"} authorized to ${destination}`,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------- DKIM

interface DkimSelector {
  /** "pf2026q4", or "pf2026q4 for sub.example.com" outside the zone apex. */
  label: string;
  algorithm: string;
  /** RSA modulus size when known (managed keys, or a published RSA key). */
  bits?: number;
  /** Managed keys: pending, active, retiring, revoked. Keys held elsewhere: published or revoked. */
  state: string;
  /** Whether mail is (or may be) signed with it now. */
  signs: boolean;
}

function dkimSelectors(zone: string, side: ZoneSide): Map<string, DkimSelector> {
  const managed = new Map(side.dkimKeys.map((k) => [`${k.selector}._domainkey.${k.domain}`, k]));
  const out = new Map<string, DkimSelector>();
  for (const r of sideIndex(side).dkim) {
    if (out.has(r.name)) continue;
    const at = r.name.indexOf("._domainkey.");
    const selector = r.name.slice(0, at);
    const domain = r.name.slice(at + "._domainkey.".length);
    const label = domain === zone ? selector : `${selector} for ${domain}`;
    const key = managed.get(r.name);
    if (key) {
      out.set(r.name, { label, algorithm: key.algorithm, bits: key.algorithm === "rsa" ? key.bits : undefined, state: key.state, signs: key.state === "active" });
      continue;
    }
    // A key held elsewhere is judged by what it publishes.
    const tags = tagMap(text(r));
    const algorithm = (tags?.get("k") ?? "rsa").toLowerCase();
    const publicKey = (tags?.get("p") ?? "").replace(/\s+/g, "");
    const revoked = publicKey === "";
    out.set(r.name, { label, algorithm, bits: algorithm === "rsa" && !revoked ? rsaBits(publicKey) : undefined, state: revoked ? "revoked" : "published", signs: !revoked });
  }
  return out;
}

/** Whether both sides publish the same DKIM records and manage the same keys: then nothing about DKIM changed. */
function sameDkim(base: ZoneSide, head: ZoneSide): boolean {
  const b = sideIndex(base).dkim;
  const h = sideIndex(head).dkim;
  return (
    b.length === h.length &&
    // The same presentation is the same value; another presentation may still join to it.
    b.every((x, i) => x.name === h[i].name && (x.value === h[i].value || text(x) === text(h[i]))) &&
    base.dkimKeys.length === head.dkimKeys.length &&
    base.dkimKeys.every((k, i) => sameKey(k, head.dkimKeys[i]))
  );
}

function rsaBits(publicKey: string): number | undefined {
  try {
    return rsaModulusBits(publicKey);
  } catch {
    return undefined;
  }
}

function keyDescription(key: DkimSelector): string {
  return `${key.algorithm}${key.bits ? ` ${key.bits} bits` : ""}, ${key.state}`;
}

function compareDkim(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  if (sameDkim(base, head)) return [];
  const b = dkimSelectors(zone, base);
  const h = dkimSelectors(zone, head);
  const out: MeaningChange[] = [];
  for (const owner of [...new Set([...b.keys(), ...h.keys()])].sort(byText)) {
    const before = b.get(owner);
    const after = h.get(owner);
    if (!before) {
      out.push(change("dkim", "dkim.selector.added", "info", `DKIM selector ${after!.label} added (${keyDescription(after!)})`));
    } else if (!after) {
      out.push(change("dkim", "dkim.selector.removed", "info", `DKIM selector ${before.label} removed (was ${before.state})`));
    } else {
      if (before.state !== after.state) {
        const message =
          after.state === "revoked" ? `DKIM selector ${after.label} revoked (was ${before.state})` : `DKIM selector ${after.label}: ${before.state} → ${after.state}`;
        out.push(change("dkim", "dkim.selector.state", "info", message));
      }
      if (before.algorithm !== after.algorithm) {
        out.push(change("dkim", "dkim.selector.algorithm", "info", `DKIM selector ${after.label}: ${before.algorithm} → ${after.algorithm}`));
      } else if (before.bits && after.bits && before.bits !== after.bits) {
        out.push(change("dkim", "dkim.selector.bits", "info", `DKIM selector ${after.label}: ${before.bits} → ${after.bits} bits`));
      }
    }
  }
  // What weakens is judged on the keys that sign, per algorithm: one selector's change may be a rotation.
  const algorithms = [...new Set([...[...b.values()].map((k) => k.algorithm), ...[...h.values()].map((k) => k.algorithm)])].sort(byText);
  for (const algorithm of algorithms) {
    const signing = (keys: Map<string, DkimSelector>) => [...keys.values()].filter((k) => k.signs && k.algorithm === algorithm);
    const was = signing(b);
    const now = signing(h);
    if (was.length > 0 && now.length === 0) {
      out.push(change("dkim", "dkim.signing.none", "weakens", `No active ${algorithm} DKIM key left (was ${was.map((k) => k.label).join(", ")})`));
      continue;
    }
    const smallest = (keys: DkimSelector[]) => Math.min(...keys.map((k) => k.bits ?? Infinity));
    if (algorithm === "rsa" && Number.isFinite(smallest(was)) && smallest(now) < smallest(was)) {
      out.push(change("dkim", "dkim.signing.bits", "weakens", `Smallest active RSA DKIM key ${smallest(was)} → ${smallest(now)} bits`));
    }
  }
  return out;
}

// ---------------------------------------------------------------- MX, CAA, addresses

/** Values per owner name for one record type, sorted. */
function valuesByOwner(side: ZoneSide, type: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of sideIndex(side).other) {
    if (r.type !== type) continue;
    const list = map.get(r.name);
    if (list) list.push(r.value);
    else map.set(r.name, [r.value]);
  }
  for (const values of map.values()) values.sort(byText);
  return map;
}

function setChanges(zone: string, base: ZoneSide, head: ZoneSide, type: string): [string, string[], string[]][] {
  const b = valuesByOwner(base, type);
  const h = valuesByOwner(head, type);
  return ownersApexFirst(zone, [...b.keys(), ...h.keys()])
    .map((owner): [string, string[], string[]] => [owner, b.get(owner) ?? [], h.get(owner) ?? []])
    .filter(([, before, after]) => before.join("\n") !== after.join("\n"));
}

const NULL_MX = "0 .";

function mxText(values: string[]): string {
  return values.join() === NULL_MX ? "null MX" : listOrNone(values);
}

function compareMx(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  return setChanges(zone, base, head, "MX").map(([owner, before, after]) => {
    const what = subject("MX", owner, zone);
    if (after.length === 0) {
      return change("mx", "mx.removed", "weakens", `${what} removed entirely (was ${mxText(before)}): senders fall back to the address records`);
    }
    if (after.join() === NULL_MX) return change("mx", "mx.null", "info", `${what}: ${mxText(before)} → null MX (accepts no mail)`);
    return change("mx", "mx.changed", "info", `${what}: ${mxText(before)} → ${mxText(after)}`);
  });
}

function compareCaa(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of setChanges(zone, base, head, "CAA")) {
    const what = subject("CAA", owner, zone);
    const added = after.filter((v) => !before.includes(v));
    const removed = before.filter((v) => !after.includes(v));
    if (after.length === 0) {
      out.push(change("caa", "caa.removed", "info", `${what} removed entirely: any certificate authority may issue`));
      continue;
    }
    if (added.length > 0) out.push(change("caa", "caa.added", "info", `${what} adds ${added.join(", ")}`));
    if (removed.length > 0) out.push(change("caa", "caa.removed", "info", `${what} removes ${removed.join(", ")}`));
  }
  return out;
}

/** Host addresses, and PTR records should a plan carry them (none does yet). */
function compareAddresses(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  return (["A", "AAAA", "PTR"] as const).flatMap((type) =>
    setChanges(zone, base, head, type).map(([owner, before, after]) =>
      change(type === "PTR" ? "ptr" : "address", `${type.toLowerCase()}.changed`, "info", `${owner} ${type} ${listOrNone(before)} → ${listOrNone(after)}`),
    ),
  ).sort((x, y) => byText(x.message, y.message));
}

// ---------------------------------------------------------------- MTA-STS, TLS-RPT, BIMI

const MTA_STS_STRENGTH: Record<string, number> = { enforce: 2, testing: 1, none: 0, "(no policy)": 0 };

/** The policy file's `key: value` fields; `mx` may repeat. */
function policyFields(policy: string | undefined): { mode?: string; mx: string[]; maxAge?: string } {
  const fields: { mode?: string; mx: string[]; maxAge?: string } = { mx: [] };
  for (const line of (policy ?? "").split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_.-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) continue;
    if (m[1] === "mode") fields.mode = m[2];
    else if (m[1] === "mx") fields.mx.push(m[2]);
    else if (m[1] === "max_age") fields.maxAge = m[2];
  }
  return fields;
}

function compareMtaSts(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of txtByOwner(zone, base, head, "mta-sts")) {
    const domain = owner.slice("_mta-sts.".length);
    const what = domain === zone ? "MTA-STS" : `MTA-STS for ${domain}`;
    // Without the TXT record senders never fetch the policy, whatever it says.
    const policyOf = (side: ZoneSide, record: string | undefined) => (record === undefined ? undefined : side.mtaStsPolicies.get(domain));
    const policyB = policyOf(base, before);
    const policyH = policyOf(head, after);
    if (before === after && policyB === policyH) continue;
    const b = policyFields(policyB);
    const h = policyFields(policyH);
    const modeB = before === undefined ? "(no policy)" : (b.mode ?? "(policy not in plan)");
    const modeH = after === undefined ? "(no policy)" : (h.mode ?? "(policy not in plan)");
    if (modeB !== modeH) {
      const weaker = (MTA_STS_STRENGTH[modeH] ?? Infinity) < (MTA_STS_STRENGTH[modeB] ?? -Infinity);
      out.push(change("mta-sts", "mta-sts.mode", weaker ? "weakens" : "info", `${what} mode: ${modeB} → ${modeH}`));
    }
    if (before === undefined || after === undefined) continue;
    if (b.mx.join() !== h.mx.join()) out.push(change("mta-sts", "mta-sts.mx", "info", `${what} policy mx: ${listOrNone(b.mx)} → ${listOrNone(h.mx)}`));
    if (b.maxAge !== h.maxAge && b.maxAge !== undefined && h.maxAge !== undefined) {
      out.push(change("mta-sts", "mta-sts.max-age", "info", `${what} policy max_age: ${b.maxAge} → ${h.maxAge}`));
    }
    const idB = tagMap(before)?.get("id");
    const idH = tagMap(after)?.get("id");
    if (idB !== idH) out.push(change("mta-sts", "mta-sts.id", "info", `${what} policy id ${idB ?? "(none)"} → ${idH ?? "(none)"}`));
  }
  return out;
}

function compareTlsRpt(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of txtByOwner(zone, base, head, "tls-rpt")) {
    if (before === after) continue;
    const domain = owner.slice("_smtp._tls.".length);
    const what = domain === zone ? "TLS-RPT" : `TLS-RPT for ${domain}`;
    const ruaB = before === undefined ? undefined : (tagMap(before)?.get("rua") ?? "(none)");
    const ruaH = after === undefined ? undefined : (tagMap(after)?.get("rua") ?? "(none)");
    if (ruaH === undefined) out.push(change("tls-rpt", "tls-rpt.removed", "info", `${what} removed: no TLS failure reports (was rua=${ruaB})`));
    else if (ruaB === undefined) out.push(change("tls-rpt", "tls-rpt.added", "info", `${what} published: rua=${ruaH}`));
    else if (ruaB !== ruaH) out.push(change("tls-rpt", "tls-rpt.rua", "info", `${what} rua: ${ruaB} → ${ruaH}`));
  }
  return out;
}

function compareBimi(zone: string, base: ZoneSide, head: ZoneSide): MeaningChange[] {
  const out: MeaningChange[] = [];
  for (const [owner, before, after] of txtByOwner(zone, base, head, "bimi")) {
    if (before === after) continue;
    const [selector, domain] = owner.split("._bimi.");
    const what = `BIMI ${selector}${domain === zone ? "" : ` for ${domain}`}`;
    const b = before === undefined ? undefined : tagMap(before);
    const h = after === undefined ? undefined : tagMap(after);
    // Brand logos are display, not authentication: never a weakening.
    if (after === undefined) out.push(change("bimi", "bimi.removed", "info", `${what} removed (logo ${b?.get("l") || "(none)"})`));
    else if (before === undefined) out.push(change("bimi", "bimi.added", "info", `${what} published (logo ${h?.get("l") || "(none)"})`));
    else {
      for (const [tag, label] of [["l", "logo"], ["a", "evidence"]] as const) {
        const x = b?.get(tag) || "(none)";
        const y = h?.get(tag) || "(none)";
        if (x !== y) out.push(change("bimi", `bimi.${label}`, "info", `${what} ${label}: ${x} → ${y}`));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- records

/**
 * Records added, changed and removed. Records are paired by name and type
 * (and, for TXT at a name that holds several, by what they are: SPF pairs with
 * SPF); a pair whose value or TTL differs is one change, anything left over is
 * an addition or a removal.
 */
export function compareRecords(base: DiffRecord[], head: DiffRecord[]): RecordChange[] {
  // A record equal at the same place on both sides (most of a changed zone) changes nothing: set aside before
  // pairing, which keys and classifies each record. Unless a record left has the same name, type and value as
  // one set aside (a duplicate, which pairing would match with it): then every record is paired.
  const leftBase: DiffRecord[] = [];
  const leftHead: DiffRecord[] = [];
  const same: DiffRecord[] = [];
  for (let i = 0; i < Math.max(base.length, head.length); i++) {
    const b = base[i];
    const h = head[i];
    if (b && h && sameRecord(b, h)) {
      same.push(b);
      continue;
    }
    if (b) leftBase.push(b);
    if (h) leftHead.push(h);
  }
  const duplicated = (r: DiffRecord) => same.some((s) => s.name === r.name && s.type === r.type && s.value === r.value);
  if (leftBase.some(duplicated) || leftHead.some(duplicated)) return pairRecords(base, head);
  return pairRecords(leftBase, leftHead);
}

function pairRecords(base: DiffRecord[], head: DiffRecord[]): RecordChange[] {
  const groups = new Map<string, { before: DiffRecord[]; after: DiffRecord[] }>();
  const add = (r: DiffRecord, side: "before" | "after") => {
    const key = `${r.name}\n${r.type}\n${pairingSlot(r)}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { before: [], after: [] }));
    group[side].push(r);
  };
  for (const r of base) add(r, "before");
  for (const r of head) add(r, "after");
  const out: RecordChange[] = [];
  for (const { before, after } of groups.values()) {
    const removed = before.filter((r) => !after.some((a) => a.value === r.value));
    const added = after.filter((r) => !before.some((b) => b.value === r.value));
    for (const r of after) {
      const old = before.find((b) => b.value === r.value);
      if (old && old.ttl !== r.ttl) out.push({ change: "changed", name: r.name, type: r.type, before: shown(old), after: shown(r) });
    }
    if (removed.length === 1 && added.length === 1) {
      out.push({ change: "changed", name: added[0].name, type: added[0].type, before: shown(removed[0]), after: shown(added[0]) });
      continue;
    }
    for (const r of removed) out.push({ change: "removed", name: r.name, type: r.type, before: shown(r) });
    for (const r of added) out.push({ change: "added", name: r.name, type: r.type, after: shown(r) });
  }
  const order = { removed: 0, changed: 1, added: 2 };
  return out.sort(
    (x, y) =>
      byText(x.name, y.name) ||
      byText(x.type, y.type) ||
      byText((x.after ?? x.before)!.value, (y.after ?? y.before)!.value) ||
      order[x.change] - order[y.change],
  );
}

/** Only the two fields a report prints. */
function shown(r: DiffRecord): { ttl: number; value: string } {
  return { ttl: r.ttl, value: r.value };
}

/** TXT records at one name pair up by kind; a name's other records pair with any of its type. */
function pairingSlot(r: DiffRecord): string {
  if (r.type !== "TXT") return "";
  const value = text(r);
  if (isSpfValue(value)) return "spf";
  if (isDmarcValue(value)) return "dmarc";
  // Service names (_dmarc, _domainkey, _mta-sts, _smtp._tls, _bimi) hold one record each.
  if (r.name.startsWith("_") || r.name.includes("._")) return "service";
  return `value:${r.value}`;
}
