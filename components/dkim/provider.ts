import type * as pulumi from "@pulumi/pulumi";

/**
 * The DkimKey dynamic provider: generates a key pair once, keeps it stable,
 * and walks it through the rotation states without ever leaving a window in
 * which a signature cannot be verified.
 *
 * Pulumi serializes this provider's closure into state, so everything it uses
 * lives in this file and libraries are `require`d inside the methods (a
 * top-level import would be captured as a whole module).
 */

/**
 * A key's place in a rotation, each a plain `pulumi up` apart:
 * - `pending`: published in DNS, not signing yet (receivers can fetch it first);
 * - `active`: published and signing;
 * - `retiring`: still published, no longer signing: mail signed with it may still be in flight;
 * - `revoked`: published with an empty `p=` (RFC 6376 §3.6.1), then removed from config.
 */
export type DkimKeyState = "pending" | "active" | "retiring" | "revoked";
/** Every DkimKeyState, in rotation order. */
export const DKIM_KEY_STATES: readonly DkimKeyState[] = ["pending", "active", "retiring", "revoked"];

/** The key types the provider generates: RSA, or Ed25519 (RFC 8463) for dual signing. */
export type DkimKeyAlgorithm = "rsa" | "ed25519";

/** Seven days: Postfix gives up on queued mail after five (maximal_queue_lifetime), plus DNS caching. */
export const DEFAULT_OVERLAP_SECONDS = 7 * 24 * 3600;

/** A DkimKey's inputs as the provider receives them, defaults already filled in by the DkimKey class. */
export interface DkimKeyInputs {
  /** The signing domain (DKIM `d=`). */
  domain: string;
  /** The selector; its record is `<selector>._domainkey.<domain>`. */
  selector: string;
  /** The key type. */
  algorithm: DkimKeyAlgorithm;
  /** RSA modulus size; 0 for Ed25519. */
  bits: number;
  /** 1024-bit RSA is refused unless this is set (legacy receivers only). */
  allowLegacy1024: boolean;
  /** The key's rotation state. */
  state: DkimKeyState;
  /** How long a key stays `retiring` before it may be revoked. */
  overlapSeconds: number;
}

/** A DkimKey's state as the provider stores it: the inputs plus the generated key and when its state began. */
export interface DkimKeyOutputs extends DkimKeyInputs {
  /** The `p=` value: base64 SPKI DER (RSA) or the raw 32-byte key (Ed25519). */
  publicKey: string;
  /** PKCS#8 PEM. A secret output: never in plain outputs, logs or user-data. */
  privateKeyPem: string;
  /** The exact TXT value to publish at `<selector>._domainkey.<domain>` (empty `p=` once revoked). */
  dnsValue: string;
  /** When the key was generated (ISO 8601). */
  createdAt: string;
  /** When the key entered its current state (ISO 8601). */
  stateSince: string;
}

/** Properties whose change means a different key. */
export const DKIM_KEY_REPLACE_ON = ["domain", "selector", "algorithm", "bits"] as const;

/** Which state may follow which; anything else skips a step of the overlap. */
const NEXT_STATES: Record<DkimKeyState, DkimKeyState[]> = {
  pending: ["pending", "active", "revoked"],
  active: ["active", "retiring"],
  retiring: ["retiring", "active", "revoked"],
  revoked: ["revoked"],
};

/** Why a new key may not start in this state, or undefined when it may. */
export function dkimCreationProblem(key: Pick<DkimKeyInputs, "domain" | "selector" | "state">): string | undefined {
  if (key.state === "pending") return undefined;
  return (
    `DKIM key ${key.domain}/${key.selector}: a new key must start as state "pending" (published, not signing) ` +
    `so receivers can see it before anything is signed with it; set state: pending, run pulumi up, then set state: active`
  );
}

