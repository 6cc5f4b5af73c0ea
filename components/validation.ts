import { z } from "zod";

// The error and its formatting live apart from zod, so that commands which
// check their input by hand (diff, verify --domain) start without loading it.
export { ValidationError, formatPath, describeValue } from "./validation-error";
import { ValidationError, formatPath, describeValue } from "./validation-error";

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
