import { canonicalName } from "../../components/dns/model";
import { isDmarcValue, isSpfValue } from "../../components/dns/protocols";
import { DKIM_KEY_TYPE, MAIL_DOMAIN_TYPE, MAIL_HOST_TYPE, STACK_SETTINGS_TYPE } from "../../components/type-tokens";
import type { WarmupSchedule } from "../../components/sending/warmup";
import { cloudflareTxtStrings } from "../../components/dns/providers/cloudflare-encoding";
import { unescapeRoute53Strings } from "../../components/dns/providers/route53-encoding";
import { isUnknown, stackOfUrn, type StackResource } from "./resources";

/**
 * What the rules judge: the stack's resources decoded once into DNS records,
 * mail hosts, addresses, instances, firewalls and keys, with the lookups the
 * rules share (records at a name, the zone of a name, the sending domains).
 * Built from any StackResource list, so the same rules run in `pulumi
 * preview`, in `postforge plan` and in the tests.
 */

export const CLOUDFLARE_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
/** Cloudflare's older record resource, still shipped by @pulumi/cloudflare v6 (`value` or `content`). */
export const CLOUDFLARE_LEGACY_RECORD = "cloudflare:index/record:Record";
export const CLOUDFLARE_ZONE = "cloudflare:index/zone:Zone";
export const ROUTE53_ZONE = "aws:route53/zone:Zone";
export const ROUTE53_RECORD = "aws:route53/record:Record";
export const EIP = "aws:ec2/eip:Eip";
export const EIP_DOMAIN_NAME = "aws:ec2/eipDomainName:EipDomainName";
export const INSTANCE = "aws:ec2/instance:Instance";
export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
export const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const SECRET = "aws:secretsmanager/secret:Secret";
export const SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion";

/** One DNS record as published, with where it comes from. */
export interface ViewRecord {
  name: string;
  type: string;
  ttl?: number;
  /**
   * The record's value as a zone file would show it, except TXT, which is the
   * concatenation of its strings (what receivers read); undefined when unknown.
   */
  value?: string;
  /** TXT character-strings, when known. */
  strings?: string[];
  /** Cloudflare proxies it: resolvers get Cloudflare's addresses, not this value. */
  proxied?: boolean;
  /** TXT content that does not parse as character-strings; `value` is then the raw content. */
  malformed?: boolean;
  /**
   * Route53 routing policies (weighted, latency, geolocation...) publish one
   * set per identifier at a name, and a resolver gets one of them: records in
   * different sets are alternatives, not a second record.
   */
  setIdentifier?: string;
  /** The provider resource that publishes it. */
  resource: StackResource;
}

/** The stack-wide settings index.ts records (components/config/stack-settings.ts). */
export interface ViewSettings {
  environment?: string;
  dmarcMode?: string;
  spfIncludeCosts: Record<string, number>;
}

export interface ViewMailHost {
  resource: StackResource;
  hostname: string;
  domains: string[];
  mailboxes: string[];
  feedbackLoopAddresses: string[];
  /** `domain/selector` of every key it signs with. */
  signingKeys: string[];
  /** Its children (EIP, instance, security group, PTR...). */
  children: StackResource[];
  /** Its address's warm-up schedule, when it has one. */
  warmup?: WarmupSchedule;
  /** The day its address started sending, when the config says it is warm already. */
  sendingSince?: string;
}

export interface ViewDkimKey {
  resource: StackResource;
  domain: string;
  selector: string;
  algorithm: string;
  bits: number;
  state: string;
  allowLegacy1024: boolean;
}

export interface ViewMailDomain {
  resource: StackResource;
  domain: string;
  mtaStsPolicy?: string;
}

export class StackView {
  readonly stack: string;
  readonly records: ViewRecord[] = [];
  /** Records whose name could not be read (unknown at preview), by resource. */
  readonly unreadable: StackResource[] = [];
  readonly mailDomains: ViewMailDomain[] = [];
  readonly mailHosts: ViewMailHost[] = [];
  readonly dkimKeys: ViewDkimKey[] = [];
  /** Absent when the stack was not made by Postforge's index.ts. */
  readonly settings?: ViewSettings;
  /** Zones declared by zone resources (Route53 or Cloudflare), by URN. */
  private readonly zoneResources = new Map<string, string>();
  private readonly byUrn = new Map<string, StackResource>();
  private readonly byName = new Map<string, ViewRecord[]>();
  private readonly byParent = new Map<string, StackResource[]>();
  private readonly mailDomainByUrn = new Map<string, ViewMailDomain>();
  // Computed once: rules ask for these per domain, and a stack may have a thousand domains.
  private zoneSet?: Set<string>;
  private liveSelectors?: Map<string, string[]>;
  private sending?: string[];

