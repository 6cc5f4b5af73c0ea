import * as pulumi from "@pulumi/pulumi";
import { MTA_STS_MODULE, MTA_STS_POLICY_SERVED_TYPE_NAME } from "../type-tokens";

/**
 * RFC 8461 §3.3 (and §3.1's `id`): a sender that sees a new `_mta-sts` id
 * fetches the policy once and keeps it under that id, so the new file must
 * be served before the id changes, or senders hold the old policy until its
 * max_age runs out. The host fetches its configuration itself (sync.ts,
 * every five minutes), so uploading the manifest is not serving it:
 * MtaStsPolicyServed is done only once the host answers the new policy, and
 * MailStack puts the TXT record after it. A host that does not serve it in
 * time fails the deploy with the TXT record untouched.
 */

/** What MtaStsPolicyServed waits for. */
export interface MtaStsPolicyServedInputs {
  /** The policy domain: the file is fetched with Host and SNI `mta-sts.<domain>`. */
  domain: string;
  /** The host's address (its Elastic IP), asked directly: DNS may still cache the name's absence. */
  address: string;
  /** The policy text that must be served, byte for byte. */
  policy: string;
  /** How long to wait for the host's sync (and on a new host, its boot). */
  timeoutSeconds: number;
  /** Seconds between fetches. */
  intervalSeconds: number;
}

/** Default wait: a new host boots (packages, first sync) in well under this; a running one syncs every five minutes. */
export const MTA_STS_SERVED_TIMEOUT_SECONDS = 1200;

/** What one fetch saw: the body on HTTP 200, or why not. */
export type PolicyFetch = { ok: true; body: string } | { ok: false; message: string };

/**
 * One fetch of https://mta-sts.<domain>/.well-known/mta-sts.txt from the
 * given address. The certificate is not judged here: a new host serves its
 * self-signed one until Let's Encrypt answers, and `postforge verify --tls`
 * checks the certificate as senders do. Only the file's presence matters for
 * the order.
 */
export function fetchServedPolicy(domain: string, address: string, timeoutMs: number): Promise<PolicyFetch> {
  // Required inside the function: Pulumi serialises the provider's functions with what they close over.
  const https = require("node:https") as typeof import("node:https");
  // Written out, not imported (mtaStsPolicyHost, MTA_STS_POLICY_PATH): Pulumi serialises this function with
  // everything it closes over, and an imported module would be serialised whole.
  const name = `mta-sts.${domain}`;
  return new Promise((resolve) => {
    const request = https.get(
      { host: address, port: 443, path: "/.well-known/mta-sts.txt", servername: name, headers: { Host: name }, rejectUnauthorized: false, timeout: timeoutMs },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
          if (body.length > 65_536) request.destroy(new Error("answer larger than 64 KiB"));
        });
        response.on("end", () => resolve(response.statusCode === 200 ? { ok: true, body } : { ok: false, message: `HTTP ${response.statusCode}` }));
        response.on("error", (error) => resolve({ ok: false, message: error.message }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", (error) => resolve({ ok: false, message: error.message }));
  });
}

/** Wait until the host serves exactly `inputs.policy`; throws, naming what it last saw and what to do, once the time is up. */
export async function waitForServedPolicy(inputs: MtaStsPolicyServedInputs): Promise<void> {
  const deadline = Date.now() + inputs.timeoutSeconds * 1000;
  let last = "no answer yet";
  for (;;) {
    const seen = await fetchServedPolicy(inputs.domain, inputs.address, 10_000);
    if (seen.ok && seen.body === inputs.policy) return;
    last = seen.ok ? `it serves another policy (${JSON.stringify(seen.body.slice(0, 200))})` : seen.message;
    if (Date.now() + inputs.intervalSeconds * 1000 > deadline) break;
    await new Promise((r) => setTimeout(r, inputs.intervalSeconds * 1000));
  }
  throw new Error(
    `https://mta-sts.${inputs.domain}/.well-known/mta-sts.txt on ${inputs.address} did not serve the new MTA-STS policy within ${inputs.timeoutSeconds} s (last: ${last}). ` +
      `The _mta-sts.${inputs.domain} record was left as it was, so senders keep the policy they have (RFC 8461 §3.3). ` +
      `Check the host's sync (journalctl -u postforge-sync), then run the deploy again`,
  );
}

/** The dynamic provider: create and update wait; nothing to delete (the host stops serving a file when the manifest drops it). */
export const mtaStsPolicyServedProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: MtaStsPolicyServedInputs, news: MtaStsPolicyServedInputs) {
    return { changes: olds.policy !== news.policy || olds.address !== news.address || olds.domain !== news.domain };
  },
  async create(inputs: MtaStsPolicyServedInputs) {
    await waitForServedPolicy(inputs);
    return { id: `mta-sts.${inputs.domain}`, outs: inputs };
  },
  async update(_id: string, _olds: MtaStsPolicyServedInputs, news: MtaStsPolicyServedInputs) {
    await waitForServedPolicy(news);
    return { outs: news };
  },
};

/** The arguments of MtaStsPolicyServed. */
export interface MtaStsPolicyServedArgs {
  /** The policy domain. */
  domain: pulumi.Input<string>;
  /** The host's address (its Elastic IP). */
  address: pulumi.Input<string>;
  /** The policy text the host must serve. */
  policy: pulumi.Input<string>;
  /** Default MTA_STS_SERVED_TIMEOUT_SECONDS. */
  timeoutSeconds?: pulumi.Input<number>;
  /** Default 15. */
  intervalSeconds?: pulumi.Input<number>;
}

/**
 * Done once the mail host serves a domain's MTA-STS policy: what the
 * `_mta-sts` TXT record waits for (see the top of this file).
 */
export class MtaStsPolicyServed extends pulumi.dynamic.Resource {
  constructor(name: string, args: MtaStsPolicyServedArgs, opts?: pulumi.CustomResourceOptions) {
    super(mtaStsPolicyServedProvider, name, { timeoutSeconds: MTA_STS_SERVED_TIMEOUT_SECONDS, intervalSeconds: 15, ...args }, opts, MTA_STS_MODULE, MTA_STS_POLICY_SERVED_TYPE_NAME);
  }
}
