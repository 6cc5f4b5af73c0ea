// After `tsc -p tsconfig.build.json`: make dist/policies a policy pack directory that
// `pulumi preview --policy-pack node_modules/postforge/dist/policies` runs as it is:
// its PulumiPolicy.yaml and package.json, pointing at the compiled index.js.
const fs = require("node:fs");
const path = require("node:path");

const source = __dirname;
const target = path.join(__dirname, "..", "dist", "policies");
const yaml = fs.readFileSync(path.join(source, "PulumiPolicy.yaml"), "utf8").replace(/^main: index\.ts$/m, "main: index.js");
fs.writeFileSync(path.join(target, "PulumiPolicy.yaml"), yaml);
const pkg = JSON.parse(fs.readFileSync(path.join(source, "package.json"), "utf8"));
pkg.main = "index.js";
delete pkg.devDependencies;
fs.writeFileSync(path.join(target, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
