/** A record value as messages quote it: whole when short, cut with "..." past `limit` characters. */
export function quote(value: string, limit = 120): string {
  return value.length > limit ? `"${value.slice(0, limit - 3)}..."` : `"${value}"`;
}
