import { getHeapStatistics } from "node:v8";

/**
 * How many resources one stack may hold before Pulumi's Node.js runtime runs
 * out of memory. Every resource's registration is in flight at once (the
 * program declares them all before the first completes), and each holds its
 * outputs, promises and serialized inputs: measured at 219 KiB of heap per
 * resource (2,452 MiB at 11,003 resources, `npm run bench`, Node 22). A bare
 * program registering the same records needs as much, so this is the
 * runtime's limit, not Postforge's: with V8's default heap (4,144 MiB on this
 * 24 GiB machine) 22,003 resources plan in 2.7x the time of 11,003 (garbage
 * collection near the limit) and 33,003 abort. The budget keeps a quarter of
 * the heap free, and follows the heap size: NODE_OPTIONS=--max-old-space-size
 * raises it for `pulumi up` and `postforge plan` alike.
 */
export const HEAP_BYTES_PER_RESOURCE = 219 * 1024;

/** The share of V8's heap limit the resources may take. */
export const HEAP_BUDGET_SHARE = 0.75;

/** The most resources one stack may register in this process. */
export function stackResourceLimit(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor((heapLimitBytes * HEAP_BUDGET_SHARE) / HEAP_BYTES_PER_RESOURCE);
}

/**
 * The refusal, when `resources` is over the limit: the count, the limit, and
 * the two remedies (split the domains across stacks, or a larger heap).
 */
export function stackSizeProblem(resources: number, domains: number, heapLimitBytes = getHeapStatistics().heap_size_limit): string | undefined {
  const limit = stackResourceLimit(heapLimitBytes);
  if (resources <= limit) return undefined;
  const perDomain = resources / Math.max(domains, 1);
  const heapMiB = Math.round(heapLimitBytes / 2 ** 20);
  const neededMiB = Math.ceil((resources * HEAP_BYTES_PER_RESOURCE) / HEAP_BUDGET_SHARE / 2 ** 20);
  return (
    `domains: ${domains.toLocaleString("en-US")} domains make about ${resources.toLocaleString("en-US")} resources, ` +
    `more than one stack can hold in Pulumi's Node.js runtime with a ${heapMiB.toLocaleString("en-US")} MiB heap ` +
    `(${limit.toLocaleString("en-US")} resources, about ${Math.floor(limit / perDomain).toLocaleString("en-US")} such domains); ` +
    `past it the program dies out of memory. Split the domains across stacks with \`postforge shard\` (README, "Large estates"; a shard already: raise its estate's shardCount), ` +
    `or give Node a larger heap for every run of this stack (NODE_OPTIONS=--max-old-space-size=${neededMiB} for pulumi and postforge alike)`
  );
}
