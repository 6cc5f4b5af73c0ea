/**
 * The policy pack under its real entry point: started as the Pulumi CLI
 * starts a Node.js pack (`pulumi-analyzer-policy` runs @pulumi/pulumi's
 * run-policy-pack in the pack's directory, which compiles policies/index.ts
 * with ts-node and type checking), it must print its port and answer the
 * analyzer gRPC protocol: list its policies, and judge a stack sent to it the
 * way the engine sends one at preview (a DKIM key generated at deploy is an
 * unknown value), clean and broken.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { CapturedResource } from "../cli/plan/engine";
import { DKIM_KEY_PLACEHOLDER } from "../components/captured-resource";
import { propsAsEngineSees } from "../policies/model/from-captured";
import { ALL_RULES } from "../policies/rules";
import { captureStack, handMadeResource } from "./support/policy-harness";
import { PROJECT_DIR } from "./support/offline";
import { startPolicyPack, type PolicyPackProcess } from "./support/policy-pack-process";

// The analyzer protocol as @pulumi/pulumi ships it (generated CommonJS, no types worth importing).
/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

/** What the engine sends for a value it does not know yet (rpc.unknownValue). */
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function withUnknowns(value: unknown): unknown {
  if (typeof value === "string") return value.includes(DKIM_KEY_PLACEHOLDER) ? UNKNOWN_SENTINEL : value;
  if (Array.isArray(value)) return value.map(withUnknowns);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withUnknowns(v)]));
  return value;
}

function analyzeStackRequest(resources: CapturedResource[]): unknown {
  const request = new analyzerPb.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((r) => {
      const resource = new analyzerPb.AnalyzerResource();
      resource.setType(r.type);
      resource.setName(r.name);
      resource.setUrn(r.urn);
      resource.setProperties(Struct.fromJavaScript(withUnknowns(propsAsEngineSees(r))));
      const options = new analyzerPb.AnalyzerResourceOptions();
      options.setProtect(r.protect);
      options.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
      if (r.parent) options.setParent(r.parent);
      resource.setOptions(options);
      if (r.parent) resource.setParent(r.parent);
      resource.setDependenciesList(r.dependencies);
      return resource;
    }),
  );
  return request;
}

/** AnalyzeDiagnostic.toObject(): protobuf's lower-case field names. */
interface Diagnostic {
  policyname: string;
  message: string;
  urn: string;
  enforcementlevel: number;
}

describe("the policy pack, served by its real entry point", { timeout: 240_000 }, () => {
  let pack: PolicyPackProcess;
  let client: any;
  let stderr = () => "";
  const call = <T>(method: string, request: unknown) =>
    new Promise<T>((resolve, reject) => client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))));

  before(async () => {
    const packDir = path.join(PROJECT_DIR, "policies");
    // As pulumi-analyzer-policy does: run-policy-pack <engine address> <pack path>, in the pack's directory.
    pack = await startPolicyPack(packDir, path.join(PROJECT_DIR, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"));
    stderr = pack.stderr;
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    pack?.stop();
  });

  it("serves postforge-email-auth with every rule as a stack policy at its default level", async () => {
    const info = (await call<any>("getAnalyzerInfo", new Empty())).toObject();
    assert.equal(info.name, "postforge-email-auth");
    const levels = ["advisory", "mandatory", "disabled", "remediate"];
    assert.deepEqual(
      info.policiesList.map((p: { name: string; enforcementlevel: number }) => [p.name, levels[p.enforcementlevel]]),
      ALL_RULES.map((r) => [r.name, r.enforcementLevel]),
    );
  });

  it("judges every example stack clean at preview, with the keys still unknown and components seen by their outputs", async () => {
    for (const stack of ["dev", "prod", "selfhosted"]) {
      const response = (await call<any>("analyzeStack", analyzeStackRequest(await captureStack(stack)))).toObject();
      const diagnostics = response.diagnosticsList as Diagnostic[];
      assert.deepEqual(diagnostics.map((d) => `[${d.policyname}] ${d.message}`), [], `${stack}\n${stderr()}`);
    }
  });

  it("reports a hand-made +all SPF record as a mandatory violation against that record", async () => {
    const broken = handMadeResource("prod", "aws:route53/record:Record", "catch-all-spf", {
      zoneId: "Z1111111111AAAAAAAAAA",
      name: "news.example.co.uk",
      type: "TXT",
      ttl: 300,
      records: ["v=spf1 +all"],
    });
    const response = (await call<any>("analyzeStack", analyzeStackRequest([...(await captureStack("prod")), broken]))).toObject();
    const diagnostics = response.diagnosticsList as Diagnostic[];
    assert.deepEqual(
      diagnostics.map((d) => [d.policyname, d.urn, d.enforcementlevel]),
      // EnforcementLevel 1 is MANDATORY in the analyzer protocol.
      [["spf-all-qualifier", broken.urn, 1]],
      diagnostics.map((d) => d.message).join("\n"),
    );
    assert.match(diagnostics[0].message, /news\.example\.co\.uk: SPF record "v=spf1 \+all": SPF term "\+all" lets any host on the internet pass SPF/);
  });
});
