import { createHash } from "node:crypto";
import { canonicalName, enclosingZone } from "../../components/dns/model";
import { mailtoReportHost } from "../../components/dns/protocols/dmarc";

/**
 * Which stack each domain of a large estate goes to. Pure: the same estate
 * always gives the same assignment, whatever the order of its lists.
 *
 * - **Kept together**: domains that must be planned in one stack form a
 *   unit: a mail host's domains and the zone of its name; a domain and the
 *   estate domains its MX hosts, host addresses, HELO names and SPF `a:`
 *   names are in (the plan checks those against the stack's own zones), and
 *   those its DMARC and TLS-RPT reports go to (the stack publishes the
 *   receiving domain's report authorization, RFC 7489 section 7.1); a
 *   subdomain and its parent (DMARC's organizational domain, report
 *   authorizations). Found by union-find over those references.
 * - **Sticky**: a unit already in one of the estate's shards (`current`, from
 *   the stack files on disk) stays there: in the shard holding most of its
 *   domains. Only new units are placed, each in the shard that ranks highest
 *   for it by rendezvous hashing (sha256 of unit and shard name), so the same
 *   estate gives the same files. `rebalance` places every unit afresh that way:
 *   a change of the shard count then moves about 1/N of the domains.
 * - **One mail host per stack** (a stack config has one `mailHost`): units
 *   with a host are placed first, in name order, each where it is if that
 *   shard has no host yet, else in its best-ranked shard without one.
 */

/** What assignment reads of a domain entry (the rest goes to the stack file untouched). */
export interface EstateDomain {
  name: string;
  mx?: { host: string }[];
  hosts?: { name: string }[];
  heloHosts?: string[];
  spf?: { a?: string[] };
  dmarc?: { rua?: string[]; ruf?: string[] };
  tlsRpt?: { rua?: string[] };
  /** A parked domain's aggregate report addresses. */
  rua?: string[];
}


export interface EstateMailHost {
  hostname: string;
  domains: string[];
}

export interface ShardAssignment {
  /** Shard stack names, in order. */
  shards: string[];
  /** Domain name → shard stack name. */
  domainShard: Map<string, string>;
  /** Index into the estate's mailHosts → shard stack name. */
  hostShard: Map<number, string>;
  /** The units, each a sorted list of domain names, sorted by first name. */
  units: string[][];
}

