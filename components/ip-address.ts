/**
 * Spellings of an IP address. One expansion of IPv6 text for every place that
 * needs the full form: reverse names, SPF's %{i}, range arithmetic, host bits.
 * Pure, dependency-free; the input is taken to be a valid address.
 */

/**
 * The eight groups of an IPv6 address, each four hex digits, in the case the
 * address was written in; "::" is filled, and a dotted-quad tail
 * ("::ffff:1.2.3.4") becomes its two groups.
 */
export function ipv6Groups(ip: string): string[] {
  let text = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => g.padStart(4, "0"));
}
