import { z } from 'zod';
import { workloadSpecSchema } from '../workloads/schema.js';
import { traceWorkloadSchema } from '../traces/workload.js';
import { MADVISE_ADVICE } from '../policies/madvise.js';
import { PROMOTION_RULES, RATIO_STRATEGY_REGISTRY, ratioOptionBlocks } from '../policies/ratio/index.js';
import { DEMOTION_POLICIES } from '../policies/demotion/index.js';
import { PROMOTION_FILTERS } from '../policies/promotion/index.js';
import { KMEM_PLACEMENTS } from '../policies/kmem/index.js';

/**
 * The scenario file: a host (topology + kernel knobs), cgroups, and VMs with workloads.
 * Keys follow the kernel's names where one exists (`demotion_enabled`, `numa_balancing`,
 * `memory.max`). Sizes carry units ("4GiB"); parsing and cross-field checks happen in load.ts.
 */

const sizeOrMax = z.string().describe('a size with a unit ("4GiB") or "max"');

const mempolicySchema = z.strictObject({
  mode: z
    .enum(['default', 'local', 'preferred', 'preferred_many', 'bind', 'interleave', 'weighted_interleave'])
    .describe('the kernel memory policy (MPOL_*)'),
  nodes: z.array(z.number().int().nonnegative()).optional().describe('node ids of the policy nodemask'),
  numa_balancing: z
    .boolean()
    .optional()
    .describe('MPOL_F_NUMA_BALANCING (bind and preferred_many only): NUMA balancing may move the pages'),
});

const cgroupSchema = z.strictObject({
  path: z.string().describe('cgroup path, e.g. /vms/web'),
  'memory.max': sizeOrMax.optional(),
  'memory.high': sizeOrMax.optional(),
  'memory.low': z.string().optional().describe('best-effort protection: a size with a unit'),
  'memory.min': z.string().optional().describe('hard protection: a size with a unit'),
  'memory.swap.max': sizeOrMax.optional(),
  'memory.tier_ratio': z
    .union([z.string(), z.number()])
    .optional()
    .describe('fast share of the group\'s memory: "0.25", a fast:slow pair "1:3", or "max" (docs/ratios.md)'),
});

/**
 * Field names with a dot in them (the cgroup control files), and their leading parts
 * (`memory.swap` of `memory.swap.max`), which `--set` paths keep whole.
 */
