/**
 * Runs the policy pack's policies the way the Pulumi policy engine does, over
 * resources captured from mocked runs of real stack programs: the example
 * stacks as they are, or with their config or resources deliberately broken.
 *
 * The policies are the pack's own StackValidationPolicy objects
 * (policies/pulumi.ts `postforgePolicies`), called with arguments shaped as
 * the engine builds them (policy/server.js): props behind a proxy that throws
 * `UnknownValueError` on a value unknown at preview (here: a DKIM key
 * generated at deploy), resolved parents and dependencies. No PolicyPack is
 * constructed.
 */
import assert from "node:assert/strict";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { runOffline, SECRET_PLACEHOLDER, type CapturedResource } from "../../cli/plan/engine";
import { DKIM_KEY_PLACEHOLDER } from "../../components/captured-resource";
import { loadProjectStack } from "../../cli/plan/stack-files";
import { postforgePolicies } from "../../policies/pulumi";
import { ALL_RULES } from "../../policies/rules";
import { propsAsEngineSees } from "../../policies/model/from-captured";
import { enforcementOf, propertiesOf, type PolicyPackConfig } from "../../policies/run";
import { PROJECT_DIR } from "./offline";

export interface ReportedViolation {
  policy: string;
  message: string;
  urn?: string;
}

/** An example stack's config as objects (`postforge:*` JSON parsed), to break on purpose. */
export function exampleStackConfig(stack: string): Record<string, any> {
  const project = loadProjectStack(PROJECT_DIR, stack);
  return Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, k.startsWith("postforge:") && /^[[{]/.test(v) ? JSON.parse(v) : v]));
}

/** Run the real index.ts offline for an example stack, its config optionally changed first. */
export async function captureStack(stack: string, change?: (config: Record<string, any>) => void): Promise<CapturedResource[]> {
  const config = exampleStackConfig(stack);
  change?.(config);
  const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const result = await runOffline({ programPath: `${PROJECT_DIR}/index.ts`, project: "postforge", stack, config: flat });
  return result.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
}

/** A resource "created by hand" in another program of the same stack, as the engine would record it. */
export function handMadeResource(stack: string, type: string, name: string, inputs: Record<string, unknown>, extra: Partial<CapturedResource> = {}): CapturedResource {
  return {
    urn: `urn:pulumi:${stack}::postforge::${type}::${name}`,
    type,
    name,
    custom: true,
    inputs,
    secretInputs: [],
    protect: false,
    additionalSecretOutputs: [],
    dependencies: [],
    ...extra,
  };
}

class UnknownValueError extends Error {
  constructor(path: string) {
    super(`the value of ${path} is unknown during preview`);
    this.name = "UnknownValueError";
  }
}

/** Props as the engine hands them to a stack policy: a value known only after deploy throws when read. */
function engineProps(value: unknown, path: string): unknown {
  if (!value || typeof value !== "object") return value;
  return new Proxy(value as object, {
    get(target, key) {
      const field = (target as Record<string | symbol, unknown>)[key];
      if (typeof key === "string" && typeof field === "string" && (field.includes(DKIM_KEY_PLACEHOLDER) || field === SECRET_PLACEHOLDER)) {
        throw new UnknownValueError(`${path}.${key}`);
      }
      return engineProps(field, `${path}.${String(key)}`);
    },
  });
}

/** The captured resources as the policy engine's PolicyResource objects. */
export function asPolicyResources(captured: CapturedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const resources = captured.map((r) => {
    const resource = {
      type: r.type,
      props: engineProps(propsAsEngineSees(r), r.name) as Record<string, unknown>,
      urn: r.urn,
      name: r.name,
      opts: {
        protect: r.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
        parent: r.parent,
      },
      dependencies: [] as PolicyResource[],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource;
    byUrn.set(r.urn, resource);
    return resource;
  });
  captured.forEach((r, i) => {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) (resources[i] as { parent?: PolicyResource }).parent = parent;
    (resources[i] as { dependencies: PolicyResource[] }).dependencies = r.dependencies.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
  });
  return resources;
}

/**
 * Every policy of the pack over the resources, with a policy config as
 * `--policy-pack-config` takes it; violations of disabled policies are not run,
 * as in the engine.
 */
export async function runPolicies(captured: CapturedResource[], config: PolicyPackConfig = {}): Promise<ReportedViolation[]> {
  const resources = asPolicyResources(captured);
  const reported: ReportedViolation[] = [];
  const rules = new Map(ALL_RULES.map((r) => [r.name, r]));
  for (const policy of postforgePolicies()) {
    // The level and settings as the engine resolves them from the config (policies/run.ts does the same offline).
    if (enforcementOf(rules.get(policy.name)!, config) === "disabled") continue;
    const settings = propertiesOf(config[policy.name]);
    const args: StackValidationArgs = {
      resources,
      stackTags: new Map(),
      getConfig: <T extends object>() => Object.fromEntries(Object.entries(settings).filter(([k]) => k !== "enforcementLevel")) as T,
      notApplicable: (reason?: string) => {
        throw new Error(`not applicable: ${reason}`);
      },
    };
    await policy.validateStack(args, (message, urn) => reported.push({ policy: policy.name, message, urn }));
  }
  return reported;
}

const summary = (violations: ReportedViolation[]) => violations.map((v) => `[${v.policy}] ${v.message}`).join("\n");

/** Only the given policy fired, and every message matches, in order. */
export function assertOnly(violations: ReportedViolation[], policy: string, expected: RegExp[]): void {
  assert.deepEqual([...new Set(violations.map((v) => v.policy))], [policy], `expected only ${policy}:\n${summary(violations)}`);
  assert.equal(violations.length, expected.length, summary(violations));
  expected.forEach((pattern, i) => assert.match(violations[i].message, pattern, summary(violations)));
}

export function assertNone(violations: ReportedViolation[]): void {
  assert.deepEqual(violations, [], summary(violations));
}
