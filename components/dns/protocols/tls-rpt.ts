/**
 * SMTP TLS Reporting (RFC 8460): `_smtp._tls.<domain>` tells senders where
 * to send reports about TLS failures (MTA-STS, DANE).
 */
import { TxtRecord } from "../model";
import { Finding, throwOnErrors } from "../findings";
import { asciiMailtoFix, finding, httpsUrlHref, isAscii, isMailAddress, ownerName, parseHttpsUrl, txtRecord } from "./common";

/** What a domain's TLS-RPT record says: where senders send their reports. */
export interface TlsRptIntent {
  /** Report destinations: `mailto:` (ASCII addresses) or `https:` URIs (published as their URL href). */
  rua: string[];
}

/** One rua URI: mailto: with a valid address, or an https: URL (RFC 8460 §3). */
export function checkTlsRptUri(uri: string, path: string): Finding[] {
  const fix = `use "mailto:tls-reports@example.com" or "https://reports.example.com/tlsrpt"`;
  if (/[,;\s]/.test(uri)) {
    return [finding("tls-rpt.uri.invalid", "error", `TLS-RPT ${path} "${uri}" contains a comma, semicolon or space; percent-encode it or give one URI per entry`, path)];
  }
  if (/^mailto:/i.test(uri)) {
    if (!isAscii(uri)) {
      return [finding("tls-rpt.uri.non-ascii", "error", `TLS-RPT ${path} "${uri}" contains non-ASCII characters, which a TLS-RPT record cannot carry; ${asciiMailtoFix(uri)}`, path)];
    }
    let address = uri.slice(7);
    try {
      address = decodeURIComponent(address);
    } catch {
      // keep the raw text; the address check reports it
    }
    return isMailAddress(address) ? [] : [finding("tls-rpt.uri.invalid", "error", `TLS-RPT ${path} "${uri}" does not hold a valid mail address; ${fix}`, path)];
  }
  if (/^https:/i.test(uri)) {
    return parseHttpsUrl(uri) ? [] : [finding("tls-rpt.uri.invalid", "error", `TLS-RPT ${path} "${uri}" is not a valid https URL; ${fix}`, path)];
  }
  return [finding("tls-rpt.uri.scheme", "error", `TLS-RPT ${path} "${uri}" must be a mailto: or https: URI; ${fix}`, path)];
}

/** Judge a published TLS-RPT value. */
export function checkTlsRpt(value: string): Finding[] {
  const fields = value.split(";").map((f) => f.replace(/^[ \t]+|[ \t]+$/g, ""));
  if (fields.length > 1 && fields[fields.length - 1] === "") fields.pop();
  if (fields[0] !== "v=TLSRPTv1") {
    return [finding("tls-rpt.version", "error", `TLS-RPT record "${value}" must start with "v=TLSRPTv1"; put it first`)];
  }
  const rua = fields.filter((f) => /^rua=/.test(f));
  if (rua.length !== 1) {
    return [finding("tls-rpt.rua.missing", "error", `TLS-RPT record "${value}" needs exactly one "rua=" with report URIs; add rua=mailto:<address>`, "rua")];
  }
  const uris = rua[0].slice(4).split(",").map((u) => u.trim());
  return uris.flatMap((u, i) => publishedUriFindings(u, `rua[${i}]`));
}

/** A published https URI must be ASCII too; an intent's is percent-encoded when rendered. */
function publishedUriFindings(uri: string, path: string): Finding[] {
  const url = /^https:/i.test(uri) && !isAscii(uri) ? parseHttpsUrl(uri) : null;
  if (!url) return checkTlsRptUri(uri, path);
  return [finding("tls-rpt.uri.non-ascii", "error", `TLS-RPT ${path} "${uri}" contains non-ASCII characters, which a TLS-RPT record cannot carry; publish the percent-encoded URL "${url.href}"`, path)];
}

/** Every finding for a TLS-RPT intent. */
export function tlsRptIntentFindings(intent: TlsRptIntent): Finding[] {
  if (intent.rua.length === 0) {
    return [finding("tls-rpt.rua.missing", "error", `TLS-RPT rua is empty; give at least one mailto: or https: URI`, "rua")];
  }
  const own = intent.rua.flatMap((u, i) => checkTlsRptUri(u.trim(), `rua[${i}]`));
  return own.length > 0 ? own : checkTlsRpt(renderTlsRpt(intent));
}

/** https URIs go out as their WHATWG href (non-ASCII percent-encoded, IDN hosts in xn-- form). */
function renderTlsRpt(intent: TlsRptIntent): string {
  const uris = intent.rua.map((u) => u.trim()).map((u) => (/^https:/i.test(u) ? httpsUrlHref(u) : u));
  return `v=TLSRPTv1; rua=${uris.join(",")}`;
}

/** The `_smtp._tls.<domain>` record. */
export function tlsRptRecord(domain: string, intent: TlsRptIntent, ttl: number): TxtRecord {
  const name = ownerName(domain, "TLS-RPT record");
  throwOnErrors(tlsRptIntentFindings(intent));
  return txtRecord(`_smtp._tls.${name}`, renderTlsRpt(intent), ttl, "tls-rpt");
}