/** `estate` and 3 → estate-001, estate-002, estate-003: three digits whatever the count (at most 999), so a shard keeps its name when the count grows. */
export function shardNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, "0")}`);
}

/** The rendezvous score of a unit for a shard: the first 8 bytes of sha256(unit NUL shard). */
function score(unit: string, shard: string): bigint {
  return createHash("sha256").update(`${unit}\0${shard}`).digest().readBigUInt64BE(0);
}

/** Shards ordered best first for a unit (ties, which sha256 makes vanishingly rare, by name). */
function ranking(unit: string, shards: string[]): string[] {
  return shards
    .map((s) => ({ s, v: score(unit, s) }))
    .sort((a, b) => (a.v === b.v ? (a.s < b.s ? -1 : 1) : a.v > b.v ? -1 : 1))
    .map((x) => x.s);
}

/** Union-find over domain names. */
class Units {
  private readonly parent = new Map<string, string>();
  add(name: string): void {
    if (!this.parent.has(name)) this.parent.set(name, name);
  }
  find(name: string): string {
    let root = name;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    // Path compression: later finds are direct.
    for (let n = name; n !== root; ) {
      const next = this.parent.get(n)!;
      this.parent.set(n, root);
      n = next;
    }
    return root;
  }
  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    // The smaller name is the root, so a unit is known by its first domain whatever the input order.
    if (ra !== rb) ra < rb ? this.parent.set(rb, ra) : this.parent.set(ra, rb);
  }
  groups(): string[][] {
    const byRoot = new Map<string, string[]>();
    for (const name of this.parent.keys()) {
      const root = this.find(name);
      const list = byRoot.get(root);
      if (list) list.push(name);
      else byRoot.set(root, [name]);
    }
    return [...byRoot.values()].map((g) => g.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }
}

export interface PlacementOptions {
  /** Domain (canonical) → the stacks whose files list it now. */
  current?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Ignore where units are now: place every one by rendezvous hashing. */
  rebalance?: boolean;
}

export function assignShards(domains: EstateDomain[], mailHosts: EstateMailHost[], shards: string[], placement: PlacementOptions = {}): ShardAssignment {
  const zones = new Map(domains.map((d) => [canonicalName(d.name), canonicalName(d.name)]));
  const units = new Units();
  for (const zone of zones.keys()) units.add(zone);
  const linkName = (from: string, name: string | undefined) => {
    const zone = name ? enclosingZone(canonicalName(name), zones) : undefined;
    if (zone) units.union(from, zone);
  };
  for (const d of domains) {
    const name = canonicalName(d.name);
    // A subdomain joins its parent: the enclosing zone of the name's parent.
    const dot = name.indexOf(".");
    if (dot > 0) linkName(name, name.slice(dot + 1));
    for (const mx of d.mx ?? []) linkName(name, mx.host);
    for (const h of d.hosts ?? []) linkName(name, h.name);
    for (const h of d.heloHosts ?? []) linkName(name, h);
    for (const a of d.spf?.a ?? []) linkName(name, a);
    for (const uri of [...(d.dmarc?.rua ?? []), ...(d.dmarc?.ruf ?? []), ...(d.tlsRpt?.rua ?? []), ...(d.rua ?? [])]) linkName(name, mailtoReportHost(uri));
  }
  mailHosts.forEach((host) => {
    const unknown = host.domains.filter((d) => !zones.has(canonicalName(d)));
    if (unknown.length > 0) throw new Error(`mail host ${host.hostname} serves ${unknown.join(", ")}, not domains of the estate`);
    const first = canonicalName(host.domains[0]);
    for (const d of host.domains) units.union(first, canonicalName(d));
    linkName(first, host.hostname);
  });

  const groups = units.groups();
  const unitOf = (domain: string) => units.find(canonicalName(domain));
  const hostsByUnit = new Map<string, number[]>();
  mailHosts.forEach((host, i) => {
    const u = unitOf(host.domains[0]);
    hostsByUnit.set(u, [...(hostsByUnit.get(u) ?? []), i]);
  });
  const members = new Map(groups.map((g) => [g[0], g]));
  const inShards = new Set(shards);
  /** The estate shard holding most of a unit's domains now (ties by name), unless rebalancing. */
  const where = (unit: string): string | undefined => {
    if (placement.rebalance || !placement.current) return undefined;
    const counts = new Map<string, number>();
    for (const d of members.get(unit) ?? []) for (const s of placement.current.get(d) ?? []) if (inShards.has(s)) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0];
  };
  const unitShard = new Map<string, string>();
  const hostShard = new Map<number, string>();
  const shardHasHost = new Set<string>();
  // Units with a mail host first, in name order: each takes its best shard without a host.
  for (const [unit, hosts] of [...hostsByUnit].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (hosts.length > 1) {
      throw new Error(
        `mail hosts ${hosts.map((i) => mailHosts[i].hostname).join(" and ")} serve domains that must share one stack (through ${unit}), and a stack runs one mail host; give each host domains of its own`,
      );
    }
    const now = where(unit);
    const shard = now && !shardHasHost.has(now) ? now : ranking(unit, shards).find((s) => !shardHasHost.has(s));
    if (!shard) throw new Error(`${mailHosts.length} mail hosts need ${mailHosts.length} stacks, one each, and the estate has ${shards.length}; raise shardCount to at least ${mailHosts.length}`);
    shardHasHost.add(shard);
    unitShard.set(unit, shard);
    hostShard.set(hosts[0], shard);
  }
  for (const group of groups) if (!unitShard.has(group[0])) unitShard.set(group[0], where(group[0]) ?? ranking(group[0], shards)[0]);
  const domainShard = new Map<string, string>();
  for (const group of groups) for (const d of group) domainShard.set(d, unitShard.get(group[0])!);
  return { shards, domainShard, hostShard, units: groups };
}
