import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { getProject, getStack, setMockOptions } from "@pulumi/pulumi/runtime/settings";
import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack";
import { ValidationError } from "../../components/validation";
import { fakeCall, fakeComputedOutputs } from "./fakes";

// Marked @internal in Pulumi's typings but exported at runtime: drains the RPC queue.
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore: () => Record<string, unknown> };

/**
 * The offline engine: runs a real Pulumi program in-process against Pulumi's
 * mock monitor and records every resource it registers, with its parent,
 * inputs and options: what `pulumi preview` would send to the providers,
 * without the CLI, credentials or network.
 */

export { SECRET_PLACEHOLDER, type CapturedResource } from "../../components/captured-resource";
import { SECRET_PLACEHOLDER, type CapturedResource } from "../../components/captured-resource";

export interface OfflineRunOptions {
  /** Path of the program's entry module (index.ts). */
  programPath: string;
  /** The directory of Pulumi.yaml, where `pulumi up` runs the program and finds tsconfig.json; the program's directory when absent. */
  projectDir?: string;
  project: string;
  stack: string;
  /** Flat Pulumi config: `"postforge:domains": "<JSON>"`, as the CLI passes it to a program. */
  config: Record<string, string>;
  /** Config keys whose values are secrets. */
  secretKeys?: string[];
  /**
   * Stand-ins for provider-computed outputs, tried before the built-in fakes
   * (tests use it to generate real DKIM keys where a plan shows a placeholder).
   */
  computed?: (type: string, name: string, inputs: Record<string, unknown>) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;
}

export interface OfflineRunResult {
  resources: CapturedResource[];
  /** What the program logged with pulumi.log.warn: the diagnostics `pulumi preview` would show. */
  warnings: string[];
  /** The stack's outputs (the program module's exports), resolved. */
  outputs: Record<string, unknown>;
}

/** The program threw: `cause` is its error, `resources` what it had registered by then. */
export class OfflineRunError extends Error {
  constructor(
    readonly cause: unknown,
    readonly resources: CapturedResource[],
  ) {
    super((cause as Error)?.message ?? String(cause));
    this.name = "OfflineRunError";
  }
}

class RecordingMonitor extends MockMonitor {
  readonly captured: CapturedResource[] = [];

  constructor(mocks: ConstructorParameters<typeof MockMonitor>[0]) {
    super(mocks);
    // MockMonitor.newUrn is private in its typings; replace it on the instance (see engineUrn).
    (this as unknown as { newUrn: typeof engineUrn }).newUrn = engineUrn;
  }
  private readonly byUrn = new Map<string, CapturedResource>();

