import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { octets, parseCharacterStrings, parsedOnce, splitTxtValue } from "../components/dns/txt";
import { quoteCharacterString } from "../components/dns/model";

describe("splitTxtValue", () => {
  it("keeps a short value whole", () => {
    assert.deepEqual(splitTxtValue("v=spf1 -all"), ["v=spf1 -all"]);
  });

  it("cuts between terms, keeping the space inside the earlier string", () => {
    const terms = Array.from({ length: 40 }, (_, i) => `ip4:198.51.100.${i}`);
    const value = `v=spf1 ${terms.join(" ")} -all`;
    const strings = splitTxtValue(value);
    assert.equal(strings.join(""), value);
    assert.ok(strings.length > 1);
    for (const s of strings.slice(0, -1)) assert.ok(s.endsWith(" "), `"${s.slice(-20)}" should end at a term boundary`);
    for (const s of strings) assert.ok(octets(s) <= 255);
  });

  it("fills strings to 255 octets inside a term longer than a string (DKIM keys)", () => {
    const value = `v=DKIM1; k=rsa; p=${"A".repeat(392)}`;
    assert.deepEqual(splitTxtValue(value).map(octets), [255, 155]);
  });

  it("never cuts a UTF-8 sequence", () => {
    const value = "é".repeat(200); // 400 octets
    const strings = splitTxtValue(value);
    assert.equal(strings.join(""), value);
    for (const s of strings) assert.ok(!s.includes("\uFFFD") && octets(s) <= 255);
  });

  it("property: any value splits into strings of at most 255 octets that join back exactly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 1200 }), fc.integer({ min: 4, max: 255 }), (value, limit) => {
        const strings = splitTxtValue(value, limit);
        assert.equal(strings.join(""), value);
        for (const s of strings) assert.ok(octets(s) <= limit, `${octets(s)} > ${limit}`);
        if (value !== "") assert.ok(strings.every((s) => s !== ""), "no empty strings");
      }),
      { numRuns: 500 },
    );
  });

  it("property: terms that fit a string are never cut", () => {
    const term = fc.stringMatching(/^[a-z0-9:.=-]{1,40}$/);
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 60 }), (terms) => {
        const value = terms.join(" ");
        const strings = splitTxtValue(value);
        // Rebuild the terms from the strings: every term must lie within one string.
        let offset = 0;
        const bounds = strings.map((s) => (offset += s.length));
        let position = 0;
        for (const t of terms) {
          const start = value.indexOf(t, position);
          const end = start + t.length;
          const crossing = bounds.some((b) => b > start && b < end);
          assert.ok(!crossing, `term "${t}" was cut`);
          position = end;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseCharacterStrings", () => {
  it("property: quoting then parsing gives the strings back", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary-ascii", maxLength: 255 }), { minLength: 1, maxLength: 5 }), (strings) => {
        assert.deepEqual(parseCharacterStrings(strings.map(quoteCharacterString).join(" ")), strings);
      }),
      { numRuns: 500 },
    );
  });

  it("reads unquoted hand-typed content as one string", () => {
    assert.deepEqual(parseCharacterStrings("v=spf1 -all"), ["v=spf1 -all"]);
  });

  it("refuses an unterminated string", () => {
    assert.throws(() => parseCharacterStrings('"abc'), /unterminated/);
  });

  it("reads escapes as RFC 1035 writes them: \\X is X (a whole character, even outside the BMP), \\DDD a byte", () => {
    assert.deepEqual(parseCharacterStrings('"a\\"b\\\\c" "\\😀x" "caf\\195\\169"'), ['a"b\\c', "😀x", "café"]);
  });
});

describe("parsedOnce", () => {
  it("parses each text once, hands every caller its own copy, and forgets past its limit", () => {
    const parsed: string[] = [];
    const parse = parsedOnce((text) => {
      parsed.push(text);
      return text.split(" ");
    }, 2);
    const first = parse("a b");
    first.push("mutated");
    assert.deepEqual(parse("a b"), ["a", "b"]);
    assert.deepEqual(parsed, ["a b"]);
    parse("c");
    parse("d"); // the third text: the memory is cleared first
    parse("a b");
    assert.deepEqual(parsed, ["a b", "c", "d", "a b"]);
  });
});
