import { z } from 'zod';
import { UserspaceController } from '../../controller/controller.js';
import { SimTieringBackend, simClock } from '../../controller/sim-backend.js';
import type { TenantHints } from '../madvise.js';
import type { RatioContext, RatioStrategy, RatioStrategyModule } from './types.js';

/**
 * Strategy D (idea S12): the user-space controller (src/controller/controller.ts) run against
 * the simulated host's backend, as a daemon with its period. The controller sees the tenant's
 * fast hints as the backend's mappings report them.
 */
const params = z.strictObject({
  period_ms: z.number().positive().optional().describe('default 100'),
  bandwidth_MBps: z.number().positive().optional().describe('migration bandwidth cap, MB/s (default 512)'),
  scan_pages: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('pages of each process looked at per period (default 262144)'),
});
type UserspaceParams = z.infer<typeof params>;

const DEFAULTS = {
  periodMs: 100,
  /** MB here is 2^20 bytes, as in kernel.numa_balancing_promote_rate_limit_MBps. */
  bandwidthMBps: 512,
  /** Pages of each process the controller looks at per period (1 GiB). */
  scanPages: 262144,
};

function create(p: UserspaceParams, ctx: RatioContext): RatioStrategy {
  let hints: TenantHints | null = null;
  const backend = new SimTieringBackend(ctx.host, {
    processes: ctx.vms.map((vm) => ({ asId: vm.as.id, policy: vm.policy, cpuset: vm.cpuset })),
    ratio: ctx.ratio,
    hintedRanges: (asId) => hints?.hintedRanges(asId) ?? [],
  });
  const controller = new UserspaceController(backend, simClock(ctx.host), {
    periodMs: p.period_ms ?? DEFAULTS.periodMs,
    bandwidthMBps: p.bandwidth_MBps ?? DEFAULTS.bandwidthMBps,
    scanPages: p.scan_pages ?? DEFAULTS.scanPages,
  });
  const period = controller.o.periodMs * 1e6;
  return {
    name: userspace.id,
    hooks: {},
    daemons: () => [
      {
        name: 'ratio-userspace',
        start: () => period,
        run: (_sim, now) => {
          controller.step();
          ctx.stats.runs++;
          return now + period;
        },
      },
    ],
    useHints: (h) => {
      hints = h;
    },
    summary: () => {
      const s = controller.stats;
      return {
        periods: s.periods,
        scanned_pages: s.scannedPages,
        demoted_pages: s.demotedPages,
        promoted_pages: s.promotedPages,
        failed_pages: s.failedPages,
      };
    },
  };
}

export const userspace: RatioStrategyModule<UserspaceParams> = {
  id: 'userspace',
  summary: 'a controller outside the kernel moves pages both ways by their idle bits, under a bandwidth cap',
  params,
  contract: {
    params: { period_ms: 20 },
    meanError: 0.01,
    maxError: 0.05,
    why: 'as rebalance, plus the bandwidth cap',
  },
  create,
};
