import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_OVERLAP_SECONDS,
  dkimKeyProvider,
  type DkimKeyAlgorithm,
  type DkimKeyState,
} from "./provider";

/** The arguments of a DkimKey: which key to generate and where it is in its rotation. */
export interface DkimKeyArgs {
  /** The signing domain (DKIM `d=`). */
  domain: pulumi.Input<string>;
  /** The selector; its record is `<selector>._domainkey.<domain>`. */
  selector: pulumi.Input<string>;
  /** `rsa` (default) or `ed25519` (RFC 8463, for dual signing). */
  algorithm?: pulumi.Input<DkimKeyAlgorithm>;
  /** RSA size: 2048 (default), 3072 or 4096. Ignored for Ed25519. */
  bits?: pulumi.Input<number>;
  /** Accept a 1024-bit RSA key, for legacy receivers only. Default false. */
  allowLegacy1024RsaForOldReceivers?: pulumi.Input<boolean>;
  /** Rotation state (see ./provider.ts). Default `pending`. */
  state?: pulumi.Input<DkimKeyState>;
  /** Seconds a key stays `retiring` before it may be revoked. Default 7 days. */
  overlapSeconds?: pulumi.Input<number>;
}

/** The module and type of the dynamic resource: `pulumi-nodejs:dynamic/dkim:DkimKey`. */
import { DKIM_KEY_MODULE, DKIM_KEY_TYPE, DKIM_KEY_TYPE_NAME } from "../type-tokens";
export { DKIM_KEY_MODULE, DKIM_KEY_TYPE, DKIM_KEY_TYPE_NAME };

/**
 * A DKIM key pair generated in the deployment (never on a laptop), stable
 * across runs, whose private half is a secret output. Pulumi gives dynamic
 * resources the `pulumi-nodejs:dynamic/<module>:<type>` token, so this is
 * `pulumi-nodejs:dynamic/dkim:DkimKey`.
 */
export class DkimKey extends pulumi.dynamic.Resource {
  declare readonly domain: pulumi.Output<string>;
  declare readonly selector: pulumi.Output<string>;
  declare readonly algorithm: pulumi.Output<DkimKeyAlgorithm>;
  declare readonly bits: pulumi.Output<number>;
  declare readonly state: pulumi.Output<DkimKeyState>;
  /** The `p=` value. */
  declare readonly publicKey: pulumi.Output<string>;
  /** PKCS#8 PEM; secret. */
  declare readonly privateKeyPem: pulumi.Output<string>;
  /** The exact TXT value for `<selector>._domainkey.<domain>`. */
  declare readonly dnsValue: pulumi.Output<string>;
  declare readonly stateSince: pulumi.Output<string>;

  constructor(name: string, args: DkimKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const algorithm = args.algorithm ?? "rsa";
    super(
      dkimKeyProvider,
      name,
      {
        domain: args.domain,
        selector: args.selector,
        algorithm,
        bits: pulumi.output(algorithm).apply((a) => (a === "ed25519" ? pulumi.output(0) : pulumi.output(args.bits ?? 2048))),
        allowLegacy1024: args.allowLegacy1024RsaForOldReceivers ?? false,
        state: args.state ?? "pending",
        overlapSeconds: args.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
        publicKey: undefined,
        privateKeyPem: undefined,
        dnsValue: undefined,
        stateSince: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKeyPem"] }),
      DKIM_KEY_MODULE,
      DKIM_KEY_TYPE_NAME,
    );
    // additionalSecretOutputs is applied by the engine; wrap here too so the key
    // is a secret wherever this object is used (mocks, tests, other programs).
    this.privateKeyPem = pulumi.secret(this.privateKeyPem);
  }
}
