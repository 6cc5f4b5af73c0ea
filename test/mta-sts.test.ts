/**
 * MTA-STS served by the mail host, with the real daemons: the example stack
 * `selfhosted` serves example.com's policy from its host. The host boots
 * from its manifest in the mail lab (test/support/mta-daemons.ts); the lab's
 * DNS publishes what the stack publishes (mta-sts.example.com at the host,
 * `_mta-sts` with the policy's id). A test CA stands in for Let's Encrypt:
 * its certificates for the names the boot script asks certbot for (the
 * host's, and its mta-sts names') go where certbot's deploy hook installs
 * them. Then, from where a sender stands:
 *  - `postforge verify --domain example.com --tls` (the CLI, a process of its
 *    own that trusts the test CA), through the lab's resolver, fetches the
 *    policy and passes;
 *  - without the CA it fails on the certificate: the check has teeth;
 *  - a policy change reaches the host by its sync, and the deploy's wait
 *    (MtaStsPolicyServed, which the `_mta-sts` record waits for) ends only
 *    once the host serves the new file, and fails, naming the record left
 *    alone, while it serves the old one (RFC 8461 §3.3).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mtaStsPolicyId, mtaStsPolicyText } from "../components/dns/protocols";
import { certificateLineages, certificateNames } from "../components/mta-host/boot-script";
import { mtaStsPolicyPath, parseMailHostConfig, PATHS } from "../components/mta-host";
import { fetchServedPolicy, waitForServedPolicy } from "../components/mta-host/mta-sts-served";
import type { KnotServer } from "./support/dns-tools";
import { LAB, requireLab } from "./support/lab";
import type { MailHostDaemons } from "./support/mta-daemons";
import { config, createKeys, HOST, startFixtureHost, startLabDns } from "./support/mta-e2e-fixture";
import { PROJECT_DIR } from "./support/offline";
import { run } from "./support/mta-tools";

const BIN = join(PROJECT_DIR, "bin", "postforge.js");
const DOMAIN = "example.com";
const served = config.domains.find((d) => d.domain === DOMAIN)!.mtaStsPolicy!;

interface VerifyCheck {
  id: string;
  domain: string;
  status: "pass" | "warn" | "fail";
  message: string;
}

/** `postforge verify --domain example.com --tls --json` as a user runs it, through the lab's resolver; with the test CA trusted when given. */
function verifyCli(ca?: string): Promise<{ code: number; checks: VerifyCheck[]; stderr: string }> {
  return new Promise((resolve) => {
    const { NODE_EXTRA_CA_CERTS: _ignored, ...inherited } = process.env;
    const env = ca ? { ...inherited, NODE_EXTRA_CA_CERTS: ca } : inherited;
    execFile(process.execPath, [BIN, "verify", "--domain", DOMAIN, "--tls", "--resolver", `${LAB.DNS_SERVER}:53`, "--json"], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0;
      resolve({ code, checks: JSON.parse(stdout) as VerifyCheck[], stderr });
    });
  });
}

/** A test CA (made here, or `from` another issue's), and a certificate from it for `names`. */
async function testCertificate(dir: string, names: string[], from?: { ca: string }): Promise<{ ca: string; cert: string; key: string }> {
  const at = (f: string) => join(dir, `${names[0]}-${f}`);
  const openssl = async (args: string[]) => {
    const result = await run("openssl", args);
    assert.ok(result.ok, result.output);
  };
  const ca = from ? from.ca : at("ca.pem");
  const caKey = ca.replace(/ca\.pem$/, "ca.key");
  if (!from) await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Postforge lab test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-keyout", caKey, "-out", ca]);
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${names[0]}`, "-keyout", at("host.key"), "-out", at("host.csr")]);
  await writeFile(at("ext.cnf"), `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
  await openssl(["x509", "-req", "-in", at("host.csr"), "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-extfile", at("ext.cnf"), "-out", at("host.pem")]);
  return { ca, cert: at("host.pem"), key: at("host.key") };
}

let knot: KnotServer | undefined;
let host: MailHostDaemons | undefined;
let scratch = "";

