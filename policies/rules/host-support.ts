import { canonicalName } from "../../components/dns/model";
import { isUnknown, type StackResource } from "../model/resources";
import { EIP, EIP_DOMAIN_NAME, SECURITY_GROUP, SECURITY_GROUP_RULE, VPC_INGRESS_RULE, type StackView, type ViewMailHost } from "../model/view";

/**
 * What the DKIM, reverse-DNS, receiving, host and bulk-sender rules share:
 * who owns a resource, which addresses send, which firewall rules let whom
 * in, which hosts are MX. Plain functions over the StackView; nothing here
 * reports, and a value unknown at preview is never guessed.
 */

/** The resource's parent, its parent's parent... nearest first. */
export function ancestors(view: StackView, resource: StackResource): StackResource[] {
  const out: StackResource[] = [];
  const seen = new Set<string>([resource.urn]);
  for (let urn = resource.parent; urn !== undefined && !seen.has(urn); ) {
    const parent = view.resource(urn);
    if (!parent) break;
    out.push(parent);
    seen.add(urn);
    urn = parent.parent;
  }
  return out;
}

/** The mail host a resource belongs to (it, its parent or an ancestor is the MailHost component). */
export function mailHostOf(view: StackView, resource: StackResource): ViewMailHost | undefined {
  const chain = [resource, ...ancestors(view, resource)];
  return view.mailHosts.find((h) => chain.some((r) => r.urn === h.resource.urn));
}

/** How a message names a resource: `mail.example.com: instance mail.example.com-instance` or `instance relay`. */
export function subject(view: StackView, resource: StackResource, what: string): string {
  const host = mailHostOf(view, resource);
  return host ? `${host.hostname}: ${what} ${resource.name}` : `${what} ${resource.name}`;
}

// ---------------------------------------------------------------- addresses

