/**
 * Layers point down: cli/ may use policies/ and components/, policies/ may
 * use components/, and never the other way. This reads every import of the
 * lower layers (static, dynamic, require) and fails on one that reaches up.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "..");
const LAYERS = ["components", "policies", "cli"] as const;
type Layer = (typeof LAYERS)[number];

/** Every module specifier a source file names. */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g, /^\s*import\s+["']([^"']+)["']/gm];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The imports of `file` (in layer `layer`) that reach a higher layer, as "file -> target". */
export function upwardImports(file: string, source: string): string[] {
  const own = path.relative(root, file).split(path.sep)[0] as Layer;
  const rank = LAYERS.indexOf(own);
  return specifiers(source)
    .filter((s) => s.startsWith("."))
    .map((s) => ({ s, target: path.relative(root, path.resolve(path.dirname(file), s)).split(path.sep)[0] as Layer }))
    .filter(({ target }) => LAYERS.includes(target) && LAYERS.indexOf(target) > rank)
    .map(({ s }) => `${path.relative(root, file)} -> ${s}`);
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(full);
    return /\.(ts|js)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

describe("layers", () => {
  it("components/ imports neither policies/ nor cli/, and policies/ does not import cli/", () => {
    const problems = ["components", "policies"].flatMap((layer) => sources(path.join(root, layer)).flatMap((f) => upwardImports(f, fs.readFileSync(f, "utf8"))));
    assert.deepEqual(problems, []);
  });

  it("has teeth: an upward import, static, dynamic or required, is found", () => {
    const file = path.join(root, "policies", "model", "x.ts");
    const source = `import { a } from "../../cli/plan/engine";\nconst b = require("../../cli/x");\nconst c = await import("../rules/ok");\nimport "../../components/y";`;
    assert.deepEqual(upwardImports(file, source), ["policies/model/x.ts -> ../../cli/plan/engine", "policies/model/x.ts -> ../../cli/x"]);
    assert.deepEqual(upwardImports(path.join(root, "components", "z.ts"), `export * from "../policies/run";`), ["components/z.ts -> ../policies/run"]);
  });
});
