/**
 * What a resource looks like once captured from a (mocked) Pulumi run: the
 * model the offline engine (cli/plan/engine.ts) records and the policy pack
 * (policies/model/from-captured.ts) reads, with the placeholders that stand
 * where a value is secret or known only at deploy. It lives here, below both,
 * so the pack needs nothing from the CLI. Dependency-free.
 */

/** Where a secret input stood; its value is never kept. */
export const SECRET_PLACEHOLDER = "[secret]";

/**
 * What a plan shows where a DKIM public key (or a generated password) will be:
 * it is generated in the deployment, so no value exists before it.
 * Recognisable on purpose, so `diff` and `verify` can tell "to be generated"
 * from a real key.
 */
export const DKIM_KEY_PLACEHOLDER = "<generated-at-deploy>";

export interface CapturedResource {
  urn: string;
  type: string;
  name: string;
  /** The parent's URN; the stack itself for top-level resources. */
  parent?: string;
  /** false for component resources. */
  custom: boolean;
  /** Inputs as the provider would receive them, secrets replaced by SECRET_PLACEHOLDER. */
  inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were secrets, e.g. "secretString". */
  secretInputs: string[];
  protect: boolean;
  /** Outputs the engine is told to treat as secrets (`additionalSecretOutputs`). */
  additionalSecretOutputs: string[];
  /**
   * A component's registered outputs (`registerOutputs`), secrets replaced as
   * in inputs: what the engine records as its state, and what stack policies see.
   */
  outputs?: Record<string, unknown>;
  dependencies: string[];
  /** The explicit provider's reference ("<urn>::<id>"), when the resource was given one. */
  provider?: string;
  /** URNs this resource was known by before (its `aliases`, resolved): an upgrade moves those to it. */
  aliases?: string[];
}