  constructor(readonly resources: StackResource[]) {
    this.stack = resources.length > 0 ? stackOfUrn(resources[0].urn) : "";
    for (const r of resources) {
      this.byUrn.set(r.urn, r);
      if (r.parent) pushTo(this.byParent, r.parent, r);
    }
    for (const r of resources) {
      if (r.type === MAIL_DOMAIN_TYPE && typeof r.props.domain === "string") {
        const mailDomain = { resource: r, domain: canonicalName(r.props.domain), mtaStsPolicy: stringOrUndefined(r.props.mtaStsPolicy) };
        this.mailDomains.push(mailDomain);
        this.mailDomainByUrn.set(r.urn, mailDomain);
      } else if ((r.type === ROUTE53_ZONE || r.type === CLOUDFLARE_ZONE) && typeof (r.props.name ?? r.props.zone) === "string") {
        this.zoneResources.set(r.urn, canonicalName(String(r.props.name ?? r.props.zone)));
      } else if (r.type === STACK_SETTINGS_TYPE) {
        const costs = r.props.spfIncludeCosts;
        this.settings = {
          environment: stringOrUndefined(r.props.environment),
          dmarcMode: stringOrUndefined(r.props.dmarcMode),
          spfIncludeCosts: costs && typeof costs === "object" && !isUnknown(costs) ? (costs as Record<string, number>) : {},
        };
      }
    }
    for (const r of resources) {
      // One odd hand-made resource must not stop every rule: what cannot be read is set aside, named.
      try {
        if (r.type === CLOUDFLARE_RECORD || r.type === CLOUDFLARE_LEGACY_RECORD || r.type === ROUTE53_RECORD) this.addRecords(r);
        else if (r.type === MAIL_HOST_TYPE) this.addMailHost(r);
        else if (r.type === DKIM_KEY_TYPE) this.addDkimKey(r);
      } catch {
        this.unreadable.push(r);
      }
    }
  }

  resource(urn: string): StackResource | undefined {
    return this.byUrn.get(urn);
  }

  ofType(type: string): StackResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  childrenOf(urn: string): StackResource[] {
    return this.byParent.get(urn) ?? [];
  }

  /** Every record at a name, optionally of one type. */
  recordsAt(name: string, type?: string): ViewRecord[] {
    const all = this.byName.get(canonicalName(name)) ?? [];
    return type ? all.filter((r) => r.type === type) : all;
  }

  /** TXT records at a name whose value is known and passes `test` (e.g. isSpfValue). */
  txtAt(name: string, test: (value: string) => boolean): ViewRecord[] {
    return this.recordsAt(name, "TXT").filter((r) => r.value !== undefined && test(r.value));
  }

  /** Whether any TXT record at the name is still unknown, so a rule cannot tell what it holds. */
  hasUnknownTxt(name: string): boolean {
    return this.recordsAt(name, "TXT").some((r) => r.value === undefined);
  }

  /** The zones the stack manages: each MailDomain's apex, else the names records were published under. */
  get zones(): string[] {
    return [...this.zoneNames()];
  }

  private zoneNames(): Set<string> {
    this.zoneSet ??= new Set([...this.mailDomains.map((d) => d.domain), ...this.zoneResources.values()]);
    return this.zoneSet;
  }

