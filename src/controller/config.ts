import { z } from 'zod';
import { parseTierRatio } from '../util/tier-ratio-text.js';
import { readDocumentFile } from '../util/document.js';
import { InputError } from '../util/errors.js';
import { parseWith } from '../util/validate.js';

/**
 * `numatier control --config FILE`: which cgroups to steer to which fast:slow ratio, how, and
 * which kernel settings to hold while it runs. Names are the scenarios' (`memory.tier_ratio`,
 * `ratio.strategy`, `ratio.userspace.period_ms`, `bandwidth_MBps`, `scan_pages`), so a policy
 * tried in `numatier simulate` is configured the same way here. schema/control.schema.json is
 * generated from this schema (`numatier schema --control`).
 */

const cgroupPath = z
  .string()
  .regex(/^\/[^\0]*$/, 'an absolute cgroup path such as /tenant-a')
  .refine((p) => p !== '/', 'the root cgroup cannot be managed: name a child group')
  .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'no . or .. segments')
  .describe('cgroup v2 path under /sys/fs/cgroup, e.g. /machine.slice/vm-a');

const managedCgroup = z.strictObject({
  path: cgroupPath,
  'memory.tier_ratio': z
    .union([z.string(), z.number()])
    .describe('fast share of the group\'s memory: "0.25", a fast:slow pair "1:3", or "max"'),
});

const userspaceOptions = z.strictObject({
  period_ms: z.number().positive().optional().describe('default 1000'),
  bandwidth_MBps: z
    .number()
    .positive()
    .optional()
    .describe('migration bandwidth cap, MB/s (MB = 2^20 bytes; default 256)'),
  scan_pages: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('pages of each process looked at per period (default 262144)'),
});

const damosOptions = z.strictObject({
  period_ms: z
    .number()
    .positive()
    .optional()
    .describe('how often the measured shares are fed to the quota goals (default 500)'),
  bandwidth_MBps: z
    .number()
    .positive()
    .optional()
    .describe(
      'cap on the memory all schemes together try per second, MB/s (MB = 2^20 bytes; default 1024): the kernel charges a quota with every byte of a region it tries, including pages the memcg filter then rejects',
    ),
  reset_interval_ms: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("the quotas' charge window; the kernel retunes each quota once per window (default 100)"),
  sample_us: z.number().int().positive().optional().describe("DAMON's sampling interval (default 5000)"),
  aggr_us: z.number().int().positive().optional().describe("DAMON's aggregation interval (default 100000)"),
  max_regions: z
    .number()
    .int()
    .min(10)
    .optional()
    .describe(
      "most regions DAMON splits memory into (default 1000, the kernel's): finer regions tell hot from cold pages better, at more sampling cost",
    ),
  min_age_ms: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('memory is cold, so demoted, once unaccessed this long (default 200)'),
  promote_node: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('where migrate_hot moves pages (default: the first top-tier node with CPUs)'),
  demote_node: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('where migrate_cold moves pages (default: the first node below the top tier)'),
});

const kernelSettings = z.strictObject({
  numa_balancing: z
    .number()
    .int()
    .min(0)
    .max(3)
    .optional()
    .describe(
      '/proc/sys/kernel/numa_balancing while the controller runs (0 keeps the kernel from fighting it)',
    ),
  numa_balancing_promote_rate_limit_MBps: z.number().int().nonnegative().optional(),
  demotion_enabled: z.boolean().optional().describe('/sys/kernel/mm/numa/demotion_enabled'),
});

export const controlConfigSchema = z.strictObject({
  cgroups: z.array(managedCgroup).min(1).describe('the cgroups the controller may act in, and their ratios'),
  ratio: z
    .strictObject({
      strategy: z
        .enum(['userspace', 'damos'])
        .optional()
        .describe(
          'the mover: userspace (move_pages(2) from numatier) or damos (the kernel, through DAMOS migrate_cold/migrate_hot schemes whose quota goals numatier feeds); default userspace',
        ),
      userspace: userspaceOptions.optional(),
      damos: damosOptions.optional(),
    })
    .optional(),
  access_tracking: z
    .enum(['auto', 'page_idle', 'soft_dirty', 'damon_vaddr'])
    .optional()
    .describe(
      "how the userspace strategy tells accessed pages: auto (page_idle where the kernel has it, else soft_dirty), or damon_vaddr (a kdamond numatier creates, and removes when it stops, watches each process's address space; sees reads, which soft_dirty does not)",
    ),
  kernel: kernelSettings.optional().describe('settings held while running and restored on exit'),
  journal: z
    .string()
    .optional()
    .describe(
      'where the original values of changed settings are kept (default /run/numatier/control-journal.json)',
    ),
  log: z.string().optional().describe('JSON-lines log of every write and move batch (default: stderr)'),
});

export type ControlConfigInput = z.input<typeof controlConfigSchema>;

