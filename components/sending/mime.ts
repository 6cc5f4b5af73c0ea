/**
 * Just enough MIME (RFC 2045, 2046, 5322) to read what mail systems send
 * back: header fields unfolded, multipart bodies split, quoted-printable and
 * base64 decoded. Pure and bounded: a message is parsed to a fixed depth,
 * and nothing here allocates more than a copy of its input.
 */

export interface MimePart {
  /** Header fields by lower-case name, each occurrence unfolded, in order. */
  headers: Map<string, string[]>;
  /** The body, transfer-decoded to text (latin1 for bytes that are not UTF-8 text). */
  body: string;
  /** The type and subtype, lower-case ("text/plain" when there is none, RFC 2045 §5.2). */
  type: string;
  /** Content-Type parameters by lower-case name (boundary, report-type, charset). */
  params: Map<string, string>;
  /** A multipart's parts; an encapsulated message (message/rfc822) as its one part. */
  parts: MimePart[];
  /** The body as transmitted (before transfer decoding): partBytes reads an attachment's exact bytes from it. */
  encodedBody: string;
}

const MAX_DEPTH = 8;

/** Split header and body at the first empty line; unfold header fields. */
export function parseMime(raw: string, depth = 0): MimePart {
  const text = raw.replace(/\r\n/g, "\n");
  // No header fields at all (the text starts with the empty line), or up to the first empty line.
  const end = text.startsWith("\n") ? 0 : text.indexOf("\n\n");
  const head = end < 0 ? text : text.slice(0, end);
  const rawBody = end < 0 ? "" : text.slice(end === 0 ? 1 : end + 2);
  const headers = fieldLines(head);
  const { type, params } = contentType(headers.get("content-type")?.[0]);
  const body = decodeBody(rawBody, headers.get("content-transfer-encoding")?.[0]);
  const part: MimePart = { headers, body, type, params, parts: [], encodedBody: rawBody };
  if (depth >= MAX_DEPTH) return part;
  const boundary = params.get("boundary");
  if (type.startsWith("multipart/") && boundary) part.parts = splitMultipart(rawBody, boundary).map((p) => parseMime(p, depth + 1));
  else if (type === "message/rfc822" || type === "message/global") part.parts = [parseMime(body, depth + 1)];
  return part;
}

/**
 * `Name: value` lines (RFC 5322 §2.2): folded lines joined, names lower-case,
 * each occurrence kept in order. A message's header and the field groups of
 * a delivery-status or feedback-report part are all written so.
 */
export function fieldLines(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of text.replace(/\r\n/g, "\n").replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // A field name is printable ASCII without the colon (RFC 5322 §3.6.8): anything else is not a field.
    if (!/^[!-9;-~]+$/.test(name)) continue;
    // Appended in place: a header of thousands of Received fields must not be copied at each one.
    const values = fields.get(name);
    if (values) values.push(line.slice(colon + 1).trim());
    else fields.set(name, [line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** The first value of a header field, or undefined. */
export function header(part: MimePart, name: string): string | undefined {
  return part.headers.get(name.toLowerCase())?.[0];
}

/** A part's body as bytes, transfer-decoded (an attachment: gzip, zip), without guessing a text encoding. */
export function partBytes(part: MimePart): Buffer {
  // 7bit or 8bit: the message was read as latin1 (byte for byte), so back to the same bytes.
  return transferDecoded(part.encodedBody, header(part, "content-transfer-encoding")) ?? Buffer.from(part.encodedBody, "latin1");
}

/** A body's bytes under base64 or quoted-printable (lines already LF), or undefined for any other encoding (the body is its bytes). */
function transferDecoded(body: string, encoding: string | undefined): Buffer | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
    case "quoted-printable":
      return Buffer.from(body.replace(/=\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1");
    default:
      return undefined;
  }
}

/** Every part, depth first, the part itself first. */
export function allParts(part: MimePart): MimePart[] {
  return [part, ...part.parts.flatMap(allParts)];
}

function contentType(value: string | undefined): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { type: "text/plain", params };
  const [type, ...rest] = splitParams(value);
  for (const param of rest) {
    const eq = param.indexOf("=");
    if (eq <= 0) continue;
    let v = param.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    params.set(param.slice(0, eq).trim().toLowerCase(), v);
  }
  return { type: type.trim().toLowerCase() || "text/plain", params };
}

/** `a; b="x;y"; c` → ["a", 'b="x;y"', "c"]: semicolons inside quotes kept. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== "\\") quoted = !quoted;
    if (c === ";" && !quoted) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out;
}

function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split("\n")) {
    const trimmed = line.trimEnd();
    if (trimmed === `${delimiter}--`) break;
    if (trimmed === delimiter) {
      if (current) parts.push(current.join("\n"));
      current = [];
    } else current?.push(line);
  }
  // A bounce cut short (no closing delimiter) keeps what it has.
  if (current) parts.push(current.join("\n"));
  return parts;
}

function decodeBody(body: string, encoding: string | undefined): string {
  const bytes = transferDecoded(body, encoding);
  return bytes === undefined ? body : bytesToText(bytes);
}

function bytesToText(bytes: Buffer): string {
  const utf8 = bytes.toString("utf8");
  return utf8.includes("\uFFFD") ? bytes.toString("latin1") : utf8;
}
