/**
 * MTA-STS (RFC 8461): the policy file served at
 * https://mta-sts.<domain>/.well-known/mta-sts.txt and the `_mta-sts` TXT
 * record whose id tells senders to refetch it. The id is derived from the
 * policy text, so it changes exactly when the policy does.
 */
import { createHash } from "node:crypto";
import { TxtRecord, canonicalName } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { finding, isDomainName, ownerName, txtRecord } from "./common";

/** The name senders fetch a domain's policy from (RFC 8461 §3.3). */
export function mtaStsPolicyHost(domain: string): string {
  return `mta-sts.${domain}`;
}

/** The path of the policy file on that host (RFC 8461 §3.3). */
export const MTA_STS_POLICY_PATH = "/.well-known/mta-sts.txt";

/** An MTA-STS policy mode (RFC 8461 §5): enforce TLS, only report failures, or withdraw the policy. */
export type MtaStsMode = "enforce" | "testing" | "none";

/** What a domain's MTA-STS policy says: the mode, the MX hosts it covers and how long senders may cache it. */
export interface MtaStsIntent {
  /** enforce: refuse delivery without valid TLS; testing: report only; none: withdraw the policy. */
  mode: MtaStsMode;
  /** MX host patterns, e.g. "mx1.example.com" or "*.example.net". */
  mx: string[];
  /** Seconds senders may cache the policy (at most 31557600). */
  maxAge: number;
}

/** RFC 8461 §3.2: max_age is at most one year. */
export const MTA_STS_MAX_AGE_LIMIT = 31557600;
/** RFC 8461 recommends "weeks or greater"; below one week we warn. */
export const MTA_STS_MAX_AGE_RECOMMENDED = 604800;

const MODES = ["enforce", "testing", "none"];

/** An mx pattern: a host name, or "*." followed by one (RFC 8461 §3.2, §4.1). */
export function isMxPattern(pattern: string): boolean {
  const p = pattern.startsWith("*.") ? pattern.slice(2) : pattern;
  return isDomainName(p);
}

/** RFC 8461 §4.1: "*.example.com" matches exactly one leftmost label; otherwise names must be equal. */
export function mxPatternMatches(pattern: string, host: string): boolean {
  const p = canonicalName(pattern);
  const h = canonicalName(host);
  if (!p.startsWith("*.")) return p === h;
  const suffix = p.slice(1);
  if (!h.endsWith(suffix)) return false;
  const label = h.slice(0, -suffix.length);
  return label.length > 0 && !label.includes(".");
}

/** The policy file: CRLF lines `version`, `mode`, one `mx` per pattern, `max_age`. */
export function mtaStsPolicyText(intent: MtaStsIntent): string {
  const lines = ["version: STSv1", `mode: ${intent.mode}`, ...intent.mx.map((m) => `mx: ${canonicalName(m)}`), `max_age: ${intent.maxAge}`];
  return lines.map((l) => `${l}\r\n`).join("");
}

/** First 20 hex digits of the policy's SHA-256: alphanumeric, ≤32 characters, changes exactly with the policy. */
export function mtaStsPolicyId(policyText: string): string {
  return createHash("sha256").update(policyText, "utf8").digest("hex").slice(0, 20);
}

/**
 * Judge a policy file. Paths name the intent fields ("mode", "mx[1]",
 * "maxAge"), since the file is built one field to one line.
 */
export function checkMtaStsPolicy(text: string): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const line of lines) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) {
      findings.push(finding("mta-sts.policy.syntax", "error", `MTA-STS policy line "${line}" is not "key: value"; fix or remove it`));
      continue;
    }
    const [, key, value] = m;
    if (key === "mx") {
      mx.push(value);
      continue;
    }
    if (fields.has(key)) {
      findings.push(finding("mta-sts.policy.duplicate", "error", `MTA-STS policy field "${key}" appears more than once; keep one`));
      continue;
    }
    fields.set(key, value);
  }
  const version = fields.get("version");
  if (version !== "STSv1") {
    findings.push(finding("mta-sts.policy.version", "error", `MTA-STS policy ${version === undefined ? "has no version" : `version "${version}" is invalid`}; start it with "version: STSv1"`));
  }
  const mode = fields.get("mode");
  if (mode === undefined || !MODES.includes(mode)) {
    findings.push(finding("mta-sts.policy.mode", "error", `MTA-STS policy mode ${mode === undefined ? "is missing" : `"${mode}" is invalid`}; use enforce, testing or none`, "mode"));
  } else if (mode === "testing") {
    findings.push(finding("mta-sts.policy.testing", "info", `MTA-STS mode is "testing": failures are reported, not enforced; switch to enforce once TLS reports are clean`, "mode"));
  }
  const maxAge = fields.get("max_age");
  if (maxAge === undefined || !/^[0-9]{1,10}$/.test(maxAge) || Number(maxAge) > MTA_STS_MAX_AGE_LIMIT) {
    findings.push(
      finding("mta-sts.policy.max-age", "error", `MTA-STS max_age ${maxAge === undefined ? "is missing" : `"${maxAge}" is invalid`}; use whole seconds up to ${MTA_STS_MAX_AGE_LIMIT}, e.g. 604800 (one week) or more`, "maxAge"),
    );
  } else if (Number(maxAge) < MTA_STS_MAX_AGE_RECOMMENDED) {
    findings.push(finding("mta-sts.policy.max-age-short", "warning", `MTA-STS max_age ${maxAge} is under one week; RFC 8461 recommends weeks or more, e.g. 604800 or 1209600`, "maxAge"));
  }
  mx.forEach((pattern, i) => {
    if (!isMxPattern(pattern)) {
      findings.push(finding("mta-sts.policy.mx-invalid", "error", `MTA-STS mx "${pattern}" is not a host name or "*." pattern; write e.g. "mx1.example.com" or "*.example.net"`, `mx[${i}]`));
    }
  });
  if (mx.length === 0 && mode !== "none") {
    findings.push(finding("mta-sts.policy.mx-missing", "error", `MTA-STS policy in mode "${mode}" lists no mx; add a pattern for every MX host`, "mx"));
  }
  return findings;
}

