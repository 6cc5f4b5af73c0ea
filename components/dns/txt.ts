/**
 * Splitting a TXT value into RFC 1035 character-strings (at most 255 octets
 * each). Receivers join the strings with nothing in between (RFC 7208 §3.3,
 * RFC 6376 §3.6.2.2), so a split must keep every byte, including the spaces
 * between terms, inside some string. We prefer to cut right after a space so
 * each string holds whole terms; a single term longer than 255 octets (a DKIM
 * `p=` value) is cut inside, which DKIM allows, filling strings to the limit
 * so a 2048-bit key takes two strings, not three.
 */

/** The longest RFC 1035 character-string, in octets. */
export const MAX_CHARACTER_STRING_OCTETS = 255;

/** The length of `value` in UTF-8 octets, the unit RFC 1035 character-string limits count in. */
export function octets(value: string): number {
  return Buffer.byteLength(value, "utf8");
}

/** Split `value` into strings of at most `limit` octets whose concatenation is exactly `value`. */
export function splitTxtValue(value: string, limit = MAX_CHARACTER_STRING_OCTETS): string[] {
  if (limit < 4) throw new Error(`TXT split limit must be at least 4 octets, got ${limit}`);
  if (value === "") return [""];
  const strings: string[] = [];
  let current = "";
  for (const term of termsWithTrailingSpace(value)) {
    if (octets(current) + octets(term) <= limit) {
      current += term;
      continue;
    }
    if (octets(term) <= limit) {
      // The term fits a string of its own: start one rather than cut the term.
      strings.push(current);
      current = term;
      continue;
    }
    // A term longer than any string (a DKIM key) must be cut anyway: fill the current string first.
    current += term;
    while (octets(current) > limit) {
      const [head, tail] = cutAtOctet(current, limit);
      strings.push(head);
      current = tail;
    }
  }
  if (current !== "") strings.push(current);
  return strings;
}

/** "a b  c" → ["a ", "b  ", "c"]: each term keeps the spaces that follow it. */
function termsWithTrailingSpace(value: string): string[] {
  return value.match(/[^ ]+ *| +/g) ?? [value];
}

/** Cut at most `limit` octets off the front without splitting a UTF-8 sequence. */
function cutAtOctet(value: string, limit: number): [string, string] {
  const bytes = Buffer.from(value, "utf8");
  let end = limit;
  // Step back over continuation bytes (10xxxxxx) so the head stays valid UTF-8.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  if (end === 0) end = limit;
  return [bytes.subarray(0, end).toString("utf8"), bytes.subarray(end).toString("utf8")];
}

/**
 * Parse RFC 1035 presentation text of one or more character-strings
 * (`"a" "b\"c"`), as Cloudflare returns TXT content, back into unescaped
 * strings. Unquoted text (a record someone typed by hand) is one string.
 */
export function parseCharacterStrings(text: string): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('"')) return [trimmed];
  const strings: string[] = [];
  let i = 0;
  while (i < trimmed.length) {
    while (trimmed[i] === " " || trimmed[i] === "\t") i++;
    if (i >= trimmed.length) break;
    if (trimmed[i] !== '"') throw new Error(`malformed TXT content at offset ${i}: ${trimmed}`);
    const close = closingQuote(trimmed, i + 1);
    if (close < 0) throw new Error(`unterminated character-string in TXT content: ${trimmed}`);
    strings.push(unescapeCharacterString(trimmed.slice(i + 1, close)));
    i = close + 1;
  }
  return strings;
}

/** The index of the quote that ends a character-string whose text starts at `from` (skipping escaped quotes), or -1. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/**
 * The text of one character-string between its quotes, unescaped: `\X` is X,
 * `\DDD` the byte DDD (which may be part of a UTF-8 sequence, so such a
 * string is decoded as bytes). Most strings have no escape and are returned as they are.
 */
function unescapeCharacterString(body: string): string {
  if (!body.includes("\\")) return body;
  if (!/\\\d{3}/.test(body)) return body.replace(/\\([\s\S])/g, "$1");
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    if (body[i] === "\\") {
      const decimal = /^\d{3}/.exec(body.slice(i + 1, i + 4));
      if (decimal) {
        bytes.push(Number(decimal[0]));
        i += 4;
      } else {
        const char = String.fromCodePoint(body.codePointAt(i + 1) ?? 0);
        if (i + 1 < body.length) bytes.push(...Buffer.from(char, "utf8"));
        i += 1 + char.length;
      }
    } else {
      const char = String.fromCodePoint(body.codePointAt(i)!);
      bytes.push(...Buffer.from(char, "utf8"));
      i += char.length;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * A pure parse of TXT text into character-strings, remembered for the last
 * `limit` texts: the plan and the policy view both read every record back
 * from the same provider inputs, and each content is then parsed once. Each
 * call gets its own copy of the list.
 */
export function parsedOnce(parse: (text: string) => string[], limit = 100_000): (text: string) => string[] {
  const seen = new Map<string, readonly string[]>();
  return (text) => {
    let strings = seen.get(text);
    if (strings === undefined) {
      strings = parse(text);
      if (seen.size >= limit) seen.clear();
      seen.set(text, strings);
    }
    return [...strings];
  };
}
