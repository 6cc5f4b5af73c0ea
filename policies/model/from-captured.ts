import { DKIM_KEY_PLACEHOLDER, SECRET_PLACEHOLDER, type CapturedResource } from "../../components/captured-resource";
import { UNKNOWN, type StackResource } from "./resources";

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
      props: placeholdersToUnknown(propsAsEngineSees(r)) as Record<string, unknown>,
      parent: r.parent && !r.parent.includes("::pulumi:pulumi:Stack::") ? r.parent : undefined,
      dependencies: [...r.dependencies],
      protect: r.protect,
      additionalSecretOutputs: [...(r.additionalSecretOutputs ?? [])],
      secretPaths: [...r.secretInputs],
    }));
}

/**
 * What the engine hands a stack policy as a resource's props: its outputs. At
 * preview a custom resource's are its inputs (with unknowns); a component's are
 * what it registered with registerOutputs.
 */
export function propsAsEngineSees(r: CapturedResource): Record<string, unknown> {
  return r.custom ? r.inputs : (r.outputs ?? {});
}

/** The value with every placeholder made unknown; the value itself (not a copy) where it holds none. */
function placeholdersToUnknown(value: unknown): unknown {
  if (typeof value === "string") return value.includes(DKIM_KEY_PLACEHOLDER) || value === SECRET_PLACEHOLDER ? UNKNOWN : value;
  if (Array.isArray(value)) {
    const mapped = value.map(placeholdersToUnknown);
    return mapped.every((v, i) => v === value[i]) ? value : mapped;
  }
  if (value && typeof value === "object") {
    let changed = false;
    const entries = Object.entries(value).map(([k, v]) => {
      const mapped = placeholdersToUnknown(v);
      if (mapped !== v) changed = true;
      return [k, mapped] as const;
    });
    return changed ? Object.fromEntries(entries) : value;
  }
  return value;
}