/** Judge the `_mta-sts` TXT value: `v=STSv1; id=<1-32 letters/digits>`. */
export function checkMtaStsRecord(value: string): Finding[] {
  const fields = value.split(";").map((f) => f.replace(/^[ \t]+|[ \t]+$/g, ""));
  if (fields.length > 1 && fields[fields.length - 1] === "") fields.pop();
  if (fields[0] !== "v=STSv1") {
    return [finding("mta-sts.record.version", "error", `MTA-STS record "${value}" must start with "v=STSv1" (case-sensitive); put it first`)];
  }
  const findings: Finding[] = [];
  const ids = fields.filter((f) => f.startsWith("id="));
  if (ids.length !== 1) {
    findings.push(finding("mta-sts.record.id-missing", "error", `MTA-STS record "${value}" needs exactly one "id="; add id=<policy id>`));
  } else if (!/^id=[A-Za-z0-9]{1,32}$/.test(ids[0])) {
    findings.push(finding("mta-sts.record.id-invalid", "error", `MTA-STS "${ids[0]}" is invalid; the id is 1 to 32 letters and digits`));
  }
  for (const f of fields.slice(1)) {
    if (!f.startsWith("id=") && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}=[\x21-\x3a\x3c\x3e-\x7e]+$/.test(f)) {
      findings.push(finding("mta-sts.record.syntax", "error", `MTA-STS record field "${f}" is not valid; remove it`));
    }
  }
  return findings;
}

/** Any number of `v=STSv1` records other than one means senders see no policy. */
export function checkMtaStsRecordSet(values: string[]): Finding[] {
  const sts = values.filter((v) => /^v=STSv1/.test(v));
  if (sts.length <= 1) return [];
  return [finding("mta-sts.record.multiple", "error", `${sts.length} MTA-STS records are published at one name, so senders use none; keep exactly one`)];
}

/** Every MX host must match a pattern, or senders refuse (enforce) or report (testing) delivery to it. */
export function checkMtaStsCoversMx(intent: MtaStsIntent, mxHosts: string[]): Finding[] {
  if (intent.mode === "none") return [];
  return mxHosts
    .filter((host) => !intent.mx.some((pattern) => mxPatternMatches(pattern, host)))
    .map((host) =>
      finding(
        "mta-sts.mx.uncovered",
        "error",
        `MX host "${canonicalName(host)}" matches no MTA-STS mx pattern (${intent.mx.map((p) => `"${p}"`).join(", ") || "none"}); senders would treat delivery to it as a policy failure. Add "${canonicalName(host)}" to mtaSts mx`,
        "mx",
      ),
    );
}

/** Every finding for an MTA-STS intent. */
export function mtaStsIntentFindings(intent: MtaStsIntent): Finding[] {
  const own = intent.mx.flatMap((pattern, i) =>
    isMxPattern(canonicalName(pattern))
      ? []
      : [finding("mta-sts.policy.mx-invalid", "error", `MTA-STS mx[${i}] "${pattern}" is not a host name or "*." pattern; write e.g. "mx1.example.com" or "*.example.net"`, `mx[${i}]`)],
  );
  if (!Number.isInteger(intent.maxAge)) {
    own.push(finding("mta-sts.policy.max-age", "error", `MTA-STS maxAge ${intent.maxAge} is not whole seconds; use e.g. 604800`, "maxAge"));
  }
  if (own.length > 0) return own;
  return checkMtaStsPolicy(mtaStsPolicyText(intent));
}

/** The `_mta-sts.<domain>` record; its id follows the policy text. */
export function mtaStsRecord(domain: string, intent: MtaStsIntent, ttl: number): TxtRecord {
  const name = ownerName(domain, "MTA-STS record");
  throwOnErrors(mtaStsIntentFindings(intent));
  const value = `v=STSv1; id=${mtaStsPolicyId(mtaStsPolicyText(intent))}`;
  throwOnErrors(checkMtaStsRecord(value));
  return txtRecord(`_mta-sts.${name}`, value, ttl, "mta-sts");
}
