import * as fs from "node:fs";
import { ValidationError } from "../../components/validation-error";
import { FlagProblems } from "../flag-check";
import type { DiffablePlan, DiffRecord } from "./compare";

/**
 * Reading a plan file for `postforge diff`: the JSON `postforge plan --json`
 * writes, one stack's or an estate's (`{"formatVersion":1,"stacks":[...]}`).
 * Checked field by field, by hand: a zod schema of the same took 35 ms of a
 * 1,000-domain diff (loading zod, and an object per record). Only what the
 * diff reads is kept (records are checked in place: the diff never reads
 * their other fields), so nothing else in a file can ever be printed.
 */

export type PlanFile = { kind: "stack"; plan: DiffablePlan } | { kind: "estate"; plans: DiffablePlan[] };

type Path = (string | number)[];

export function readPlanFile(flag: string, file: string): PlanFile {
  const fix = "write it with `postforge plan --stack NAME --json > FILE`";
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ValidationError("command line", [`${flag} = ${JSON.stringify(file)}: cannot read the plan (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${fix}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError("command line", [`${flag} = ${JSON.stringify(file)}: not JSON (${(error as Error).message}); ${fix}`]);
  }
  if (isObject(json) && Array.isArray(json.stacks)) {
    const plans = json.stacks.map((p, i) => diffablePlan(p, `${flag} plan ${JSON.stringify(file)} stacks[${i}]`));
    return { kind: "estate", plans };
  }
  return { kind: "stack", plan: diffablePlan(json, `${flag} plan ${JSON.stringify(file)}`) };
}

/** One stack's plan as the diff reads it, or a ValidationError listing every field that is wrong. */
export function diffablePlan(json: unknown, subject: string): DiffablePlan {
  const check = new PlanChecker();
  const plan = check.object(json, [], (o, at) => {
    if (o.formatVersion !== 1) check.problem(at("formatVersion"), o.formatVersion, "must be 1: this plan was written by another postforge version; plan both sides with the same one");
    return {
      // Plans written before the project was recorded have none.
      ...(o.project !== undefined ? { project: check.string(o.project, at("project")) } : {}),
      stack: check.string(o.stack, at("stack")),
      domains: check.list(o.domains, at("domains"), (d, p) => check.object(d, p, (z, atD) => ({ domain: check.string(z.domain, atD("domain")), records: check.records(z.records, atD("records")) }))),
      dkimKeys: check.list(o.dkimKeys ?? [], at("dkimKeys"), (k, p) =>
        check.object(k, p, (x, atK) => ({
          domain: check.string(x.domain, atK("domain")),
          selector: check.string(x.selector, atK("selector")),
          algorithm: check.string(x.algorithm, atK("algorithm")),
          bits: check.number(x.bits, atK("bits")),
          state: check.string(x.state, atK("state")),
        })),
      ),
      mtaStsPolicies: check.map(o.mtaStsPolicies ?? {}, at("mtaStsPolicies"), (v, p) => check.string(v, p)),
      spfIncludeCosts: check.map(o.spfIncludeCosts ?? {}, at("spfIncludeCosts"), (v, p) => check.integer(v, p)),
      mailHosts: check.list(o.mailHosts ?? [], at("mailHosts"), (h, p) =>
        check.object(h, p, (x, atH) => ({
          hostname: check.string(x.hostname, atH("hostname")),
          instanceType: check.string(x.instanceType, atH("instanceType")),
          ami: check.string(x.ami, atH("ami")),
          userData: check.string(x.userData, atH("userData")),
          ...(x.config !== undefined ? { config: check.string(x.config, atH("config")) } : {}),
          signingKeys: check.list(x.signingKeys, atH("signingKeys"), (v, pv) => check.string(v, pv)),
          mailboxes: check.list(x.mailboxes, atH("mailboxes"), (v, pv) => check.string(v, pv)),
          // Plans from before submission logins have none.
          senders: check.list(x.senders ?? [], atH("senders"), (s, ps) =>
            check.object(s, ps, (y, atS) => ({ login: check.string(y.login, atS("login")), allowed: check.list(y.allowed, atS("allowed"), (v, pv) => check.string(v, pv)) })),
          ),
          ingress: check.list(x.ingress, atH("ingress"), (g, pg) =>
            check.object(g, pg, (y, atG) => ({
              port: check.number(y.port, atG("port")),
              protocol: check.string(y.protocol, atG("protocol")),
              sources: check.list(y.sources, atG("sources"), (v, pv) => check.string(v, pv)),
            })),
          ),
          // Plans from before warm-up schedules have none.
          ...(x.warmup !== undefined
            ? {
                warmup: check.object(x.warmup, atH("warmup"), (w, atW) => ({
                  startDate: check.string(w.startDate, atW("startDate")),
                  endDate: check.string(w.endDate, atW("endDate")),
                  lastDay: check.integer(w.lastDay, atW("lastDay")),
                  ramps: check.map(w.ramps, atW("ramps"), (ramp, pr) =>
                    check.list(ramp, pr, (step, ps) => check.object(step, ps, (t, atT) => ({ day: check.integer(t.day, atT("day")), dailyCap: check.integer(t.dailyCap, atT("dailyCap")) }))),
                  ),
                })),
              }
            : {}),
        })),
      ),
      policyViolations: check.list(o.policyViolations ?? [], at("policyViolations"), (v, p) =>
        check.object(v, p, (x, atV) => ({
          rule: check.string(x.rule, atV("rule")),
          enforcementLevel: check.string(x.enforcementLevel, atV("enforcementLevel")),
          message: check.string(x.message, atV("message")),
          ...(x.resource !== undefined ? { resource: check.string(x.resource, atV("resource")) } : {}),
        })),
      ),
    };
  });
  check.problems.throwIfAny(subject);
  return plan as DiffablePlan;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Field checks that record a problem and go on, so one run names every wrong field. */
class PlanChecker {
  readonly problems = new FlagProblems();

  problem(path: Path, input: unknown, message: string): void {
    this.problems.add(path, input, message);
  }

  string(value: unknown, path: Path): string {
    if (typeof value !== "string") this.problem(path, value, "must be a string");
    return value as string;
  }

  number(value: unknown, path: Path): number {
    if (typeof value !== "number" || !Number.isFinite(value)) this.problem(path, value, "must be a number");
    return value as number;
  }

  integer(value: unknown, path: Path): number {
    if (!Number.isInteger(value)) this.problem(path, value, "must be a whole number");
    return value as number;
  }

  object<T>(value: unknown, path: Path, read: (o: Record<string, unknown>, at: (key: string) => Path) => T): T {
    if (!isObject(value)) {
      this.problem(path, value, "must be an object");
      return undefined as T;
    }
    return read(value, (key) => [...path, key]);
  }

  list<T>(value: unknown, path: Path, read: (item: unknown, path: Path) => T): T[] {
    if (!Array.isArray(value)) {
      this.problem(path, value, "must be a list");
      return [];
    }
    return value.map((item, i) => read(item, [...path, i]));
  }

  map<T>(value: unknown, path: Path, read: (item: unknown, path: Path) => T): Record<string, T> {
    if (!isObject(value)) {
      this.problem(path, value, "must be an object");
      return {};
    }
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(value)) out[key] = read(item, [...path, key]);
    return out;
  }

  /**
   * A zone's records: the hot path (every record of both plans), so checked in
   * place, with no copy and no path unless a field is wrong. The diff reads
   * and prints only these fields; any other a record carries is never read.
   */
  records(value: unknown, path: Path): DiffRecord[] {
    if (!Array.isArray(value)) {
      this.problem(path, value, "must be a list");
      return [];
    }
    for (let i = 0; i < value.length; i++) {
      const r = value[i] as Record<string, unknown> | null;
      if (!isObject(r)) {
        this.problem([...path, i], r, "must be an object");
        continue;
      }
      if (typeof r.name !== "string") this.problem([...path, i, "name"], r.name, "must be a string");
      if (typeof r.type !== "string") this.problem([...path, i, "type"], r.type, "must be a string");
      if (typeof r.value !== "string") this.problem([...path, i, "value"], r.value, "must be a string");
      if (typeof r.ttl !== "number") this.problem([...path, i, "ttl"], r.ttl, "must be a number");
      if (r.purpose !== undefined && typeof r.purpose !== "string") this.problem([...path, i, "purpose"], r.purpose, "must be a string");
      if (r.strings !== undefined && !(Array.isArray(r.strings) && r.strings.every((x) => typeof x === "string"))) this.problem([...path, i, "strings"], r.strings, "must be a list of strings");
    }
    return value as DiffRecord[];
  }
}