describe("the mail host serves MTA-STS policies: verify --tls passes through the lab's resolver, and a new policy is served before its id", { timeout: 240_000 }, () => {
  let ca = "";
  before(async () => {
    requireLab("the MTA-STS end-to-end test");
    const keys = await createKeys();
    knot = await startLabDns(keys);
    host = await startFixtureHost(keys);
    scratch = await mkdtemp(join(tmpdir(), "postforge-mta-sts-"));
    // Let's Encrypt's part, played by a test CA, for exactly the names the boot script asks certbot for (two lineages);
    // installed where certbot's deploy hook installs them, and the daemons that read them reloaded.
    const names = certificateNames(config);
    const issued = await testCertificate(scratch, names.host);
    const policyIssued = await testCertificate(scratch, names.policyHosts, issued);
    ca = issued.ca;
    // The host's own lineage by hand (its hook reloads Postfix and Dovecot, which run from the test root here) ...
    await writeFile(host.root.at(PATHS.tlsCert), await readFile(issued.cert));
    await writeFile(host.root.at(PATHS.tlsKey), await readFile(issued.key));
    await chmod(host.root.at(PATHS.tlsKey), 0o600);
    // ... the mta-sts lineage by the rendered deploy hook itself, as certbot runs it (RENEWED_LINEAGE is the lineage's live directory).
    const lineage = join(scratch, "live", certificateLineages(config).policyHosts);
    await mkdir(lineage, { recursive: true });
    await writeFile(join(lineage, "fullchain.pem"), await readFile(policyIssued.cert));
    await writeFile(join(lineage, "privkey.pem"), await readFile(policyIssued.key));
    const hook = await run(host.root.at(PATHS.certDeployHook), [], 30_000, host.toolEnv({ RENEWED_LINEAGE: lineage }));
    assert.ok(hook.ok, hook.output);
    assert.equal((await stat(host.root.at(PATHS.mtaStsKey))).mode & 0o777, 0o600);
    assert.equal(await readFile(host.root.at(PATHS.mtaStsCert), "utf8"), await readFile(policyIssued.cert, "utf8"));
    assert.equal((await host.systemctlCalls()).at(-1), "restart postforge-unsubscribe");
    // A lineage this configuration does not use (a staging one left from before, which certbot renew still renews) is left alone.
    const stale = join(scratch, "live", `${HOST}-staging`);
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, "fullchain.pem"), "stale\n");
    await writeFile(join(stale, "privkey.pem"), "stale\n");
    const ignored = await run(host.root.at(PATHS.certDeployHook), [], 30_000, host.toolEnv({ RENEWED_LINEAGE: stale }));
    assert.ok(ignored.ok, ignored.output);
    assert.match(ignored.output, /is not a certificate this configuration uses; left alone/);
    assert.notEqual(await readFile(host.root.at(PATHS.tlsCert), "utf8"), "stale\n");
    const reloaded = await run("postfix", ["-c", host.root.at(PATHS.postfixDir), "reload"]);
    assert.ok(reloaded.ok, reloaded.output);
    await host.kill("postforge-unsubscribe", "SIGTERM");
    await host.start("postforge-unsubscribe");
  });
  after(async () => {
    await host?.stop();
    await knot?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("asks for the host's certificate and one for mta-sts.example.com, and its manifest carries the policy the stack's TXT id names", async () => {
    assert.deepEqual(certificateNames(config), { host: [HOST], policyHosts: [`mta-sts.${DOMAIN}`] });
    assert.equal(await readFile(host!.root.at(mtaStsPolicyPath(DOMAIN)), "utf8"), served);
    assert.equal(served, mtaStsPolicyText({ mode: "enforce", mx: [HOST], maxAge: 1209600 }));
  });

  it("postforge verify --tls fetches the policy through the lab's resolver and passes", async () => {
    const { checks, stderr } = await verifyCli(ca);
    const byId = (id: string) => checks.find((c) => c.id === id && c.domain === DOMAIN);
    assert.equal(byId("mta-sts.record")?.status, "pass", JSON.stringify(checks, null, 1) + stderr);
    assert.deepEqual(byId("mta-sts.policy"), { id: "mta-sts.policy", domain: DOMAIN, status: "pass", message: `https://mta-sts.${DOMAIN}/.well-known/mta-sts.txt is a valid policy` });
  });

  it("answers each name on 443 with its own lineage's certificate, chosen by SNI", async () => {
    const subject = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: LAB.MAIL_HOST, port: 443, servername, ca: readFileSync(ca) }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.end();
        });
        socket.on("error", reject);
      });
    assert.equal(await subject(HOST), HOST);
    assert.equal(await subject(`mta-sts.${DOMAIN}`), `mta-sts.${DOMAIN}`);
  });

  it("without the CA the same fetch fails on the certificate, as a sender's would", async () => {
    const { checks } = await verifyCli();
    const policy = checks.find((c) => c.id === "mta-sts.policy" && c.domain === DOMAIN);
    assert.equal(policy?.status, "fail");
    assert.match(policy!.message, /certificate|self.signed|issuer/i);
  });

  it("a new policy reaches the host by its sync, and the deploy's wait ends only once the host serves it", async () => {
    const next = parseMailHostConfig({ ...config, domains: config.domains.map((d) => (d.domain === DOMAIN ? { ...d, mtaStsPolicy: mtaStsPolicyText({ mode: "enforce", mx: [HOST], maxAge: 2419200 }) } : d)) });
    const nextPolicy = next.domains.find((d) => d.domain === DOMAIN)!.mtaStsPolicy!;
    assert.notEqual(mtaStsPolicyId(nextPolicy), mtaStsPolicyId(served));
    // Deployed but not yet synced: the host serves the old file, so the wait fails and the record keeps its id.
    await host!.storeConfig(next);
    const wait = { domain: DOMAIN, address: LAB.MAIL_HOST, policy: nextPolicy, timeoutSeconds: 2, intervalSeconds: 1 };
    await assert.rejects(waitForServedPolicy(wait), (error: Error) => {
      assert.match(error.message, /did not serve the new MTA-STS policy within 2 s \(last: it serves another policy/);
      assert.match(error.message, /The _mta-sts\.example\.com record was left as it was/);
      return true;
    });
    // The host's sync applies the manifest; the running server answers the new file at once.
    await host!.sync();
    await waitForServedPolicy({ ...wait, timeoutSeconds: 10 });
    const fetched = await fetchServedPolicy(DOMAIN, LAB.MAIL_HOST, 5000);
    assert.deepEqual(fetched, { ok: true, body: nextPolicy });
    // Another name on the same address is not a policy host: nothing is served for it.
    assert.deepEqual(await fetchServedPolicy("example.net", LAB.MAIL_HOST, 5000), { ok: false, message: "HTTP 404" });
  });
});
