import { checkMtaStsPolicy, checkMtaStsRecord, checkMtaStsRecordSet } from "../../../components/dns/protocols/mta-sts";
import { checkTlsRpt } from "../../../components/dns/protocols/tls-rpt";
import type { Lookup } from "../dns";
import { check, fromFindings, isEmpty, unanswered, type Check } from "./check";

/** Transport security: MTA-STS record and policy, TLS-RPT, STARTTLS and certificates on the MX hosts. */

/** `mta-sts.record`. `required` (the plan has one) makes absence a failure; otherwise it warns. */
export function mtaStsRecordCheck(domain: string, answer: Lookup<string[]>, required: boolean): Check {
  const id = "mta-sts.record";
  if (!answer.ok && !isEmpty(answer)) return unanswered(id, domain, answer);
  const values = (answer.ok ? answer.value : []).filter((v) => /^v=STSv1/.test(v));
  if (values.length === 0) {
    return check(id, domain, required ? "fail" : "warn", `no MTA-STS record at _mta-sts.${domain}: senders may deliver without TLS; publish a policy (RFC 8461)`);
  }
  const set = checkMtaStsRecordSet(values);
  if (set.length > 0) return fromFindings(id, domain, set, "");
  return fromFindings(id, domain, checkMtaStsRecord(values[0]), `MTA-STS record "${values[0]}" is valid`);
}

export type Fetched = { ok: true; text: string } | { ok: false; message: string };

/**
 * `mta-sts.policy`: the file at https://mta-sts.<domain>/.well-known/mta-sts.txt
 * judged by checkMtaStsPolicy and, with a plan, compared to the planned text
 * (line endings aside). Undefined `fetched` means it was not fetched.
 */
export function mtaStsPolicyCheck(domain: string, fetched: Fetched | undefined, planned?: string): Check {
  const id = "mta-sts.policy";
  const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
  if (!fetched) return check(id, domain, "warn", `${url} not checked; pass --tls to fetch and compare it`);
  if (!fetched.ok) return check(id, domain, "fail", `${url}: ${fetched.message}; senders ignore the MTA-STS record until the policy is served`);
  const rules = fromFindings(id, domain, checkMtaStsPolicy(fetched.text), `${url} is a valid policy`);
  if (rules.status === "fail" || planned === undefined) return rules;
  const lines = (t: string) => t.split(/\r?\n/).filter((l) => l !== "");
  if (lines(fetched.text).join("\n") !== lines(planned).join("\n")) {
    return check(id, domain, "fail", `${url} differs from the planned policy (served: ${JSON.stringify(fetched.text)}); upload the policy the plan prints`);
  }
  return rules.status === "pass" ? check(id, domain, "pass", `${url} matches the plan`) : rules;
}

/** `tls-rpt.valid`; absence fails when the plan has one, warns otherwise. */
export function tlsRptCheck(domain: string, answer: Lookup<string[]>, required: boolean): Check {
  const id = "tls-rpt.valid";
  if (!answer.ok && !isEmpty(answer)) return unanswered(id, domain, answer);
  const values = (answer.ok ? answer.value : []).filter((v) => /^v=TLSRPTv1/.test(v));
  if (values.length === 0) {
    return check(id, domain, required ? "fail" : "warn", `no TLS-RPT record at _smtp._tls.${domain}: nobody hears about TLS failures; publish "v=TLSRPTv1; rua=mailto:..." (RFC 8460)`);
  }
  if (values.length > 1) return check(id, domain, "fail", `${values.length} TLS-RPT records at _smtp._tls.${domain}; keep exactly one`);
  return fromFindings(id, domain, checkTlsRpt(values[0]), `TLS-RPT record "${values[0]}" is valid`);
}

export interface SmtpProbeResult {
  /** Where it connected, "host:port". */
  target: string;
  /** Why there was no EHLO answer: connection refused, timeout, a non-220 greeting. */
  error?: string;
  /** EHLO keywords the server listed (upper-case), e.g. ["PIPELINING", "STARTTLS"]. */
  extensions?: string[];
  /** With --tls: the certificate check after STARTTLS, or undefined when not attempted. */
  certificate?: { ok: true; subject: string } | { ok: false; message: string };
}

/**
 * `starttls.<mx host>`: the MX offers STARTTLS. Without it mail to the domain
 * travels in clear text: a best-practice gap (RFC 3207 makes STARTTLS
 * optional), so a warning; under an enforced MTA-STS policy senders refuse
 * the MX altogether (RFC 8461 §5), so a failure. Unreachable warns (port 25
 * is often blocked where verify runs).
 */
export function starttlsCheck(domain: string, host: string, probe: SmtpProbeResult, mtaStsEnforced = false): Check {
  const id = `starttls.${host}`;
  if (probe.error !== undefined) return check(id, domain, "warn", `could not read EHLO from ${host} at ${probe.target}: ${probe.error}; STARTTLS not checked (outbound port 25 may be blocked here)`);
  if (probe.extensions!.includes("STARTTLS")) return check(id, domain, "pass", `${host} offers STARTTLS`);
  const offered = probe.extensions!.join(", ") || "no extensions";
  return mtaStsEnforced
    ? check(id, domain, "fail", `${host} at ${probe.target} does not offer STARTTLS in its EHLO answer (${offered}), and ${domain}'s MTA-STS policy is enforce: senders refuse to deliver to it (RFC 8461 §5). Enable TLS on the server`)
    : check(id, domain, "warn", `${host} at ${probe.target} does not offer STARTTLS in its EHLO answer (${offered}); mail to ${domain} travels in clear text (RFC 3207 makes TLS optional). Enable TLS on the server`);
}

/** `tls.cert.<mx host>`: the certificate must be valid for the MX host name; "not checked" without --tls. */
export function certificateCheck(domain: string, host: string, probe: SmtpProbeResult, tlsRequested: boolean): Check {
  const id = `tls.cert.${host}`;
  if (!tlsRequested) return check(id, domain, "warn", `certificate of ${host} not checked; pass --tls to check it`);
  if (probe.error !== undefined) return check(id, domain, "warn", `certificate of ${host} not checked: ${probe.error}`);
  if (!probe.extensions!.includes("STARTTLS")) return check(id, domain, "fail", `${host} offers no STARTTLS, so it has no certificate to check`);
  if (!probe.certificate) return check(id, domain, "warn", `certificate of ${host} not checked: no TLS handshake was made`);
  if (probe.certificate.ok) return check(id, domain, "pass", `certificate of ${host} is valid for it (${probe.certificate.subject})`);
  return check(id, domain, "fail", `certificate of ${host}: ${probe.certificate.message}; MTA-STS senders refuse delivery to it`);
}
