import {
  dkimInputProblems,
  type DkimKeyAlgorithm,
  type DkimKeyState,
} from "../dkim/provider";
import type { DkimSettings, SendingDomainConfig } from "./schema";

/**
 * From a domain's `dkim.keys` config to the managed keys it asks for, with the
 * rotation rules that can be judged from the config alone. Rules that need the
 * previous state (a step skipped between two runs, the overlap not yet over)
 * live in the DkimKey provider and run at preview and update.
 */

/** One key Postforge generates and rotates for a domain, its selector resolved. */
export interface ManagedDkimKey {
  selector: string;
  algorithm: DkimKeyAlgorithm;
  bits: number;
  allowLegacy1024: boolean;
  state: DkimKeyState;
  /** The quarter the selector is stamped with, when it is. */
  quarter?: string;
}

/** What resolveManagedDkimKeys returns: the keys, and what is wrong or worth knowing about them. */
export interface ResolvedDkimKeys {
  /** The managed keys, selectors resolved, in config order. */
  keys: ManagedDkimKey[];
  /** Problems that refuse the config, each prefixed with its config path. */
  problems: string[];
  /** Things that do not block a deploy, such as a key due for rotation. */
  warnings: string[];
}

/**
 * A domain's managed DKIM keys, selectors derived from quarters (RSA bits
 * default 2048), with the rotation rules judged from config alone: one active
 * key per algorithm, no retiring key without an active one, rotation due
 * after `settings.rotationMonths` counted to `today`.
 */
export function resolveManagedDkimKeys(domain: SendingDomainConfig, path: string, settings: DkimSettings, today: Date): ResolvedDkimKeys {
  const problems: string[] = [];
  const warnings: string[] = [];
  const { keys: configured, selectorPrefix, ed25519Suffix } = domain.dkim;
  const keys: ManagedDkimKey[] = [];

  configured.forEach((key, i) => {
    const keyPath = `${path}.dkim.keys[${i}]`;
    if ((key.selector === undefined) === (key.quarter === undefined)) {
      problems.push(`${keyPath}: give either selector or quarter (with quarter, the selector is ${selectorPrefix}<quarter>${key.algorithm === "ed25519" ? ed25519Suffix : ""})`);
      return;
    }
    const selector = (key.selector ?? `${selectorPrefix}${key.quarter}${key.algorithm === "ed25519" ? ed25519Suffix : ""}`).toLowerCase();
    const bits = key.algorithm === "ed25519" ? 0 : (key.bits ?? 2048);
    if (key.algorithm === "ed25519" && key.bits !== undefined) {
      problems.push(`${keyPath}.bits = ${key.bits}: Ed25519 keys have a fixed size; remove bits`);
      return;
    }
    const managed: ManagedDkimKey = { selector, algorithm: key.algorithm, bits, allowLegacy1024: key.allowLegacy1024RsaForOldReceivers, state: key.state, quarter: key.quarter };
    // The provider's own input rules, so config and deployment judge alike.
    for (const problem of dkimInputProblems({ domain: domain.name, ...managed, overlapSeconds: 0 })) problems.push(`${keyPath}: ${problem}`);
    keys.push(managed);
  });

  const external = new Set(domain.dkim.publicKeys.map((k) => k.selector.toLowerCase()));
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.selector) || external.has(key.selector)) {
      problems.push(`${path}.dkim: selector "${key.selector}" is used twice; every key needs its own selector`);
    }
    seen.add(key.selector);
  }

  for (const algorithm of ["rsa", "ed25519"] as const) {
    const ofAlgorithm = keys.filter((k) => k.algorithm === algorithm);
    const active = ofAlgorithm.filter((k) => k.state === "active");
    if (active.length > 1) {
      problems.push(
        `${path}.dkim.keys: ${active.map((k) => k.selector).join(" and ")} are both active ${algorithm} keys; one signs, so set the older one to retiring`,
      );
    }
    for (const k of ofAlgorithm.filter((k) => k.state === "retiring")) {
      if (active.length === 0) {
        problems.push(
          `${path}.dkim.keys: ${k.selector} is retiring but no ${algorithm} key is active, so mail would go unsigned; make the new key active in the same step (it must have been pending first)`,
        );
      }
    }
    for (const k of active) {
      const age = k.quarter ? monthsSinceQuarter(k.quarter, today) : undefined;
      if (age !== undefined && age > settings.rotationMonths) {
        warnings.push(
          `${path}.dkim: ${k.selector} has signed since ${k.quarter} (${age} months); rotate it (M3AAWG recommends about every ${settings.rotationMonths} months): add a pending key for this quarter`,
        );
      }
    }
  }
  return { keys, problems, warnings };
}

/** Whole months from the start of a quarter such as 2026q1 to `today`. */
export function monthsSinceQuarter(quarter: string, today: Date): number {
  const year = Number(quarter.slice(0, 4));
  const firstMonth = (Number(quarter.slice(5)) - 1) * 3;
  return (today.getUTCFullYear() - year) * 12 + (today.getUTCMonth() - firstMonth);
}
