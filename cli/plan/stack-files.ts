import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ValidationError } from "../../components/validation";

/**
 * Reads a project the way the Pulumi CLI does: Pulumi.yaml (name,
 * stackConfigDir, project config defaults) and the stack's
 * Pulumi.<stack>.yaml, flattened into the `namespace:key` → string map a
 * program receives. Encrypted (`secure:`) values cannot be read offline; they
 * become a placeholder and are marked secret.
 */

export interface ProjectStack {
  projectDir: string;
  project: string;
  stack: string;
  programPath: string;
  stackFile: string;
  config: Record<string, string>;
  secretKeys: string[];
}

export const OFFLINE_SECRET_VALUE = "offline-secret-placeholder";

/** The nearest directory at or above `start` holding a Pulumi.yaml. */
export function findProjectDir(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new ValidationError("project", [`no Pulumi.yaml found at or above ${start}; run from the project or pass --cwd`]);
    dir = parent;
  }
}

export function listStacks(projectDir: string): string[] {
  const project = readYamlFile(path.join(projectDir, "Pulumi.yaml")) as Record<string, unknown>;
  const dir = path.join(projectDir, String(project.stackConfigDir ?? "."));
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function loadProjectStack(projectDir: string, stack: string): ProjectStack {
  const project = readYamlFile(path.join(projectDir, "Pulumi.yaml")) as Record<string, unknown>;
  const name = String(project.name);
  const stackConfigDir = path.join(projectDir, String(project.stackConfigDir ?? "."));
  const stackFile = path.join(stackConfigDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    const known = listStacks(projectDir);
    throw new ValidationError(`stack "${stack}"`, [
      `--stack = "${stack}": no ${path.relative(projectDir, stackFile)}; the stacks are ${known.join(", ") || "(none)"}`,
    ]);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const put = (key: string, value: unknown) => {
    const fullKey = key.includes(":") ? key : `${name}:${key}`;
    if (value && typeof value === "object" && "secure" in (value as object)) {
      config[fullKey] = OFFLINE_SECRET_VALUE;
      secretKeys.push(fullKey);
    } else {
      config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
  };
  // Project-level defaults first; the stack file overrides them.
  for (const [key, declaration] of Object.entries((project.config ?? {}) as Record<string, unknown>)) {
    if (declaration && typeof declaration === "object") {
      const d = declaration as Record<string, unknown>;
      if ("default" in d) put(key, d.default);
      else if ("value" in d) put(key, d.value);
    } else if (declaration !== undefined) {
      put(key, declaration);
    }
  }
  const stackYaml = (readYamlFile(stackFile) ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries((stackYaml.config ?? {}) as Record<string, unknown>)) put(key, value);
  const main = typeof project.main === "string" ? project.main : "index.ts";
  return { projectDir, project: name, stack, programPath: path.join(projectDir, main), stackFile, config, secretKeys };
}

function readYamlFile(file: string): unknown {
  try {
    return parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ValidationError(path.basename(file), [`cannot be read as YAML: ${(error as Error).message}`]);
  }
}
