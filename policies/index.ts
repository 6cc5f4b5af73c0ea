/**
 * The Postforge policy pack: every rule in ./rules as a stack policy. Run it
 * with `pulumi preview --policy-pack policies` (see the README); the bulk-sender
 * profile is `--policy-pack-config policies/profiles/bulk-sender.json`.
 * This is the only place a PolicyPack is constructed: tests and `postforge
 * plan` run the same rules through ./run.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, postforgePolicies } from "./pulumi";

new PolicyPack(POLICY_PACK_NAME, {
  description: "Postforge: refuses a stack whose sending domains or mail hosts would fail email authentication (SPF, DKIM, DMARC, FCrDNS) or the mailbox providers' sender requirements.",
  policies: postforgePolicies(),
});
