import type { PolicyResource } from "@pulumi/policy";
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