  /** The longest managed zone that is the name or a parent of it. */
  zoneOf(name: string): string | undefined {
    this.zoneSet = this.zoneNames();
    const labels = canonicalName(name).split(".");
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join(".");
      if (this.zoneSet.has(candidate)) return candidate;
    }
    return undefined;
  }

  /** Whether the stack is authoritative for the name, so a missing record there really is missing. */
  manages(name: string): boolean {
    return this.zoneOf(name) !== undefined;
  }

  /**
   * The records one resolver could get together: those of the largest group
   * sharing a Route53 set identifier (records without one form a group). Used
   * to tell a real second record from an alternative routing set.
   */
  answeredTogether(records: ViewRecord[]): ViewRecord[] {
    const groups = new Map<string, ViewRecord[]>();
    for (const r of records) pushTo(groups, r.setIdentifier ?? "", r);
    return [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  }

  /** SPF values at a name (known ones). */
  spfAt(name: string): ViewRecord[] {
    return this.txtAt(name, isSpfValue);
  }

  dmarcAt(domain: string): ViewRecord[] {
    return this.txtAt(`_dmarc.${domain}`, isDmarcValue);
  }

  /**
   * A domain that must never send: null MX, or `v=spf1 -all` with no live
   * DKIM key (M3AAWG's parked set).
   */
  isParked(domain: string): boolean {
    const mx = this.recordsAt(domain, "MX");
    const nullMx = mx.length === 1 && /^0 \.?$/.test(mx[0].value ?? "");
    const spf = this.spfAt(domain).map((r) => r.value!.trim().toLowerCase());
    const spfNone = spf.length === 1 && spf[0] === "v=spf1 -all";
    return nullMx || (spfNone && this.liveDkimSelectors(domain).length === 0);
  }

  /** Selectors at `<selector>._domainkey.<domain>` whose key is not revoked (or not known yet). */
  liveDkimSelectors(domain: string): string[] {
    if (!this.liveSelectors) {
      this.liveSelectors = new Map();
      for (const r of this.records) {
        const at = r.name.indexOf("._domainkey.");
        if (r.type !== "TXT" || at < 0) continue;
        const selector = r.name.slice(0, at);
        if (selector === "*" || selector.includes(".")) continue;
        if (r.value !== undefined && /(?:^|;)\s*p\s*=\s*(?:;|$)/.test(r.value)) continue;
        const owner = r.name.slice(at + "._domainkey.".length);
        const list = this.liveSelectors.get(owner) ?? [];
        if (!list.includes(selector)) list.push(selector);
        this.liveSelectors.set(owner, list);
      }
    }
    return [...(this.liveSelectors.get(canonicalName(domain)) ?? [])];
  }

  /**
   * The domains the stack sends mail for: every MailDomain apex, every domain
   * a mail host serves, and every name with its own DMARC record, unless
   * parked. A name with only a DKIM key (a subdomain used as d=) is not one:
   * its organizational domain's records cover it.
   */
  get sendingDomains(): string[] {
    if (this.sending) return [...this.sending];
    const candidates = new Set<string>([...this.mailDomains.map((d) => d.domain), ...this.mailHosts.flatMap((h) => h.domains)]);
    for (const r of this.records) {
      if (r.type === "TXT" && r.name.startsWith("_dmarc.") && r.value !== undefined && isDmarcValue(r.value)) candidates.add(r.name.slice("_dmarc.".length));
    }
    this.sending = [...candidates].filter((d) => !this.isParked(d)).sort();
    return [...this.sending];
  }

  private addRecords(resource: StackResource): void {
    const p = resource.props;
    const rawName = p.name;
    if (typeof rawName !== "string" || typeof p.type !== "string") {
      this.unreadable.push(resource);
      return;
    }
    const name = this.absoluteName(rawName, resource);
    if (name === undefined) {
      this.unreadable.push(resource);
      return;
    }
    const type = p.type.toUpperCase();
    const ttl = typeof p.ttl === "number" ? p.ttl : undefined;
    const values: { value?: string; strings?: string[]; malformed?: boolean }[] =
      resource.type === ROUTE53_RECORD ? route53Values(type, p) : [cloudflareValue(type, p)];
    const proxied = p.proxied === true;
    const setIdentifier = typeof p.setIdentifier === "string" ? p.setIdentifier : undefined;
    for (const v of values) {
      const record: ViewRecord = { name, type, ttl, ...v, ...(proxied ? { proxied } : {}), ...(setIdentifier !== undefined ? { setIdentifier } : {}), resource };
      this.records.push(record);
      pushTo(this.byName, name, record);
    }
  }

  /**
   * A record's owner name made absolute. Names written relative to their zone
   * (`@`, `mail`), as hand-made records often are, are completed with the zone
   * of the MailDomain that parents the record or of a zone resource it depends
   * on; a relative name whose zone the stack does not show cannot be placed.
   */
  private absoluteName(name: string, resource: StackResource): string | undefined {
    const zone =
      (resource.parent !== undefined ? this.mailDomainByUrn.get(resource.parent)?.domain : undefined) ??
      resource.dependencies.map((urn) => this.zoneResources.get(urn)).find((z) => z !== undefined);
    const n = canonicalName(name);
    if (zone) return n === "@" ? zone : n === zone || n.endsWith(`.${zone}`) ? n : `${n}.${zone}`;
    return n === "@" || !n.includes(".") ? undefined : n;
  }

  private addMailHost(resource: StackResource): void {
    const p = resource.props;
    if (typeof p.hostname !== "string") return;
    this.mailHosts.push({
      resource,
      hostname: canonicalName(p.hostname),
      domains: stringList(p.domains).map(canonicalName),
      mailboxes: stringList(p.mailboxes),
      feedbackLoopAddresses: stringList(p.feedbackLoopAddresses),
      signingKeys: stringList(p.signingKeys),
      children: this.childrenOf(resource.urn),
      ...(p.warmup && typeof p.warmup === "object" && typeof (p.warmup as WarmupSchedule).startDate === "string" ? { warmup: p.warmup as WarmupSchedule } : {}),
      ...(typeof p.sendingSince === "string" ? { sendingSince: p.sendingSince } : {}),
    });
  }

  private addDkimKey(resource: StackResource): void {
    const p = resource.props;
    if (typeof p.domain !== "string" || typeof p.selector !== "string") return;
    this.dkimKeys.push({
      resource,
      domain: canonicalName(p.domain),
      selector: p.selector,
      algorithm: String(p.algorithm),
      bits: Number(p.bits),
      state: String(p.state),
      allowLegacy1024: p.allowLegacy1024 === true,
    });
  }
}

