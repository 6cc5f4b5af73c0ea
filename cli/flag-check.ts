import { parseArgs } from "node:util";
import { describeValue, formatPath, ValidationError } from "../components/validation-error";

export type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/**
 * A command's flags, as node's parseArgs reads them (no positionals); an
 * unknown or malformed flag is a ValidationError (exit 2) followed by the
 * command's usage text.
 */
export function parseCommandLine(args: string[], options: FlagOptions, usage: string): Record<string, unknown> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ValidationError("command line", [`${(error as Error).message}\n\n${usage}`]);
  }
}

/**
 * Command-line flags checked by hand, for the commands that must start fast
 * (`diff`, `verify --domain`): zod's classic build takes about 20 ms to load,
 * a third of such a command's own time. Problems read as the zod-checked ones
 * do (`--timeout = "soon": must be whole milliseconds`), all listed at once.
 */
export class FlagProblems {
  private readonly problems: string[] = [];

  /** Record one problem: the flag (and list index, if any), the value given, and what is allowed. */
  add(path: readonly PropertyKey[], input: unknown, message: string): void {
    this.problems.push(`${formatPath(path)} = ${describeValue(input)}: ${message}`);
  }

  get count(): number {
    return this.problems.length;
  }

  /** Throw the ValidationError the CLI prints (exit 2) when any problem was recorded. */
  throwIfAny(subject = "command line"): void {
    if (this.problems.length > 0) throw new ValidationError(subject, this.problems);
  }
}
