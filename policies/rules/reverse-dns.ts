import { canonicalName } from "../../components/dns/model";
import { MAIL_DOMAIN_TYPE } from "../../components/type-tokens";
import type { StackResource } from "../model/resources";
import type { StackView, ViewMailHost, ViewRecord } from "../model/view";
import { eipAddress, reverseDnsOf, sendingEips } from "./host-support";
import type { Rule, Violation } from "./rule";

const eipLabel = (eip: StackResource, host?: ViewMailHost) => (host ? `${host.hostname}: Elastic IP ${eip.name}` : `Elastic IP ${eip.name}`);

/** Whether an A record is the forward record of the address: same known value, else it is built from the EIP. */
function pointsAt(record: ViewRecord, eip: StackResource): boolean {
  const address = eipAddress(eip);
  if (record.value !== undefined && address !== undefined) return record.value.trim() === address;
  return record.resource.dependencies.includes(eip.urn);
}

export const ptrFcrdns: Rule = {
  name: "ptr-fcrdns",
  group: "Reverse DNS",
  profile: "baseline",
  description:
    "Every Elastic IP that sends mail has reverse DNS (EipDomainName) whose name has an A record in the stack pointing back at it (FCrDNS), is the mail host's HELO name, and is created after that A record.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "RFC 1912 §2.1; RFC 8601 §3 (iprev); RFC 5321 §4.1.4; Gmail sender guidelines (550-5.7.25)",
  check(view) {
    const violations: Violation[] = [];
    for (const { eip, host } of sendingEips(view)) {
      const label = eipLabel(eip, host);
      const ptrs = reverseDnsOf(view, eip);
      if (ptrs.length === 0) {
        const name = host?.hostname ?? "<the host's HELO name>";
        violations.push({
          message: `${label} sends mail but has no reverse DNS (no aws.ec2.EipDomainName for it), so its PTR is Amazon's generic name and Gmail rejects its mail (550-5.7.25); add an EipDomainName with allocationId of ${eip.name} and domainName ${name}, created after the A record ${name} → the address`,
          urn: eip.urn,
        });
        continue;
      }
      for (const ptr of ptrs) violations.push(...judgeReverseDns(view, eip, ptr, label, host));
    }
    return violations;
  },
};

function judgeReverseDns(view: StackView, eip: StackResource, ptr: StackResource, label: string, host?: ViewMailHost): Violation[] {
  if (typeof ptr.props.domainName !== "string") return [];
  const name = canonicalName(ptr.props.domainName);
  const out: Violation[] = [];
  if (host && name !== host.hostname) {
    out.push({
      message: `${label}: reverse DNS ${ptr.name} names ${name}, but the host says HELO ${host.hostname}; receivers compare the two (RFC 5321 §4.1.4) and the PTR should name the host; set the EipDomainName's domainName to ${host.hostname}`,
      urn: ptr.urn,
    });
  }
  const forward = view.recordsAt(name, "A");
  const match = forward.find((r) => pointsAt(r, eip));
  if (!match) {
    // A record whose name is unknown at preview and which is built from this address may be the one.
    if (view.unreadable.some((r) => r.dependencies.includes(eip.urn))) return out;
    const address = eipAddress(eip) ?? "its address";
    const found = forward.length === 0 ? `${name} has no A record in this stack` : `the A record at ${name} holds ${forward.map((r) => r.value ?? "another address").join(", ")}`;
    out.push({
      message: `${label}: reverse DNS ${ptr.name} names ${name}, but ${found}; forward-confirmed reverse DNS fails (the PTR name must resolve back to the address, RFC 8601 iprev) and EC2 refuses the PTR; publish A ${name} → ${address} (the Elastic IP's publicIp) in this stack`,
      urn: ptr.urn,
    });
    return out;
  }
  if (match.proxied) {
    out.push({
      message: `${label}: reverse DNS ${ptr.name} names ${name}, whose A record ${match.resource.name} is proxied by Cloudflare, so resolvers get Cloudflare's addresses, not the Elastic IP, and forward-confirmed reverse DNS fails; set proxied: false on ${match.resource.name} (mail is not HTTP: it cannot go through the proxy)`,
      urn: match.resource.urn,
    });
  }
  const mailDomain = match.resource.parent !== undefined && view.resource(match.resource.parent)?.type === MAIL_DOMAIN_TYPE ? match.resource.parent : undefined;
  const ordered = ptr.dependencies.includes(match.resource.urn) || (mailDomain !== undefined && ptr.dependencies.includes(mailDomain));
  if (!ordered) {
    out.push({
      message: `${label}: reverse DNS ${ptr.name} (${name}) does not depend on the A record ${match.resource.name} (${name} → ${match.value ?? "the address"}), so Pulumi may create it first and EC2 refuses a PTR whose name does not resolve to the address yet; add dependsOn: [${mailDomain ? "the MailDomain that publishes it" : match.resource.name}] to the EipDomainName (MailHost.publishReverseDns(<that MailDomain>))`,
      urn: ptr.urn,
    });
  }
  return out;
}

export const eipProtected: Rule = {
  name: "eip-protected",
  group: "Reverse DNS",
  profile: "baseline",
  description: "Every Elastic IP that sends mail is protected, so a replace or a stray destroy cannot lose the address and its reputation.",
  enforcementLevel: "mandatory",
  severity: "high",
  source: "Pulumi resource option protect; the address carries the sender's reputation and its PTR (M3AAWG sending BCP)",
  check(view) {
    return sendingEips(view)
      .filter(({ eip }) => !eip.protect)
      .map(({ eip, host }) => ({
        message: `${eipLabel(eip, host)} sends mail but is not protected; a replace or a stray \`pulumi destroy\` releases the address, its reverse DNS and the reputation receivers keep for it (weeks of warm-up to rebuild); set protect: true on it (MailHost: protectAddress: true), and retainOnDelete: true`,
        urn: eip.urn,
      }));
  },
};

export const REVERSE_DNS_RULES = [ptrFcrdns, eipProtected];