/** Why moving from `from` to `to` would open a verification gap, or undefined when it is safe. */
export function dkimTransitionProblem(
  key: Pick<DkimKeyInputs, "domain" | "selector">,
  from: DkimKeyState,
  to: DkimKeyState,
): string | undefined {
  if (NEXT_STATES[from].includes(to)) return undefined;
  const id = `DKIM key ${key.domain}/${key.selector}`;
  const next: Record<DkimKeyState, string> = {
    pending: `set state: active once the record has propagated`,
    active: `set state: retiring (it stays published while mail signed with it is in flight), and make another key active`,
    retiring: `set state: revoked after the overlap`,
    revoked: `a revoked selector cannot be reused; give the new key a new selector`,
  };
  return `${id}: cannot go from "${from}" to "${to}" without a gap in verification; the next step is: ${next[from]}`;
}

/** Why a key may not be deleted yet (it may still verify mail in flight), or undefined. */
export function dkimRemovalProblem(key: Pick<DkimKeyInputs, "domain" | "selector" | "state">): string | undefined {
  if (key.state === "pending" || key.state === "revoked") return undefined;
  return (
    `DKIM key ${key.domain}/${key.selector} is "${key.state}": removing its record now would fail mail that is signed with it and still in flight; ` +
    `the next step is: ${key.state === "active" ? "set state: retiring" : "set state: revoked"}`
  );
}

/** Why inputs are invalid (sizes, selector, state), or an empty list. */
export function dkimInputProblems(inputs: Partial<DkimKeyInputs>): string[] {
  const problems: string[] = [];
  const id = `DKIM key ${inputs.domain}/${inputs.selector}`;
  if (!inputs.selector || !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(inputs.selector)) {
    problems.push(`${id}: selector "${inputs.selector}" is not a DNS label of letters, digits and hyphens (RFC 6376 §3.1; no underscore), e.g. pf2026q4`);
  }
  if (inputs.algorithm === "rsa") {
    const bits = inputs.bits;
    if (bits === 1024 && !inputs.allowLegacy1024) {
      problems.push(`${id}: bits 1024 is too weak (RFC 8301 requires 1024 at least and recommends 2048); use 2048, 3072 or 4096, or set allowLegacy1024RsaForOldReceivers: true for legacy receivers only`);
    } else if (bits !== 1024 && bits !== 2048 && bits !== 3072 && bits !== 4096) {
      problems.push(`${id}: bits ${bits} is not allowed; use 2048 (default), 3072 or 4096`);
    }
  } else if (inputs.algorithm === "ed25519") {
    if (inputs.bits !== 0) problems.push(`${id}: Ed25519 keys have a fixed size; leave bits unset`);
  } else {
    problems.push(`${id}: algorithm "${inputs.algorithm}" is not supported; use rsa or ed25519`);
  }
  if (!DKIM_KEY_STATES.includes(inputs.state as DkimKeyState)) {
    problems.push(`${id}: state "${inputs.state}" is not one of ${DKIM_KEY_STATES.join(", ")}`);
  }
  return problems;
}

/** The TXT value for a key in a state: an empty `p=` once revoked. */
export function dkimDnsValue(algorithm: DkimKeyAlgorithm, publicKey: string, state: DkimKeyState): string {
  return `v=DKIM1; k=${algorithm}; p=${state === "revoked" ? "" : publicKey}`;
}

/**
 * Generate a key pair with Node's native generator. The public key is what the
 * DKIM record's p= carries: for RSA the base64 of the SubjectPublicKeyInfo
 * (RFC 6376 §3.6.1), for Ed25519 the base64 of the bare 32-byte key (RFC 8463
 * §4.2). The private key is PKCS#8 PEM with LF line ends, as the mail host's files use.
 */
