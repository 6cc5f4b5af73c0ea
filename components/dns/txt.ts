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
    i++;
    const bytes: number[] = [];
    while (i < trimmed.length && trimmed[i] !== '"') {
      if (trimmed[i] === "\\") {
        const decimal = /^\d{3}/.exec(trimmed.slice(i + 1, i + 4));
        if (decimal) {
          bytes.push(Number(decimal[0]));
          i += 4;
        } else {
          bytes.push(...Buffer.from(trimmed[i + 1] ?? "", "utf8"));
          i += 2;
        }
      } else {
        const codePoint = trimmed.codePointAt(i)!;
        const char = String.fromCodePoint(codePoint);
        bytes.push(...Buffer.from(char, "utf8"));
        i += char.length;
      }
    }
    if (trimmed[i] !== '"') throw new Error(`unterminated character-string in TXT content: ${trimmed}`);
    i++;
    strings.push(Buffer.from(bytes).toString("utf8"));
  }
  return strings;
}
