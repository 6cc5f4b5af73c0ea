import type { PolicyResource } from "@pulumi/policy";
import { DKIM_KEY_PLACEHOLDER } from "../../cli/plan/fakes";
import { SECRET_PLACEHOLDER, type CapturedResource } from "../../cli/plan/engine";
import { UNKNOWN, type StackResource } from "./resources";

/**
 * From the policy engine's resources. Its props are proxies that throw
 * `UnknownValueError` when a value is unknown at preview; copying them here,
 * field by field, turns each such value into UNKNOWN so one unknown address
 * cannot stop a rule from judging everything else.
 */
export function fromPolicyResources(resources: PolicyResource[]): StackResource[] {
  return resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    props: copyKnown(r.props) as Record<string, unknown>,
    parent: r.parent?.urn ?? r.opts?.parent,
    dependencies: [...new Set([...r.dependencies.map((d) => d.urn), ...Object.values(r.propertyDependencies ?? {}).flat().map((d) => d.urn)])],
    protect: r.opts?.protect === true,
    additionalSecretOutputs: [...(r.opts?.additionalSecretOutputs ?? [])],
  }));
}

function copyKnown(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(readField(value, i));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = readField(value as Record<string | number, unknown>, key);
  return out;
}

function readField(container: Record<string | number, unknown> | unknown[], key: string | number): unknown {
  try {
    return copyKnown((container as Record<string | number, unknown>)[key]);
  } catch (error) {
    if ((error as Error)?.constructor?.name === "UnknownValueError") return UNKNOWN;
    throw error;
  }
}

/**
 * From resources Postforge's offline engine captured. Secrets there are
 * already replaced by a placeholder (and their paths kept), and a DKIM key
 * generated at deploy is a placeholder too: both become UNKNOWN here, as the
 * policy engine would see them at preview.
 */
export function fromCaptured(resources: CapturedResource[]): StackResource[] {
  return resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      props: placeholdersToUnknown(r.inputs) as Record<string, unknown>,
      parent: r.parent && !r.parent.includes("::pulumi:pulumi:Stack::") ? r.parent : undefined,
      dependencies: [...r.dependencies],
      protect: r.protect,
      additionalSecretOutputs: [...(r.additionalSecretOutputs ?? [])],
      secretPaths: [...r.secretInputs],
    }));
}

function placeholdersToUnknown(value: unknown): unknown {
  if (typeof value === "string") return value.includes(DKIM_KEY_PLACEHOLDER) || value === SECRET_PLACEHOLDER ? UNKNOWN : value;
  if (Array.isArray(value)) return value.map(placeholdersToUnknown);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholdersToUnknown(v)]));
  return value;
}