export const DOTTED_KEYS: ReadonlySet<string> = new Set(
  Object.keys(cgroupSchema.shape)
    .filter((k) => k.includes('.'))
    .flatMap((k) => k.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.')))
    .filter((k) => k.includes('.')),
);

const madviseSchema = z.strictObject({
  at_ms: z.number().nonnegative().optional().describe('when the VM makes the call (default 0)'),
  range: z.strictObject({
    from: z.string().describe('offset in the VM\'s footprint: "0" or a size ("512MiB")'),
    to: z.string().describe('end offset, a size'),
  }),
  advice: z
    .enum(MADVISE_ADVICE)
    .describe('fast (keep in fast memory), cold (MADV_COLD), pageout (MADV_PAGEOUT)'),
});

const vmSchema = z.strictObject({
  name: z.string().min(1),
  cgroup: z.string().optional().describe('path of the cgroup the VM runs in (default "/")'),
  cpu_node: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('node id whose CPUs run the VM (default: the first CPU node)'),
  mempolicy: mempolicySchema.optional(),
  cpuset_mems: z
    .array(z.number().int().nonnegative())
    .optional()
    .describe('cpuset.mems of the VM (default: all nodes)'),
  file_backed: z
    .string()
    .optional()
    .describe('size of the trailing part of the footprint backed by files (page cache), e.g. "512MiB"'),
  mlp: z
    .number()
    .positive()
    .optional()
    .describe('memory-level parallelism: misses the VM overlaps (default 1)'),
  start_ms: z.number().nonnegative().optional(),
  kernel_memory: z
    .strictObject({
      size: z.string().describe('unmovable kernel memory (dentry/inode caches) of the VM, e.g. "128MiB"'),
      access_share: z
        .number()
        .min(0)
        .max(0.9)
        .describe("share of the VM's memory accesses that are metadata accesses to it"),
      placement: KMEM_PLACEMENTS.idSchema()
        .optional()
        .describe(`kernel-memory placement policy (idea S13); default ${KMEM_PLACEMENTS.defaultId}`),
      grow_ms: z
        .number()
        .nonnegative()
        .optional()
        .describe('time over which the cache grows to its size (default 0: at start)'),
    })
    .optional(),
  workload: z
    .union([traceWorkloadSchema, workloadSpecSchema])
    .describe('a synthetic workload, or {pattern: trace, trace: FILE} to replay a recorded trace'),
  madvise: z.array(madviseSchema).optional().describe("tenant hints on ranges of the VM's memory"),
});

const costsSchema = z.strictObject({
  minor_fault_ns: z.number().nonnegative().optional(),
  swap_in_ns: z.number().nonnegative().optional(),
  swap_out_ns: z.number().nonnegative().optional(),
  file_read_ns: z.number().nonnegative().optional(),
  file_writeback_ns: z.number().nonnegative().optional(),
  migrate_page_ns: z.number().nonnegative().optional(),
  demote_page_ns: z
    .number()
    .nonnegative()
    .optional()
    .describe(
      'a page demoted in reclaim, migrated with its batch: no TLB shootdown of its own (default 1000)',
    ),
  scan_page_ns: z.number().nonnegative().optional(),
  hint_fault_ns: z.number().nonnegative().optional(),
  numa_scan_pte_ns: z.number().nonnegative().optional(),
  remote_ns_per_distance: z.number().nonnegative().optional(),
  max_utilisation: z.number().min(0).max(0.99).optional(),
});

const kernelSchema = z.strictObject({
  demotion_enabled: z.boolean().optional().describe('/sys/kernel/mm/numa/demotion_enabled (default false)'),
  numa_balancing: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
  swappiness: z.number().int().min(0).max(200).optional(),
  memory_recursiveprot: z
    .boolean()
    .optional()
    .describe(
      'cgroup2 mount option: unclaimed memory.min/low of a parent protects its children (default false)',
    ),
  watermark_scale_factor: z.number().int().min(1).max(3000).optional(),
  min_free_kbytes: z.number().int().min(0).optional(),
  swap: z.string().optional().describe('swap device size ("16GiB") or "none"'),
  weighted_interleave: z
    .record(z.string(), z.number().int().min(1).max(255))
    .optional()
    .describe('/sys/kernel/mm/mempolicy/weighted_interleave/nodeN weights, keyed by node id'),
  costs: costsSchema.optional(),
  numa_balancing_promote_rate_limit_MBps: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('kernel.numa_balancing_promote_rate_limit_MBps (default 65536)'),
  numa_balancing_hot_threshold_ms: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('debugfs hot_threshold_ms (default 1000)'),
  numa_balancing_scan_delay_ms: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('debugfs scan_delay_ms (default 1000)'),
  numa_balancing_scan_period_min_ms: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('debugfs scan_period_min_ms (default 1000)'),
  numa_balancing_scan_period_max_ms: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('debugfs scan_period_max_ms (default 60000)'),
  numa_balancing_scan_size_mb: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('debugfs scan_size_mb (default 256)'),
});

/**
 * The tiering block: the demotion policy and the promotion filter by name, then every
 * parameter any of their modules takes (each module's own schema; the loader refuses a
 * parameter of a module other than the chosen one).
 */
const tieringSchema = z.strictObject({
  demotion_policy: DEMOTION_POLICIES.idSchema()
    .optional()
    .describe(`where reclaim demotes (idea S17); default ${DEMOTION_POLICIES.defaultId}`),
  ...DEMOTION_POLICIES.paramShape(),
  promotion_filter: PROMOTION_FILTERS.idSchema()
    .optional()
    .describe(
      `which hint faults on slow-tier pages promote (ideas S20, S21); default ${PROMOTION_FILTERS.defaultId}`,
    ),
  ...PROMOTION_FILTERS.paramShape(),
  pingpong_window_ms: z
    .number()
    .positive()
    .optional()
    .describe('a page demoted within this time after its promotion counts as ping-pong (default 10000)'),
});

// The strategies and their option blocks (`ratio.<id>`) come from the ratio registry.
const ratioSchema = z.strictObject({
  strategy: RATIO_STRATEGY_REGISTRY.idSchema()
    .optional()
    .describe('how memory.tier_ratio is enforced (ideas S6, S9-S12); default charge-retry'),
  promotion: z
    .enum(PROMOTION_RULES)
    .optional()
    .describe('a promotion of a group at its quota: exchange (default) or refuse'),
  warmup_ms: z
    .number()
    .nonnegative()
    .optional()
    .describe('samples before this are left out of the ratio error (default 10% of the run)'),
  ...Object.fromEntries(ratioOptionBlocks().map((m) => [m.id, m.params.optional()])),
});

const scheduleSchema = z.strictObject({
  at_ms: z.number().nonnegative(),
  cgroup: z.string().describe('path of the cgroup whose control file is written'),
  set: z.strictObject({ 'memory.tier_ratio': z.union([z.string(), z.number()]) }),
});

export const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  seed: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  topology: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .describe('a topology file path (relative to the scenario) or an inline topology'),
  duration_ms: z.number().positive().describe('simulated time to run'),
  sample_interval_ms: z.number().positive().optional(),
  kernel: kernelSchema.optional(),
  tiering: tieringSchema.optional(),
  cgroups: z.array(cgroupSchema).optional(),
  vms: z.array(vmSchema).min(1),
  ratio: ratioSchema.optional().describe('enforcement of memory.tier_ratio (docs/ratios.md)'),
  schedule: z.array(scheduleSchema).optional().describe('administrator actions at simulated times'),
  measure: z
    .strictObject({
      warmup_ms: z.number().nonnegative().optional().describe("each VM's own time before its window opens"),
      warmup_accesses: z.number().int().nonnegative().optional().describe('accesses before the window opens'),
      after_first_pass: z
        .literal(true)
        .optional()
        .describe('the window opens once the VM has touched every page of its footprint'),
    })
    .optional()
    .describe('the measured window reported beside the whole run (default: the whole run; docs/metrics.md)'),
});

export type ScenarioInput = z.infer<typeof scenarioSchema>;
export type VmInput = z.infer<typeof vmSchema>;
