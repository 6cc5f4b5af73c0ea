/**
 * The one shape every policy rule reads resources in, whoever produced them:
 * the Pulumi policy engine (`pulumi preview --policy-pack`) or Postforge's
 * offline engine (`postforge plan`, the tests). Values the engine does not
 * know yet (an Elastic IP's address at preview) are `UNKNOWN`, never a guess.
 */

/** A value known only after deploy. Rules skip what they cannot judge yet. */
export class UnknownValue {
  toString(): string {
    return "<known after deploy>";
  }
}
export const UNKNOWN = new UnknownValue();

export function isUnknown(value: unknown): value is UnknownValue {
  return value instanceof UnknownValue;
}

export interface StackResource {
  urn: string;
  type: string;
  /** The logical name. */
  name: string;
  /** Plain data; a value unknown at preview is UNKNOWN. */
  props: Record<string, unknown>;
  /** The parent's URN, when it has one. */
  parent?: string;
  /** URNs of every resource this one depends on (explicit and through its inputs). */
  dependencies: string[];
  protect: boolean;
  additionalSecretOutputs: string[];
  /**
   * Paths of props that are secrets (`secretString`). Undefined when the
   * source cannot tell: the policy engine hands stack policies plain values.
   */
  secretPaths?: string[];
}

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::...`). */
export function stackOfUrn(urn: string): string {
  return urn.split("::")[0]?.split(":")[2] ?? "";
}