export function generateDkimKeyPair(algorithm: DkimKeyAlgorithm, bits: number): { publicKey: string; privateKeyPem: string } {
  // Required here: a dynamic provider's code is serialized, so it carries no module-level imports.
  const { generateKeyPairSync } = require("node:crypto") as typeof import("node:crypto");
  if (algorithm === "rsa") {
    const pair = generateKeyPairSync("rsa", {
      modulusLength: bits,
      publicExponent: 0x10001,
      publicKeyEncoding: { type: "spki", format: "der" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    return { publicKey: pair.publicKey.toString("base64"), privateKeyPem: pair.privateKey };
  }
  const pair = generateKeyPairSync("ed25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  // An Ed25519 SPKI is a fixed 12-byte prefix, then the key (RFC 8410 §4).
  return { publicKey: pair.publicKey.subarray(12).toString("base64"), privateKeyPem: pair.privateKey };
}

function now(): string {
  return new Date().toISOString();
}

/**
 * The dynamic provider behind DkimKey: `check` refuses a state change that
 * would leave a gap in verification, `create` generates the key pair, `update`
 * keeps it and moves its state, and `delete` refuses to drop a key mail may still need.
 */
export const dkimKeyProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<DkimKeyInputs>, news: DkimKeyInputs) {
    const failures = dkimInputProblems(news).map((reason) => ({ property: "", reason }));
    const isNew = olds.state === undefined;
    const problem = isNew
      ? dkimCreationProblem(news)
      : DKIM_KEY_REPLACE_ON.some((p) => olds[p] !== news[p])
        ? olds.state === "active" || olds.state === "retiring"
          ? `DKIM key ${news.domain}/${news.selector} is "${olds.state}": changing its ${DKIM_KEY_REPLACE_ON.filter((p) => olds[p] !== news[p]).join(", ")} would replace a key that mail in flight is signed with; rotate to a new selector instead`
          : undefined
        : dkimTransitionProblem(news, olds.state as DkimKeyState, news.state);
    if (problem) failures.push({ property: "state", reason: problem });
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: DkimKeyOutputs, news: DkimKeyInputs) {
    const replaces = DKIM_KEY_REPLACE_ON.filter((p) => olds[p] !== news[p]);
    const changed = replaces.length > 0 || olds.state !== news.state || olds.overlapSeconds !== news.overlapSeconds || olds.allowLegacy1024 !== news.allowLegacy1024;
    if (olds.state === "retiring" && news.state === "revoked") {
      const due = Date.parse(olds.stateSince) + olds.overlapSeconds * 1000;
      if (Date.now() < due) {
        throw new Error(
          `DKIM key ${news.domain}/${news.selector} has been retiring since ${olds.stateSince}; mail signed with it may still be in flight until ${new Date(due).toISOString()}. Keep state: retiring until then`,
        );
      }
    }
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: DkimKeyInputs) {
    const { publicKey, privateKeyPem } = generateDkimKeyPair(inputs.algorithm, inputs.bits);
    const at = now();
    const outs: DkimKeyOutputs = { ...inputs, publicKey, privateKeyPem, dnsValue: dkimDnsValue(inputs.algorithm, publicKey, inputs.state), createdAt: at, stateSince: at };
    return { id: `${inputs.domain}/${inputs.selector}`, outs };
  },

  async update(_id: string, olds: DkimKeyOutputs, news: DkimKeyInputs) {
    // The key itself never changes in an update: only its state and settings.
    const outs: DkimKeyOutputs = {
      ...olds,
      ...news,
      publicKey: olds.publicKey,
      privateKeyPem: olds.privateKeyPem,
      dnsValue: dkimDnsValue(news.algorithm, olds.publicKey, news.state),
      stateSince: olds.state === news.state ? olds.stateSince : now(),
    };
    return { outs };
  },

  async delete(_id: string, props: DkimKeyOutputs) {
    const problem = dkimRemovalProblem(props);
    if (problem && process.env.POSTFORGE_FORCE_DKIM_KEY_DELETE !== "1") {
      throw new Error(`${problem} (set POSTFORGE_FORCE_DKIM_KEY_DELETE=1 only if the key is known to be unused)`);
    }
  },
};