/** An Elastic IP's address, when known (`publicIp`, or the BYOIP `address` it was asked for). */
export function eipAddress(eip: StackResource): string | undefined {
  for (const key of ["publicIp", "address"]) {
    const value = eip.props[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/** The EipDomainName resources (reverse DNS) of an Elastic IP: by dependency, or by the same known allocationId. */
export function reverseDnsOf(view: StackView, eip: StackResource): StackResource[] {
  const allocationId = typeof eip.props.allocationId === "string" ? eip.props.allocationId : undefined;
  return view
    .ofType(EIP_DOMAIN_NAME)
    .filter((ptr) => ptr.dependencies.includes(eip.urn) || (allocationId !== undefined && ptr.props.allocationId === allocationId));
}

/** The Elastic IPs that send mail: each child of a MailHost, and any other with reverse DNS set. */
export function sendingEips(view: StackView): { eip: StackResource; host?: ViewMailHost }[] {
  return view
    .ofType(EIP)
    .map((eip) => ({ eip, host: mailHostOf(view, eip) }))
    .filter(({ eip, host }) => host !== undefined || reverseDnsOf(view, eip).length > 0);
}

// ---------------------------------------------------------------- firewalls

/** One inbound permission, from an inline rule of a security group or a standalone rule resource. */
export interface Ingress {
  /** The resource that holds it: the group (inline) or the rule resource. */
  resource: StackResource;
  /** The group it opens, when known: the group itself, or the group a standalone rule depends on. */
  group?: StackResource;
  /** `ingress[1]` for an inline rule, the resource name for a standalone one. */
  label: string;
  protocol: string;
  fromPort: number;
  toPort: number;
  /** Known source ranges, IPv4 and IPv6. */
  ranges: string[];
}

/**
 * Every inbound permission whose protocol and ports are known: inline
 * `ingress` of aws:ec2 SecurityGroup, SecurityGroupRule of type ingress and
 * aws:vpc SecurityGroupIngressRule. Unknown entries are left out: a rule
 * cannot judge them.
 */
export function ingressRules(view: StackView): Ingress[] {
  const out: Ingress[] = [];
  const groupOf = (rule: StackResource) => rule.dependencies.map((urn) => view.resource(urn)).find((r) => r?.type === SECURITY_GROUP);
  for (const group of view.ofType(SECURITY_GROUP)) {
    const inline = group.props.ingress;
    if (!Array.isArray(inline)) continue;
    inline.forEach((entry, i) => {
      if (!entry || typeof entry !== "object" || isUnknown(entry)) return;
      const e = entry as Record<string, unknown>;
      const ingress = permission(group, group, `ingress[${i}]`, e.protocol, e.fromPort, e.toPort, [e.cidrBlocks, e.ipv6CidrBlocks]);
      if (ingress) out.push(ingress);
    });
  }
  for (const rule of view.ofType(SECURITY_GROUP_RULE)) {
    const p = rule.props;
    if (p.type !== "ingress") continue;
    const ingress = permission(rule, groupOf(rule), rule.name, p.protocol, p.fromPort, p.toPort, [p.cidrBlocks, p.ipv6CidrBlocks]);
    if (ingress) out.push(ingress);
  }
  for (const rule of view.ofType(VPC_INGRESS_RULE)) {
    const p = rule.props;
    const ingress = permission(rule, groupOf(rule), rule.name, p.ipProtocol, p.fromPort, p.toPort, [[p.cidrIpv4], [p.cidrIpv6]]);
    if (ingress) out.push(ingress);
  }
  return out;
}

function permission(
  resource: StackResource,
  group: StackResource | undefined,
  label: string,
  protocol: unknown,
  fromPort: unknown,
  toPort: unknown,
  rangeLists: unknown[],
): Ingress | undefined {
  if (typeof protocol !== "string" && typeof protocol !== "number") return undefined;
  const proto = String(protocol).toLowerCase();
  const allTraffic = proto === "-1" || proto === "all";
  if (!allTraffic && (typeof fromPort !== "number" || typeof toPort !== "number")) return undefined;
  const ranges = rangeLists.flatMap((list) => (Array.isArray(list) ? list.filter((r): r is string => typeof r === "string") : []));
  return {
    resource,
    group,
    label,
    protocol: allTraffic ? "all" : proto,
    fromPort: allTraffic ? 0 : (fromPort as number),
    toPort: allTraffic ? 65535 : (toPort as number),
    ranges,
  };
}

/** Whether the permission lets TCP in on the port (all traffic included). */
export function opensTcpPort(ingress: Ingress, port: number): boolean {
  const tcp = ingress.protocol === "all" || ingress.protocol === "tcp" || ingress.protocol === "6";
  return tcp && ingress.fromPort <= port && port <= ingress.toPort;
}

/** The source ranges of the permission that are the whole internet: any range of prefix length 0 (`0.0.0.0/0`, `::/0`). */
export function worldRanges(ingress: Ingress): string[] {
  return ingress.ranges.filter((r) => /\/0+$/.test(r.trim()));
}

/** How a message shows a permission: `tcp 20-25` or `all traffic`. */
export function describePorts(ingress: Ingress): string {
  if (ingress.protocol === "all") return "all traffic";
  return ingress.fromPort === ingress.toPort ? `${ingress.protocol} ${ingress.fromPort}` : `${ingress.protocol} ${ingress.fromPort}-${ingress.toPort}`;
}

/** The security groups attached to a resource (an instance): the groups it depends on. */
export function groupsOf(view: StackView, resource: StackResource): StackResource[] {
  return resource.dependencies.map((urn) => view.resource(urn)).filter((r): r is StackResource => r?.type === SECURITY_GROUP);
}

// ---------------------------------------------------------------- MX

/** Every MX exchange in the stack with the domains that name it, and whether some MX value is unknown. */
export function mxExchanges(view: StackView): { byHost: Map<string, string[]>; unknown: boolean } {
  const byHost = new Map<string, string[]>();
  let unknown = view.unreadable.length > 0;
  for (const r of view.records) {
    if (r.type !== "MX") continue;
    const exchange = r.value === undefined ? undefined : mxExchange(r.value);
    if (exchange === undefined) {
      unknown = true;
      continue;
    }
    if (exchange !== ".") byHost.set(exchange, [...(byHost.get(exchange) ?? []), r.name]);
  }
  return { byHost, unknown };
}

/** The exchange of an MX value `10 mail.example.com`, canonical. */
export function mxExchange(value: string): string | undefined {
  const exchange = value.trim().split(/\s+/)[1];
  return exchange === undefined ? undefined : canonicalName(exchange) || ".";
}
