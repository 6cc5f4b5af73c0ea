/**
 * One error type for every boundary (stack config, component args, CLI flags):
 * each problem names where it is (`domains[2].dmarc.rua[0]`), the value found
 * and what is allowed, so a user can fix it without reading our source.
 */
export class ValidationError extends Error {
  constructor(
    /** What was being validated, e.g. `stack "dev"` or `MailDomain "example.com"`. */
    readonly subject: string,
    readonly problems: string[],
  ) {
    super(`${subject} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ValidationError";
  }
}

/** `["domains", 2, "dmarc", "rua", 0]` → `domains[2].dmarc.rua[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
