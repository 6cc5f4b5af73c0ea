import * as pulumi from "@pulumi/pulumi";
import { parseOrThrow, ValidationError } from "../validation";
import { STACK_CONFIG_KEYS, stackConfigSchema, type StackConfig } from "./schema";

/** The Pulumi config namespace of Postforge's keys: `postforge:domains` and the rest. */
export const CONFIG_NAMESPACE = "postforge";

/**
 * Read every `postforge:*` key of the current stack and validate it as one
 * object, so all problems are reported together and before any resource
 * exists. Unknown `postforge:*` keys are refused: a typo such as
 * `postforge:domain` would otherwise be silently ignored.
 */
export function readStackConfig(stack: string = pulumi.getStack()): StackConfig {
  return stackConfigFromValues(pulumi.runtime.allConfig(), stack);
}

/**
 * Validate a stack's flat config (`"postforge:domains": "<JSON>"`, as Pulumi
 * hands it to a program); other namespaces are ignored. Pure, so tests and
 * tools can read a `stacks/Pulumi.<stack>.yaml` the way the program does.
 */
export function stackConfigFromValues(all: Record<string, string>, stack: string): StackConfig {
  const raw: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [fullKey, value] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(":", 2);
    if (namespace !== CONFIG_NAMESPACE) continue;
    if (!(STACK_CONFIG_KEYS as readonly string[]).includes(key)) unknown.push(key);
    else raw[key] = parseConfigValue(value);
  }
  const subject = `stack "${stack}" config`;
  if (unknown.length > 0) {
    throw new ValidationError(
      subject,
      unknown.map((k) => `${CONFIG_NAMESPACE}:${k}: unknown key; the keys are ${STACK_CONFIG_KEYS.map((s) => `${CONFIG_NAMESPACE}:${s}`).join(", ")}`),
    );
  }
  return parseOrThrow(stackConfigSchema, raw, subject);
}

/** Pulumi hands structured values to programs as JSON text and scalars as plain text. */
function parseConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
