import { z } from "zod";
import { POLICY_PROFILES } from "./profiles";

/** Whether a --stack value names several stacks (a `*` pattern; see ../fan-out.ts). */
const isStackPattern = (stack: string) => stack.includes("*");

const stackName = z
  .string({ error: "is required: name a stack such as dev (see stacks/Pulumi.<stack>.yaml)" })
  .regex(/^[A-Za-z0-9_.-]+$/, { error: "must be a stack name of letters, digits, '.', '_' or '-'" });

/** `postforge plan` flags, as parseArgs reads them. */
export const planFlags = z.strictObject({
  stack: z.string({ error: "is required: name a stack such as dev (see stacks/Pulumi.<stack>.yaml)" }).refine((s) => isStackPattern(s) || stackName.safeParse(s).success, {
    error: "must be a stack name of letters, digits, '.', '_' or '-', or a pattern of them with * (estate-*)",
  }),
  jobs: z.coerce.number({ error: "must be a number of processes" }).int().min(1, { error: "must be at least 1" }).max(64, { error: "must be at most 64" }).optional(),
  json: z.boolean().default(false),
  out: z.string().min(1, { error: "must be a directory path" }).optional(),
  "policy-config": z.string().min(1, { error: "must be the path of a JSON policy config file" }).optional(),
  profile: z.enum(POLICY_PROFILES, { error: `must be one of ${POLICY_PROFILES.join(", ")}` }).optional(),
  cwd: z.string().optional(),
  reports: z.string().min(1, { error: "must be the path of a `postforge reports --json` file" }).optional(),
});

export type PlanFlags = z.output<typeof planFlags>;
