import { z } from "zod";
import { hostname } from "../config/fields";
import { RECEIVER_GROUPS } from "./receiver-groups";
import { isCalendarDate } from "./warmup-schedule";

/**
 * The mail host's `warmup` setting as the stack config writes it (zod). The
 * schedule itself, its default ramp and where each number comes from, and
 * the day arithmetic are in warmup-schedule.ts, free of zod, so the host's
 * tools can be built from them.
 */
export * from "./warmup-schedule";

/** A calendar date written YYYY-MM-DD. */
export const isoDate = z
  .string({ error: "must be a date such as 2026-12-01" })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "must be a date written YYYY-MM-DD, such as 2026-12-01" })
  .refine(isCalendarDate, { error: "is not a calendar date" });

const rampSchema = z
  .array(
    z.strictObject({
      /** The first day of this step; day 1 is startDate. */
      day: z.number().int().min(1, { error: "must be 1 or later (day 1 is startDate)" }).max(366, { error: "must be within a year of startDate" }),
      /** Messages a day from that day on, until the next step. */
      dailyCap: z.number().int().min(1, { error: "must be at least 1 message a day" }),
    }),
  )
  .min(1, { error: "must list at least one step, such as [{ day: 1, dailyCap: 500 }]" })
  .superRefine((steps, ctx) => {
    if (steps[0].day !== 1) ctx.addIssue({ code: "custom", path: [0, "day"], input: steps[0].day, message: "must be 1: the ramp starts on startDate" });
    steps.forEach((step, i) => {
      if (i > 0 && step.day <= steps[i - 1].day) {
        ctx.addIssue({ code: "custom", path: [i, "day"], input: step.day, message: `must come after day ${steps[i - 1].day}: list the steps in order, each day once` });
      }
      if (i > 0 && step.dailyCap < steps[i - 1].dailyCap) {
        ctx.addIssue({ code: "custom", path: [i, "dailyCap"], input: step.dailyCap, message: `must not be below the day before's ${steps[i - 1].dailyCap}: a warm-up only rises` });
      }
    });
  });

const groupRecord = <T extends z.ZodType>(value: T) =>
  z.partialRecord(z.enum(RECEIVER_GROUPS, { error: `must be one of ${RECEIVER_GROUPS.join(", ")}` }), value);

/** The mail host's `warmup` setting, as the stack config writes it. */
export const warmupSchema = z.strictObject({
  /** The day the address started (or starts) sending: day 1 of the ramp, in UTC. */
  startDate: isoDate,
  /** "default" (45 days to 50,000 a day; see components/sending/warmup.ts), or steps `[{ day, dailyCap }]`; the caps lift after the last step's day. */
  ramp: z.union([z.literal("default"), rampSchema], { error: 'must be "default" or a list of steps such as [{ day: 1, dailyCap: 500 }]' }).default("default"),
  /** A ramp of its own for a receiver group (gmail, microsoft, yahoo, other); the others follow `ramp`. */
  groups: groupRecord(rampSchema).default({}),
  /** Recipient domains to count in a group besides its own (a Google Workspace customer's domain as gmail, say). */
  extraDomains: groupRecord(z.array(hostname)).default({}),
});
/** The `warmup` setting as a stack config writes it (defaults not yet applied). */
export type WarmupInput = z.input<typeof warmupSchema>;
/** The `warmup` setting once read: every default applied. */
export type WarmupConfig = z.output<typeof warmupSchema>;

