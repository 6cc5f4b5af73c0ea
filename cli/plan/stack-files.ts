import * as fs from "node:fs";
import * as path from "node:path";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
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

/** Where the project's stack files are: Pulumi.yaml's `stackConfigDir`, or the project directory. */
export function stackConfigDirOf(projectDir: string): string {
  const project = readYamlFile(path.join(projectDir, "Pulumi.yaml")) as Record<string, unknown>;
  return path.join(projectDir, String(project.stackConfigDir ?? "."));
}

export function listStacks(projectDir: string): string[] {
  const dir = stackConfigDirOf(projectDir);
  // A new project may have no stack directory yet: no stacks.
  if (!fs.existsSync(dir)) return [];
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
  // Declared defaults (environment, dmarcMode) publish nothing; domains set in Pulumi.yaml do.
  const projectSetsPostforge = "postforge:domains" in config || "postforge:parkedDomains" in config;
  const stackYaml = checkStackFileShape(readYamlFile(stackFile), path.relative(projectDir, stackFile) || stackFile, projectSetsPostforge);
  for (const [key, value] of Object.entries((stackYaml.config ?? {}) as Record<string, unknown>)) put(key, value);
  const secretSettings = secretKeys.filter((k) => k.startsWith("postforge:"));
  if (secretSettings.length > 0) {
    throw new ValidationError(
      path.relative(projectDir, stackFile) || stackFile,
      secretSettings.map(
        (k) =>
          `${k} is stored as a secret (secure:); Postforge settings hold no secret (secrets are referenced by their Secrets Manager name), so the offline plan cannot read it; set it in plain text with \`pulumi config set ${k} <value>\``,
      ),
    );
  }
  const main = typeof project.main === "string" ? project.main : "index.ts";
  return { projectDir, project: name, stack, programPath: path.join(projectDir, main), stackFile, config, secretKeys };
}

/** The top-level keys a Pulumi stack file may hold. */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/**
 * A stack file must be a mapping of Pulumi's stack-file keys, and the stack
 * must get `postforge:*` settings from it or from Pulumi.yaml's `config:`
 * (project defaults): an empty or comment-only file with no defaults, a list,
 * or a typo such as `confg:` would plan as a stack with no zones, and
 * deploying it would delete every record the stack had published.
 */
function checkStackFileShape(parsed: unknown, file: string, projectSetsPostforge: boolean): Record<string, unknown> {
  if ((parsed === null || parsed === undefined) && projectSetsPostforge) return {};
  if (parsed === null || parsed === undefined) {
    throw new ValidationError(file, ["is empty (or only comments): a stack file holds `config:` with the postforge:* settings; deploying an empty stack would delete every record it published"]);
  }
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ValidationError(file, [`is a ${Array.isArray(parsed) ? "list" : typeof parsed}, not a mapping: a stack file holds \`config:\` with the postforge:* settings`]);
  }
  const problems = Object.keys(parsed).flatMap((key) => {
    if (STACK_FILE_KEYS.includes(key)) return [];
    const near = STACK_FILE_KEYS.find((k) => editDistance(k, key.toLowerCase()) <= 2);
    return [`${key}: not a key of a Pulumi stack file${near ? `; did you mean ${near}?` : ""} (the keys are ${STACK_FILE_KEYS.join(", ")})`];
  });
  if (problems.length > 0) throw new ValidationError(file, problems);
  const config = (parsed as Record<string, unknown>).config;
  if (config !== null && config !== undefined && (typeof config !== "object" || Array.isArray(config))) {
    throw new ValidationError(file, [`config: is a ${Array.isArray(config) ? "list" : typeof config}, not a mapping of settings`]);
  }
  const stackSetsPostforge = typeof config === "object" && config !== null && Object.keys(config).some((k) => k.startsWith("postforge:"));
  if (!stackSetsPostforge && !projectSetsPostforge) {
    const esc = (parsed as Record<string, unknown>).environment !== undefined;
    throw new ValidationError(file, [
      `config: holds no postforge:* setting (nor does Pulumi.yaml's config: set postforge:domains), so the stack would publish nothing, and deploying it would delete every record it published; add postforge:domains (see stacks/ for examples)${esc ? "; settings from a Pulumi ESC environment: cannot be read by the offline plan, so set them in the stack file or Pulumi.yaml" : ""}`,
    ]);
  }
  return parsed as Record<string, unknown>;
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * YAML 1.2's core schema, as Pulumi reads stack files: `2026-01-01` stays a
 * string and `<<` is an ordinary key. js-yaml, not \`yaml\`: a 1,000-domain
 * stack file parses in a seventh of the time.
 */
export function readYamlFile(file: string): unknown {
  try {
    return loadYaml(fs.readFileSync(file, "utf8"), { schema: CORE_SCHEMA, filename: path.basename(file) });
  } catch (error) {
    throw new ValidationError(path.basename(file), [`cannot be read as YAML: ${(error as Error).message}`]);
  }
}
