import { z } from "zod";

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

export function formatIssue(issue: z.core.$ZodIssue, pathPrefix: readonly PropertyKey[] = []): string {
  const path = [...pathPrefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map((key) => `${formatPath([...path, key])}: unknown setting; remove it or check its spelling`)
      .join("\n  - ");
  }
  const input = (issue as { input?: unknown }).input;
  return `${formatPath(path)} = ${describeValue(input)}: ${issue.message}`;
}

/** Parse or throw a ValidationError listing every problem at once. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, subject: string): z.output<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationError(subject, result.error.issues.map((issue) => formatIssue(issue)));
}
