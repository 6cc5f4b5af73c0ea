import type { PlannedRecord } from "../../plan/plan";
import type { Lookup } from "../dns";
import { check, isEmpty, type Check } from "./check";

/**
 * Planned records against what DNS answers: one check per owner name and
 * type, the values compared as sets in one normal form (TXT as the joined
 * value, MX as "priority exchange", CAA as "flags tag value").
 */

/** The normal form of a planned record, matching what the lookup layer returns. */
export function plannedValue(record: PlannedRecord): string {
  switch (record.type) {
    case "TXT":
      return record.strings.join("");
    case "MX":
      return `${record.priority} ${record.exchange}`;
    case "A":
    case "AAAA":
      return record.address;
    case "CNAME":
      return record.target;
    case "CAA":
      return `${record.flags} ${record.tag} ${record.value}`;
  }
}

export function recordCheckId(name: string, type: string): string {
  return `record.${type.toLowerCase()}.${name}`;
}

/** Compare one planned record set with the answer for its name and type. */
export function checkPlannedRecordSet(domain: string, name: string, type: string, planned: readonly string[], observed: Lookup<string[]>): Check {
  const id = recordCheckId(name, type);
  if (!observed.ok) {
    if (isEmpty(observed)) return check(id, domain, "fail", `${type} ${name} is not published (${observed.message}); expected ${list(planned)}`);
    return check(id, domain, "fail", observed.message);
  }
  const want = new Set(planned.map((v) => normalize(type, v)));
  const got = new Set(observed.value.map((v) => normalize(type, v)));
  const missing = [...want].filter((v) => !got.has(v));
  const extra = [...got].filter((v) => !want.has(v));
  if (missing.length === 0 && extra.length === 0) return check(id, domain, "pass", `${type} ${name} as planned (${planned.length} record${planned.length === 1 ? "" : "s"})`);
  const parts = [
    missing.length > 0 ? `missing ${list(missing)}` : "",
    extra.length > 0 ? `unplanned ${list(extra)}` : "",
  ].filter(Boolean);
  return check(id, domain, "fail", `${type} ${name} differs from the plan: ${parts.join("; ")}; run pulumi up or fix the zone`);
}

function normalize(type: string, value: string): string {
  // Names in MX, CNAME and IPv6 text compare case-insensitively; TXT and CAA values exactly.
  return type === "TXT" || type === "CAA" ? value : value.toLowerCase();
}

function list(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v.length > 100 ? `${v.slice(0, 97)}...` : v)).join(", ");
}
