import { z } from 'zod';
import { MR } from '../../host/migration-ledger.js';
import { demoteMemcg } from '../../host/reclaim.js';
import { chargeGroup, type RatioContext, type RatioStrategy, type RatioStrategyModule } from './types.js';

/**
 * Strategy B (idea S10): allocation is left alone; a periodic pass finds groups over their fast
 * quota and demotes their coldest fast pages — reclaim scoped to the group, demotion only
 * (demoteMemcg, ledger reason ratio_rebalance) — until they are back within it. The work is
 * paid by the group's tasks, as memory.high reclaim is. Between passes a growing group may
 * overshoot its quota; the period bounds how long.
 */
const params = z.strictObject({
  period_ms: z.number().positive().optional().describe('default 100'),
});
type RebalanceParams = z.infer<typeof params>;

const DEFAULT_PERIOD_MS = 100;

function create(p: RebalanceParams, ctx: RatioContext): RatioStrategy {
  const period = (p.period_ms ?? DEFAULT_PERIOD_MS) * 1e6;
  return {
    name: rebalance.id,
    hooks: {},
    daemons: () => [
      {
        name: 'ratio-rebalance',
        start: () => period,
        run: (_sim, now) => {
          rebalanceOnce(ctx);
          return now + period;
        },
      },
    ],
  };
}

export const rebalance: RatioStrategyModule<RebalanceParams> = {
  id: 'rebalance',
  summary: 'a periodic pass demotes the coldest fast pages of every group over its quota',
  params,
  contract: {
    params: { period_ms: 20 },
    meanError: 0.01,
    maxError: 0.05,
    why: 'drifts up by new faults between 20 ms passes',
  },
  create,
};

/** One pass over every constrained group, deepest first. Returns pages demoted. */
export function rebalanceOnce(ctx: RatioContext): number {
  const { host, ratio } = ctx;
  ctx.stats.runs++;
  let total = 0;
  for (const c of ratio.constrainedGroups()) {
    if (ratio.exempt[c] !== 0) continue;
    let over = ratio.excess(c);
    if (over <= 0) continue;
    // Take from the fast nodes holding most of the group first.
    const byNode = [...ratio.fastNodes].map((n) => ({ n, pages: subtreePagesOn(ctx, c, n) }));
    byNode.sort((a, b) => b.pages - a.pages || a.n - b.n);
    const cost = new Float64Array(1);
    for (const { n, pages } of byNode) {
      if (over <= 0 || pages === 0) continue;
      const done = demoteMemcg(host, c, n, Math.min(over, pages), MR.ratio_rebalance, cost);
      over -= done;
      total += done;
    }
    chargeGroup(ctx, c, cost[0]);
  }
  return total;
}

function subtreePagesOn(ctx: RatioContext, memcg: number, node: number): number {
  const cg = ctx.host.cgroups;
  let s = 0;
  for (const g of cg.subtree(memcg)) s += cg.nodePages[g * ctx.host.nodes + node];
  return s;
}
