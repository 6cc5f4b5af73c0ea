import { isIPv4, isIPv6 } from "node:net";
import { ipv6Groups } from "./ip-address";

/**
 * Address ranges as intervals: whether a set of CIDR ranges together holds
 * every IPv4 (or every IPv6) address, as 0.0.0.0/1 + 128.0.0.0/1 do. Refusing
 * only the literal 0.0.0.0/0 lets the whole internet in by two halves.
 * Pure, dependency-free.
 */

function toBigInt(address: string): bigint {
  if (isIPv4(address)) return address.split(".").reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  return ipv6Groups(address).reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The first and last address of a range ("10.0.0.0/8", or a bare address), as numbers of its family. */
function interval(range: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const [address, prefixText] = range.split("/");
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) return undefined;
  const width = family === 4 ? 32n : 128n;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? width : BigInt(Number(prefixText));
  // Not a range of this family: other checks name it; it holds nothing here.
  if (prefix > width) return undefined;
  const size = 1n << (width - prefix);
  const first = (toBigInt(address) / size) * size;
  return { family, first, last: first + size - 1n };
}

/** The families ("IPv4", "IPv6") whose every address the ranges together hold. */
export function familiesCoveredWhole(ranges: readonly string[]): ("IPv4" | "IPv6")[] {
  const covered: ("IPv4" | "IPv6")[] = [];
  for (const family of [4, 6] as const) {
    const spans = ranges
      .map(interval)
      .filter((s): s is NonNullable<typeof s> => s?.family === family)
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let next = 0n;
    for (const span of spans) {
      if (span.first > next) break;
      if (span.last + 1n > next) next = span.last + 1n;
    }
    if (spans.length > 0 && next >= 1n << (family === 4 ? 32n : 128n)) covered.push(family === 4 ? "IPv4" : "IPv6");
  }
  return covered;
}

/** Whether an address (IPv4 or IPv6) falls in any of the ranges (CIDR or bare addresses); false for what is not an address. */
export function addressInRanges(address: string, ranges: readonly string[]): boolean {
  const at = interval(address);
  if (!at) return false;
  return ranges.some((range) => {
    const span = interval(range);
    return span !== undefined && span.family === at.family && span.first <= at.first && at.first <= span.last;
  });
}
