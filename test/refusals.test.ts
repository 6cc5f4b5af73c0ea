/**
 * Bad configs are refused before anything exists, each with a message that
 * names the field, the value and the fix. Every case runs twice: through
 * `postforge plan` on a stack file in a temporary project (exit code 2, the
 * message on stderr, nothing on stdout), and through the offline engine,
 * which must have captured zero resources when the program stops (under
 * `pulumi up` a resource registered before the error could be created).
 * Then the command-line cases: `plan --out` to a path that cannot be
 * written, and `diff` of plans of two different stacks.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { OfflineRunError, runOffline } from "../cli/plan/engine";
import { EXIT, main } from "../cli/postforge";
import { captureIo } from "./support/io";
import { PROJECT_DIR } from "./support/offline";
import { exampleStackConfig } from "./support/policy-harness";

type Config = Record<string, any>;

/** A project of its own: the repository's Pulumi.yaml and program, and one stack file. */
function project(stack: string, stackFile: string): string {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "postforge-refusal-"));
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.symlinkSync(path.join(PROJECT_DIR, "index.ts"), path.join(dir, "index.ts"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), stackFile);
  return dir;
}

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function planIn(dir: string, stack: string, extra: string[] = []) {
  const io = captureIo();
  const code = await main(["plan", "--stack", stack, "--cwd", dir, ...extra], io);
  return { code, out: io.out, err: io.err };
}

/** The config's resources captured when the program stops (the engine's run, as `pulumi up` would start it). */
async function registeredBeforeRefusal(stack: string, config: Config): Promise<string[]> {
  const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  try {
    await runOffline({ programPath: path.join(PROJECT_DIR, "index.ts"), project: "postforge", stack, config: flat });
  } catch (error) {
    if (!(error instanceof OfflineRunError)) throw error;
    return error.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.name);
  }
  throw new Error("the program planned; expected a refusal");
}

const CASES: { what: string; stack: string; change: (c: Config) => void; message: RegExp }[] = [
  {
    what: "SSH open to the world without the opt-in (checked before the KMS key and the DKIM keys, which MailHost used to follow)",
    stack: "selfhosted",
    change: (c) => (c["postforge:mailHost"].sshCidrs = ["0.0.0.0/0"]),
    message: /mailHost\.sshCidrs\[0\] = "0\.0\.0\.0\/0": opens SSH to the whole internet; list your admin networks, use SSM Session Manager, or set mailHost\.allowSshFromAnywhere: true/,
  },
  {
    what: "SSH open to the world by two halves",
    stack: "selfhosted",
    change: (c) => (c["postforge:mailHost"].sshCidrs = ["0.0.0.0/1", "128.0.0.0/1"]),
    message: /mailHost\.sshCidrs = \["0\.0\.0\.0\/1","128\.0\.0\.0\/1"\]: together these ranges hold every IPv4 address, which opens SSH to the whole internet; .*set mailHost\.allowSshFromAnywhere: true/,
  },
  {
    what: "SPF that authorizes the internet by two halves",
    stack: "prod",
    change: (c) => (c["postforge:domains"][0].spf.ip4 = ["0.0.0.0/1", "128.0.0.0/1"]),
    message: /domains\[0\]\.spf\.ip4: SPF terms "ip4:0\.0\.0\.0\/1", "ip4:128\.0\.0\.0\/1" together authorize every IPv4 address on the internet, as "\+all" does; list only your senders' addresses or networks/,
  },
  {
    what: "an MX target with no address in another zone of the stack",
    stack: "dev",
    change: (c) => (c["postforge:domains"][1].mx = [{ host: "mx2.example.com", priority: 10 }]),
    message: /domains\[1\]\.mx\[0\]\.host: "mx2\.example\.com" has no address in example\.com, a zone of this stack, so mail for example\.org cannot be delivered \(RFC 5321 §5\.1\); add it to domains\[0\]\.hosts with its ipv4, or name a host that has one/,
  },
  {
    what: "a public suffix as a sending domain",
    stack: "dev",
    change: (c) => (c["postforge:domains"][1].name = "co.uk"),
    message: /domains\[1\]\.name: "co\.uk" is a public suffix \(Public Suffix List\): no one owns it, so it cannot be a sending or parked domain; use a domain registered under it, such as example\.co\.uk/,
  },
  {
    what: "a DMARC record of 22 report URIs, too large for one UDP answer",
    stack: "dev",
    change: (c) => (c["postforge:domains"][0].dmarc.rua = Array.from({ length: 22 }, (_, i) => `mailto:dmarc-reports-${i}@example.com`)),
    message: /domains\[0\]\.dmarc: DMARC record is \d+ octets; Postforge keeps a DMARC answer within 450 octets so it fits one 512-octet UDP response .*Postforge's rule, stricter than RFC 7489\); list fewer report URIs/,
  },
  {
    what: "managed DKIM keys without aws:region",
    stack: "dev",
    change: (c) => delete c["aws:region"],
    message: /aws:region = nothing: domains\[0\]\.dkim\.keys are generated into Secrets Manager, which needs a region, whatever the DNS provider; set it with `pulumi config set aws:region eu-west-1`/,
  },
];

