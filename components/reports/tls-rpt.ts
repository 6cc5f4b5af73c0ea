import { ReportRefused } from "./dmarc-aggregate";

/**
 * SMTP TLS reports (RFC 8460): who reported, the span, and for each policy
 * (MTA-STS, DANE, or none) the sessions that succeeded and failed, each
 * failure with its type and the MX it was about. A report that is not one is
 * refused with the reason (ReportRefused). Pure.
 */

/** RFC 8460 §4.3's result types. */
export const TLS_RESULT_TYPES = [
  "starttls-not-supported",
  "certificate-host-mismatch",
  "certificate-expired",
  "certificate-not-trusted",
  "validation-failure",
  "tlsa-invalid",
  "dnssec-invalid",
  "dane-required",
  "sts-policy-fetch-error",
  "sts-policy-invalid",
  "sts-webpki-invalid",
] as const;

/** One policy's part of a TLS report (RFC 8460 §4.4): the policy applied, its sessions and failure details. */
export interface TlsReportPolicy {
  type: string;
  domain: string;
  mxHosts: string[];
  /** The policy's lines, as the reporter fetched it (MTA-STS). */
  policyString: string[];
  successfulSessions: number;
  failedSessions: number;
  failures: { resultType: string; sendingMtaIp?: string; receivingMx?: string; receivingIp?: string; sessions: number; reasonCode?: string }[];
}

/** One TLS report. */
export interface TlsReport {
  /** Who the host proved sent it (its From domain, when it came by mail and authenticated). */
  reporter?: string;
  orgName: string;
  reportId: string;
  contact?: string;
  begin: string;
  end: string;
  policies: TlsReportPolicy[];
}

const object = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function count(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new ReportRefused(`${where} = ${JSON.stringify(v)?.slice(0, 40)}: not a count`);
  return v;
}

function string(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") throw new ReportRefused(`${where} is missing: not an SMTP TLS report (RFC 8460)`);
  return v;
}

function datetime(v: unknown, where: string): string {
  const text = string(v, where);
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new ReportRefused(`${where} = ${JSON.stringify(text.slice(0, 40))}: not an RFC 3339 date-time`);
  return new Date(ms).toISOString();
}

/** Reads one report's JSON text. */
export function parseTlsReport(json: string): TlsReport {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new ReportRefused(`not JSON: ${(error as Error).message}`);
  }
  if (!object(value)) throw new ReportRefused("not a JSON object: not an SMTP TLS report (RFC 8460)");
  const range = value["date-range"];
  if (!object(range)) throw new ReportRefused("date-range is missing: not an SMTP TLS report (RFC 8460)");
  const begin = datetime(range["start-datetime"], "date-range.start-datetime");
  const end = datetime(range["end-datetime"], "date-range.end-datetime");
  if (end < begin) throw new ReportRefused(`date-range: end ${end} is before start ${begin}`);
  if (!Array.isArray(value.policies)) throw new ReportRefused("policies is missing: not an SMTP TLS report (RFC 8460)");
  const policies = value.policies.map((p: unknown, i: number): TlsReportPolicy => {
    const where = `policies[${i}]`;
    if (!object(p) || !object(p.policy) || !object(p.summary)) throw new ReportRefused(`${where}: needs policy and summary`);
    const failures = Array.isArray(p["failure-details"]) ? p["failure-details"] : [];
    return {
      type: string(p.policy["policy-type"], `${where}.policy.policy-type`),
      domain: string(p.policy["policy-domain"], `${where}.policy.policy-domain`).toLowerCase(),
      mxHosts: Array.isArray(p.policy["mx-host"]) ? p.policy["mx-host"].filter((h): h is string => typeof h === "string") : [],
      policyString: Array.isArray(p.policy["policy-string"]) ? p.policy["policy-string"].filter((h): h is string => typeof h === "string") : [],
      successfulSessions: count(p.summary["total-successful-session-count"], `${where}.summary.total-successful-session-count`),
      failedSessions: count(p.summary["total-failure-session-count"], `${where}.summary.total-failure-session-count`),
      failures: failures.map((f: unknown, k: number) => {
        const at = `${where}.failure-details[${k}]`;
        if (!object(f)) throw new ReportRefused(`${at}: not an object`);
        const opt = (key: string) => (typeof f[key] === "string" && f[key] !== "" ? { [key]: f[key] as string } : {});
        const { "sending-mta-ip": sendingMtaIp, "receiving-mx-hostname": receivingMx, "receiving-ip": receivingIp, "failure-reason-code": reasonCode } = {
          ...opt("sending-mta-ip"),
          ...opt("receiving-mx-hostname"),
          ...opt("receiving-ip"),
          ...opt("failure-reason-code"),
        } as Record<string, string | undefined>;
        return {
          resultType: string(f["result-type"], `${at}.result-type`),
          ...(sendingMtaIp ? { sendingMtaIp } : {}),
          ...(receivingMx ? { receivingMx: receivingMx.toLowerCase() } : {}),
          ...(receivingIp ? { receivingIp } : {}),
          sessions: count(f["failed-session-count"], `${at}.failed-session-count`),
          ...(reasonCode ? { reasonCode } : {}),
        };
      }),
    };
  });
  const contact = typeof value["contact-info"] === "string" ? value["contact-info"] : undefined;
  return {
    orgName: string(value["organization-name"], "organization-name"),
    reportId: string(value["report-id"], "report-id"),
    ...(contact ? { contact } : {}),
    begin,
    end,
    policies,
  };
}
