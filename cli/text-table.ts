/**
 * The CLI's plain-text tables: columns padded to their widest cell, two
 * spaces apart. The last column is not padded (it may be long, and is best
 * left whole), and no line ends in spaces.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: readonly string[]) =>
    cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]) : c)).join("  ").trimEnd();
  return [format(header), ...rows.map(format)];
}