describe("refused before anything exists", () => {
  for (const c of CASES) {
    it(`${c.what}: plan exits 2 naming the field, the value and the fix; the program registers nothing`, async () => {
      const config = exampleStackConfig(c.stack);
      c.change(config);
      const dir = project(c.stack, stringify({ config }));
      made.push(dir);
      const planned = await planIn(dir, c.stack);
      assert.equal(planned.code, EXIT.invalid, planned.err || planned.out.slice(0, 400));
      assert.equal(planned.out, "");
      assert.match(planned.err, c.message);
      assert.deepEqual(await registeredBeforeRefusal(c.stack, config), []);
    });
  }

  it("a mail host serving more domains than its config manifest can hold: refused before the KMS key and the keys, naming the count", async () => {
    const config = exampleStackConfig("selfhosted");
    // Random-looking selectors, so compression cannot hide the size.
    const extra = Array.from({ length: 1200 }, (_, i) => {
      const tag = createHash("sha256").update(String(i)).digest("hex");
      return {
        name: `d${i}-${tag.slice(0, 16)}.example.com`,
        dns: { provider: "route53", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
        spf: { all: "-all" },
        dmarc: { p: "reject" },
        dkim: { selectorPrefix: `s${tag.slice(16, 30)}`, keys: [{ quarter: "2026q4", state: "active" }] },
      };
    });
    config["postforge:domains"].push(...extra);
    config["postforge:mailHost"].domains.push(...extra.map((d) => d.name));
    const registered = await registeredBeforeRefusal("selfhosted", config).catch((e: Error) => e);
    assert.deepEqual(registered, []);
    const dir = project("selfhosted", stringify({ config }));
    made.push(dir);
    const planned = await planIn(dir, "selfhosted");
    assert.equal(planned.code, EXIT.invalid);
    assert.match(planned.err, /mailHost\.domains: 1202 domains make a config manifest of \d+ bytes \(compressed\), over Secrets Manager's 65536; serve them from several hosts/);
  });

  it("warns that receivers may honour only two DMARC report URIs", async () => {
    const config = exampleStackConfig("dev");
    config["postforge:domains"][0].dmarc.rua = ["mailto:a@example.com", "mailto:b@example.com", "mailto:c@example.com"];
    const dir = project("dev", stringify({ config }));
    made.push(dir);
    const planned = await planIn(dir, "dev", ["--json"]);
    assert.equal(planned.code, EXIT.ok, planned.err);
    assert.ok(
      (JSON.parse(planned.out).warnings as string[]).some((w) => /domains\[0\]\.dmarc\.rua: DMARC "rua" lists 3 report URIs; receivers may honour only the first 2 \(RFC 7489 §6\.2\)/.test(w)),
      planned.out.slice(0, 2000),
    );
  });
});

describe("stack files that would plan an empty stack", () => {
  const FILES: [string, string, RegExp][] = [
    ["an empty file", "", /Pulumi\.x\.yaml is invalid:\n  - is empty \(or only comments\): a stack file holds `config:` with the postforge:\* settings; deploying an empty stack would delete every record it published/],
    ["a comment-only file", "# config:\n#   postforge:domains: []\n", /is empty \(or only comments\)/],
    ["a top-level list", "- config: {}\n", /is a list, not a mapping: a stack file holds `config:` with the postforge:\* settings/],
    ["a typo in the top-level key", "confg:\n  postforge:environment: production\n", /confg: not a key of a Pulumi stack file; did you mean config\? \(the keys are config, secretsprovider, encryptedkey, encryptionsalt, environment\)/],
    ["a config without a postforge setting", "config:\n  aws:region: eu-west-1\n", /config: holds no postforge:\* setting \(nor does Pulumi.yaml.s config: set postforge:domains\), so the stack would publish nothing, and deploying it would delete every record it published; add postforge:domains/],
    ["postforge settings with no domain", "config:\n  postforge:environment: production\n", /domains = \[\]: and parkedDomains are both empty: the stack would publish no zone, and deploying it would delete every record it published; list at least one domain/],
    ["a postforge setting stored as a secret", "config:\n  postforge:environment:\n    secure: AAABAKkw\n  postforge:domains: []\n", /postforge:environment is stored as a secret \(secure:\); Postforge settings hold no secret .*; set it in plain text with `pulumi config set postforge:environment <value>`/],
  ];
  for (const [what, text, message] of FILES) {
    it(`${what}: plan exits 2 with the reason`, async () => {
      const dir = project("x", text);
      made.push(dir);
      const planned = await planIn(dir, "x");
      assert.equal(planned.code, EXIT.invalid, planned.out.slice(0, 300));
      assert.equal(planned.out, "");
      assert.match(planned.err, message);
    });
  }
});

describe("settings Pulumi reads from Pulumi.yaml", () => {
  it("domains in Pulumi.yaml's config: plan with a stack file of other settings, or an empty one", async () => {
    const domains = exampleStackConfig("dev")["postforge:domains"];
    for (const stackFile of ["config:\n  aws:region: eu-west-2\n", "", "encryptionsalt: v1:abc\n"]) {
      const dir = project("x", stackFile);
      made.push(dir);
      const pulumiYaml = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8").replace(/^config:\n/m, `config:\n  aws:region:\n    value: eu-west-1\n  postforge:domains:\n    value: ${JSON.stringify(domains)}\n`);
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), pulumiYaml);
      const planned = await planIn(dir, "x", ["--json"]);
      assert.equal(planned.code, EXIT.ok, `${JSON.stringify(stackFile)}: ${planned.err}`);
      assert.deepEqual((JSON.parse(planned.out).domains as { domain: string }[]).map((d) => d.domain), ["example.com", "example.org"]);
      assert.equal(domains.length, 2);
    }
  });
});