function cloudflareValue(type: string, p: Record<string, unknown>): { value?: string; strings?: string[]; malformed?: boolean } {
  if (type === "CAA") {
    if (!p.data || typeof p.data !== "object" || isUnknown(p.data)) return {};
    const data = p.data as Record<string, unknown>;
    if ([data.flags, data.tag, data.value].some(isUnknown)) return {};
    return { value: `${Number(data.flags ?? 0)} ${String(data.tag)} "${String(data.value)}"` };
  }
  // The legacy Record resource takes `value` where DnsRecord takes `content`.
  const content = p.content ?? p.value;
  if (typeof content !== "string") return {};
  if (type === "TXT") return txtFromContent(content);
  if (type === "MX") {
    if (isUnknown(p.priority)) return {};
    return { value: `${Number(p.priority ?? 0)} ${canonicalName(content) || "."}` };
  }
  return { value: ["CNAME"].includes(type) ? canonicalName(content) : content };
}

/** Cloudflare TXT content: quoted character-strings, or one unquoted value Cloudflare splits at 255 octets. */
function txtFromContent(content: string): { value: string; strings: string[]; malformed?: boolean } {
  try {
    const strings = cloudflareTxtStrings(content);
    return { strings, value: strings.join("") };
  } catch {
    // An unbalanced quote: Cloudflare publishes the text as it is; judge that rather than fail every rule.
    return { strings: [content], value: content, malformed: true };
  }
}

function route53Values(type: string, p: Record<string, unknown>): { value?: string; strings?: string[] }[] {
  // An alias record (to a load balancer, a CloudFront distribution...) resolves, to addresses the stack does not show.
  if (Array.isArray(p.aliases) && p.aliases.length > 0) return [{}];
  if (!Array.isArray(p.records)) return isUnknown(p.records) ? [{}] : [];
  return p.records.map((raw) => {
    if (typeof raw !== "string") return {};
    if (type === "TXT") {
      const strings = unescapeRoute53Strings(raw);
      return { strings, value: strings.join("") };
    }
    if (type === "MX") {
      const [priority, exchange] = raw.trim().split(/\s+/);
      return { value: `${Number(priority)} ${canonicalName(exchange ?? "") || "."}` };
    }
    return { value: type === "CNAME" ? canonicalName(raw) : raw };
  });
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Append to the list under `key`, making it when absent (in place: lists here grow to thousands). */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