  async registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
    const parent: string = req.getParent();
    const type: string = req.getType();
    const name: string = req.getName();
    const urn = engineUrn(parent, type, name);
    // The real engine refuses a second resource with the same URN; so must a plan.
    if (this.byUrn.has(urn)) return callback(new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`), undefined);
    const { value: inputs, secretPaths } = stripSecrets(
      pulumi.runtime.deserializeProperties(req.getObject()) as Record<string, unknown>,
    );
    const captured: CapturedResource = {
      urn,
      type,
      name,
      parent: parent || undefined,
      custom: req.getCustom(),
      inputs: inputs as Record<string, unknown>,
      secretInputs: secretPaths,
      protect: req.getProtect() === true,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      dependencies: req.getDependenciesList(),
      ...(req.getProvider() ? { provider: req.getProvider() } : {}),
      aliases: this.aliasUrns(req, parent, type, name),
    };
    this.captured.push(captured);
    this.byUrn.set(urn, captured);
    return super.registerResource(req, callback);
  }

  /**
   * Every URN a resource was known by, as the engine works them out: its own
   * aliases (URNs, or specs resolved against its parent), and for each alias
   * of its parent the URN it had under that parent, its own aliases moved
   * there too (a name that began with the parent's old name follows it), and
   * so on down: a grandchild of an aliased component is aliased as well.
   */
  private aliasUrns(req: any, parent: string, type: string, name: string): string[] {
    const own: string[] = req.getAliasesList().map((a: any) => (a.hasUrn() ? a.getUrn() : specUrn(a.getSpec(), parent, type, name)));
    const found = new Set(own);
    const parentResource = parent ? this.byUrn.get(parent) : undefined;
    for (const parentAlias of parentResource?.aliases ?? []) {
      const rename = (childName: string) =>
        childName.startsWith(parentResource!.name) ? `${urnName(parentAlias)}${childName.slice(parentResource!.name.length)}` : childName;
      found.add(engineUrn(parentAlias, type, rename(name)));
      for (const alias of own) found.add(engineUrn(parentAlias, urnType(alias), rename(urnName(alias))));
    }
    return [...found];
  }

  async registerResourceOutputs(req: any, callback: (err: any, resp: any) => void): Promise<void> {
    const resource = this.byUrn.get(req.getUrn());
    if (resource && !resource.custom) {
      const struct = req.getOutputs();
      const outputs = struct ? (pulumi.runtime.deserializeProperties(struct) as Record<string, unknown>) : {};
      resource.outputs = stripSecrets(outputs).value as Record<string, unknown>;
    }
    return super.registerResourceOutputs(req, callback);
  }
}

/**
 * The URN the engine gives a resource: its parent's whole type chain, then
 * its own type (the stack's type is left out), as the SDK computes alias
 * URNs. Pulumi's MockMonitor keeps only the parent's last type, so a nested
 * resource's alias would never match; RecordingMonitor answers with this.
 */
function engineUrn(parent: string, type: string, name: string, stack = getStack(), project = getProject()): string {
  const parentType = parent ? parent.split("::")[2] : "";
  const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** An alias spec (name, type, stack, project, parent or no parent; each defaulting to the resource's own) as a URN. */
function specUrn(spec: any, parent: string, type: string, name: string): string {
  const aliasParent = spec.getNoparent() ? "" : spec.getParenturn() || parent;
  return engineUrn(aliasParent, spec.getType() || type, spec.getName() || name, spec.getStack() || getStack(), spec.getProject() || getProject());
}

const urnName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const urnType = (urn: string) => urn.split("::")[2].split("$").pop()!;

/** Replace Pulumi's RPC secret wrappers by a placeholder, remembering where they were. */
export function stripSecrets(value: unknown, at = ""): { value: unknown; secretPaths: string[] } {
  const secretPaths: string[] = [];
  const walk = (v: unknown, p: string): unknown => {
    if (v && typeof v === "object") {
      if ((v as Record<string, unknown>)[specialSigKey] === specialSecretSig) {
        secretPaths.push(p);
        return SECRET_PLACEHOLDER;
      }
      if (Array.isArray(v)) return v.map((e, i) => walk(e, `${p}[${i}]`));
      if (Object.getPrototypeOf(v) === Object.prototype) {
        const out: Record<string, unknown> = {};
        for (const [k, e] of Object.entries(v)) out[k] = walk(e, p === "" ? k : `${p}.${k}`);
        return out;
      }
    }
    return v;
  };
  return { value: walk(value, at), secretPaths };
}

let running = false;

export async function runOffline(options: OfflineRunOptions): Promise<OfflineRunResult> {
  // The Pulumi runtime is process-global: one run at a time.
  if (running) throw new Error("runOffline is already running in this process; runs must not overlap");
  running = true;
  try {
    const monitor = new RecordingMonitor({
      newResource: async (args) => ({
        id: args.custom ? `${args.name}-id` : undefined,
        state: {
          ...args.inputs,
          ...((await options.computed?.(args.type, args.name, args.inputs)) ?? fakeComputedOutputs(args.type, args.name, args.inputs)),
        },
      }),
      call: (args) => fakeCall(args.token, args.inputs),
    });
    // setMockOptions resets the runtime's global store, so repeated runs start clean.
    setMockOptions(monitor, options.project, options.stack, true);
    const store = getStore();
    store.supportsSecrets = true;
    store.supportsResourceReferences = true;
    store.supportsOutputValues = false;
    pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);

    // Without an engine, pulumi.log.warn prints "warning: [runtime] ..."; collect those as diagnostics.
    const warnings: string[] = [];
    const originalWarn = console.warn;
    console.warn = (...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (line.startsWith(RUNTIME_WARNING)) warnings.push(line.slice(RUNTIME_WARNING.length));
      else originalWarn(...args);
    };
    // Pulumi captures a stack trace for every resource and most promises; with
    // source maps on (tsx turns them on) each frame is mapped, which is most of
    // the cost of a large plan. Positions in the plan are not needed.
    const programPath = fs.realpathSync(path.resolve(options.programPath));
    ensureTypeScriptLoader(programPath, options.projectDir ?? path.dirname(programPath));
    const sourceMaps = process.sourceMapsEnabled;
    const stackTraceLimit = Error.stackTraceLimit;
    const prepareStackTrace = Error.prepareStackTrace;
    const callsites = resourceStatics.callsites;
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = Number(process.env.POSTFORGE_STACK_FRAMES ?? OFFLINE_STACK_FRAMES);
    if (Error.stackTraceLimit === 0) {
      // Pulumi still takes a whole stack for each resource (Resource.callsites lifts the
      // limit to record where it was declared), and ts-node's source-map hook maps every
      // frame of it: a third of a large plan's time, for positions nobody reads offline.
      (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
      resourceStatics.callsites = () => [];
    }
    try {
      return { ...(await runProgram(programPath, monitor)), warnings };
    } catch (error) {
      throw new OfflineRunError(error, monitor.captured);
    } finally {
      console.warn = originalWarn;
      process.setSourceMapsEnabled(sourceMaps);
      Error.stackTraceLimit = stackTraceLimit;
      Error.prepareStackTrace = prepareStackTrace;
      resourceStatics.callsites = callsites;
    }
  } finally {
    running = false;
  }
}

const RUNTIME_WARNING = "warning: [runtime] ";

// Private in Pulumi's typings; where each resource is declared (sourcePosition, stackTrace) comes from it.
const resourceStatics = pulumi.Resource as unknown as { callsites: () => unknown[] };

/**
 * Frames kept per captured stack during a run. Pulumi records a stack for
 * every resource and every promise it tracks, which costs more than the rest
 * of a large plan together; offline, nothing reads them. A crash then has no
 * trace: POSTFORGE_STACK_FRAMES=50 brings traces back (the CLI says so).
 */
export const OFFLINE_STACK_FRAMES = 0;

/**
 * A TypeScript program is loaded as `pulumi up` loads it (@pulumi/pulumi's
 * cmd/run): through the ts-node that @pulumi/pulumi vendors, with the
 * project's own `typescript` and the tsconfig.json of the project root (or
 * PULUMI_NODEJS_TSCONFIG_PATH), whose compilerOptions win over Pulumi's
 * defaults (ES2020, nodenext); transpile-only (as
 * PULUMI_NODEJS_TRANSPILE_ONLY=true; the plan is no type checker). Nothing is
 * registered when a loader for .ts is already in place (tests run under tsx).
 */
function ensureTypeScriptLoader(programPath: string, projectDir: string): void {
  if (!programPath.endsWith(".ts") || require.extensions[".ts"]) return;
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  let compiler: string;
  try {
    // Pulumi requires typescript from where @pulumi/pulumi is installed; the project's own comes first.
    compiler = require.resolve("typescript", { paths: [projectDir, path.dirname(programPath), pulumiDir] });
  } catch {
    throw new ValidationError(`stack program ${programPath}`, [
      "is TypeScript, and the project has no typescript package; install it as Pulumi's Node runtime needs it (npm install --save-dev typescript@~5.9)",
    ]);
  }
  const vendor = path.join(pulumiDir, "vendor");
  const tsNode = fs.readdirSync(vendor).find((d) => d.startsWith("ts-node@"));
  if (!tsNode) throw new Error(`@pulumi/pulumi vendors no ts-node in ${vendor}`);
  const tsconfig = path.resolve(projectDir, process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json");
  const ts = require(compiler) as typeof import("typescript");
  const hasTsconfig = fs.existsSync(tsconfig);
  const own = hasTsconfig ? (ts.parseConfigFileTextToJson(tsconfig, fs.readFileSync(tsconfig, "utf8")).config?.compilerOptions ?? {}) : {};
  require(path.join(vendor, tsNode)).register({
    compiler,
    transpileOnly: true,
    project: tsconfig,
    skipProject: !hasTsconfig,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...own },
  });
}

/** Run the program at `programPath` (a real path: Node caches modules by it, so a symlinked program is evicted by it to run again). */
async function runProgram(programPath: string, monitor: RecordingMonitor): Promise<Omit<OfflineRunResult, "warnings">> {
  delete require.cache[programPath];
  // A program that throws (invalid config) must not reject Pulumi's own stack
  // promises: nothing awaits those, so the error would echo as unhandled
  // rejections. Catch it inside, let the stack finish, then rethrow it.
  let programError: { error: unknown } | undefined;
  let exported: Record<string, unknown> = {};
  await runInPulumiStack(async () => {
    try {
      // The program's module exports are its stack outputs, as under `pulumi up`.
      const module = require(programPath);
      exported = (module?.default instanceof Function ? await module.default() : module) ?? {};
      return exported;
    } catch (error) {
      programError = { error };
      return {};
    }
  });
  await waitForRPCs();
  if (programError) throw programError.error;
  return { resources: monitor.captured, outputs: await resolveEachOutput(exported) };
}

/**
 * The stack's outputs, resolved one by one. At preview a value a provider
 * computes (an ARN) is unknown, and Pulumi then reports the whole output map
 * as unknown; resolving each export alone keeps the known ones (the plan reads
 * `mtaStsPolicies`, `spfIncludeCosts`) whatever else the program exports.
 */
async function resolveEachOutput(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    if (pulumi.Output.isInstance(value)) {
      const output = value as pulumi.Output<unknown> & { isKnown: Promise<boolean>; isSecret: Promise<boolean>; promise(): Promise<unknown> };
      // A secret output stays a secret in the result, as `pulumi stack output` shows it.
      resolved[key] = !(await output.isKnown) ? undefined : (await output.isSecret) ? SECRET_PLACEHOLDER : await output.promise();
    } else if (!(value instanceof Function)) {
      resolved[key] = await value;
    }
  }
  return resolved;
}