describe("command-line refusals", () => {
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(tmpdir(), "postforge-cli-refusal-"));
    made.push(work);
  });

  it("plan --out where a file is in the way, or in procfs: exit 2 before the plan runs, no stack trace", async () => {
    const file = path.join(work, "a-file");
    fs.writeFileSync(file, "x");
    fs.symlinkSync("/proc/self", path.join(work, "into-proc"));
    for (const [out, why] of [
      [path.join(file, "zones"), /a file is in the way \(the path, or a directory above it, is a file, not a directory\)/],
      [file, /a file is in the way/],
      ["/proc/self/postforge", /\/proc\/self\/postforge \(really \/proc\/\d+\/postforge\) is a kernel file system, not a place for zone files/],
      [path.join(work, "into-proc", "postforge"), /into-proc\/postforge \(really \/proc\/\d+\/postforge\) is a kernel file system/],
    ] as const) {
      const io = captureIo();
      const started = Date.now();
      const code = await main(["plan", "--stack", "dev", "--cwd", PROJECT_DIR, "--out", out], io);
      assert.equal(code, EXIT.invalid, io.err);
      assert.equal(io.out, "");
      assert.match(io.err, new RegExp(`--out = ${JSON.stringify(out).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: `));
      assert.match(io.err, why);
      assert.doesNotMatch(io.err, /\n\s+at /, "no stack trace");
      assert.ok(Date.now() - started < 2_000, "refused before planning");
    }
  });

  it("plan --out in /dev/shm (an ordinary tmpfs) writes the zones", async () => {
    const out = fs.mkdtempSync("/dev/shm/postforge-out-");
    made.push(out);
    const io = captureIo();
    assert.equal(await main(["plan", "--stack", "dev", "--cwd", PROJECT_DIR, "--out", path.join(out, "zones")], io), EXIT.ok, io.err);
    assert.ok(fs.readdirSync(path.join(out, "zones")).includes("example.com.zone"), fs.readdirSync(path.join(out, "zones")).join(", "));
  });

  it("diff of plans of two different stacks: exit 2, unless --across-stacks", async () => {
    const plans: Record<string, string> = {};
    for (const stack of ["dev", "prod"]) {
      const io = captureIo();
      assert.equal(await main(["plan", "--stack", stack, "--cwd", PROJECT_DIR, "--json"], io), EXIT.ok, io.err);
      plans[stack] = path.join(work, `${stack}.json`);
      fs.writeFileSync(plans[stack], io.out);
    }
    const io = captureIo();
    assert.equal(await main(["diff", "--base", plans.dev, "--head", plans.prod], io), EXIT.invalid);
    assert.match(io.err, /--base and --head are plans of different stacks \(dev and prod\): a diff compares one stack's plan before and after a change; plan both sides with the same --stack, or pass --across-stacks to compare them anyway/);
    const anyway = captureIo();
    assert.equal(await main(["diff", "--base", plans.dev, "--head", plans.prod, "--across-stacks"], anyway), EXIT.ok, anyway.err);
  });
});