export interface ControlConfig {
  cgroups: { path: string; tierRatio: string; fraction: number | null }[];
  strategy: 'userspace' | 'damos';
  /** Of the chosen strategy's section. */
  periodMs: number;
  bandwidthMBps: number;
  scanPages: number;
  damos: {
    resetIntervalMs: number;
    sampleUs: number;
    aggrUs: number;
    minAgeMs: number;
    minRegions: number;
    maxRegions: number;
    promoteNode: number | null;
    demoteNode: number | null;
  };
  accessTracking: 'auto' | 'page_idle' | 'soft_dirty' | 'damon_vaddr';
  /** Kernel settings to hold: kernel path → value as written. */
  kernel: { path: string; value: string }[];
  journal: string;
  log: string | null;
}

export const DEFAULT_JOURNAL = '/run/numatier/control-journal.json';

export const KERNEL_SETTING_PATHS = {
  numa_balancing: '/proc/sys/kernel/numa_balancing',
  numa_balancing_promote_rate_limit_MBps: '/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps',
  demotion_enabled: '/sys/kernel/mm/numa/demotion_enabled',
} as const;

/** Validates a parsed config document; `where` names it in messages. */
export function resolveControlConfig(doc: unknown, where: string): ControlConfig {
  let c: z.infer<typeof controlConfigSchema>;
  try {
    c = parseWith(controlConfigSchema, doc);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${where}: ${e.message}`);
    throw e;
  }
  const seen = new Set<string>();
  const cgroups = c.cgroups.map((g, i) => {
    const path = g.path.replace(/\/+$/, '');
    if (seen.has(path)) throw new InputError(`${where}: cgroups[${i}].path: ${path} is listed twice`);
    seen.add(path);
    const r = parseTierRatio(g['memory.tier_ratio'], `${where}: cgroups[${i}].memory.tier_ratio`);
    return { path, tierRatio: r.text, fraction: r.fraction };
  });
  // A group inside another managed group would be steered twice (the controller counts a
  // group's descendants as its members).
  for (const a of cgroups)
    for (const b of cgroups)
      if (a !== b && b.path.startsWith(`${a.path}/`))
        throw new InputError(
          `${where}: cgroups: ${b.path} is inside ${a.path}, whose ratio already covers it; list one of them`,
        );
  const strategy = c.ratio?.strategy ?? 'userspace';
  // Options of the other mover would be silently ignored: say so instead.
  const other = strategy === 'userspace' ? 'damos' : 'userspace';
  if (c.ratio?.[other] !== undefined)
    throw new InputError(
      `${where}: ratio.${other}: options of the ${other} strategy, but ratio.strategy is ${strategy}${strategy === 'userspace' && c.ratio?.strategy === undefined ? ' (the default); add ratio.strategy: damos' : ''}`,
    );
  if (strategy === 'damos' && (c.access_tracking ?? 'auto') !== 'auto')
    throw new InputError(
      `${where}: access_tracking: with ratio.strategy damos the kernel's DAMON tracks accesses itself; leave access_tracking out (or auto)`,
    );
  const u = c.ratio?.userspace ?? {};
  const d = c.ratio?.damos ?? {};
  if ((d.aggr_us ?? 100000) < (d.sample_us ?? 5000))
    throw new InputError(
      `${where}: ratio.damos.aggr_us: expected at least sample_us (an aggregation counts samples)`,
    );
  const kernel: ControlConfig['kernel'] = [];
  for (const [k, v] of Object.entries(c.kernel ?? {})) {
    if (v === undefined) continue;
    // demotion_enabled reads back "true"/"false", the sysctls a number: String() writes either.
    kernel.push({ path: KERNEL_SETTING_PATHS[k as keyof typeof KERNEL_SETTING_PATHS], value: String(v) });
  }
  return {
    cgroups,
    strategy,
    periodMs: strategy === 'damos' ? (d.period_ms ?? 500) : (u.period_ms ?? 1000),
    bandwidthMBps: strategy === 'damos' ? (d.bandwidth_MBps ?? 1024) : (u.bandwidth_MBps ?? 256),
    scanPages: u.scan_pages ?? 262144,
    damos: {
      resetIntervalMs: d.reset_interval_ms ?? 100,
      sampleUs: d.sample_us ?? 5000,
      aggrUs: d.aggr_us ?? 100000,
      minAgeMs: d.min_age_ms ?? 200,
      minRegions: 10,
      maxRegions: d.max_regions ?? 1000,
      promoteNode: d.promote_node ?? null,
      demoteNode: d.demote_node ?? null,
    },
    accessTracking: c.access_tracking ?? 'auto',
    kernel,
    journal: c.journal ?? DEFAULT_JOURNAL,
    log: c.log ?? null,
  };
}

export function loadControlConfig(file: string): ControlConfig {
  return resolveControlConfig(readDocumentFile(file, 'control config'), file);
}

export function controlConfigJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(controlConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: s.$schema,
    $id: 'https://numatier.invalid/schema/control.schema.json',
    title: 'numatier control config',
    description:
      'The cgroups numatier control steers to a fast:slow ratio on a real host (see docs/control.md).',
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
  };
}
