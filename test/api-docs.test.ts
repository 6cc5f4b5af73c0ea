/**
 * The API reference: `npm run docs` (TypeDoc over the package's public
 * modules, typedoc.json) must build with no validation warning, so every
 * exported declaration has its documentation; and every field of every
 * component's Args interface has its own JSDoc (what it is, its default),
 * read with the TypeScript compiler over components/.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const root = path.resolve(__dirname, "..");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** Fields of exported `*Args` interfaces without a JSDoc comment, as "Interface.field (file)". */
export function undocumentedArgsFields(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const missing: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement) || !statement.name.text.endsWith("Args")) continue;
    if (!statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member)) continue;
      const docs = ts.getJSDocCommentsAndTags(member);
      if (docs.length === 0) missing.push(`${statement.name.text}.${member.name.getText(source)} (${path.relative(root, file)})`);
    }
  }
  return missing;
}

describe("API reference", { timeout: 180_000 }, () => {
  it("npm run docs builds the reference with no warning: every exported declaration is documented", async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(process.execPath, [path.join(root, "node_modules", "typedoc", "bin", "typedoc"), "--emit", "none"], { cwd: root, timeout: 170_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, "") }),
      ),
    );
    const undocumented = result.output.split("\n").filter((l) => /does not have any documentation/.test(l));
    assert.deepEqual(undocumented, []);
    assert.equal(result.code, 0, result.output);
    assert.doesNotMatch(result.output, /\[warning\]/, result.output);
  });

  it("every field of every component's Args interface has its JSDoc", () => {
    const missing = sources(path.join(root, "components")).flatMap((f) => undocumentedArgsFields(f, fs.readFileSync(f, "utf8")));
    assert.deepEqual(missing, []);
  });

  it("has teeth: a field without JSDoc is found", () => {
    const text = "export interface ThingArgs {\n  /** Documented. */\n  a: string;\n  b?: number;\n}\ninterface OtherArgs { c: string }\n";
    assert.deepEqual(undocumentedArgsFields(path.join(root, "components", "x.ts"), text), ["ThingArgs.b (components/x.ts)"]);
  });
});
