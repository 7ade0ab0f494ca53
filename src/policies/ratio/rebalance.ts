import type { Daemon } from '../../engine/simulation.js';
import { MR } from '../../host/migration-ledger.js';
import { demoteMemcg } from '../../host/reclaim.js';
import { chargeGroup, type RatioContext, type RatioStrategy } from './types.js';

/**
 * Strategy B (idea S10): allocation is left alone; a periodic pass finds groups over their fast
 * quota and demotes their coldest fast pages — reclaim scoped to the group, demotion only
 * (demoteMemcg, ledger reason ratio_rebalance) — until they are back within it. The work is
 * paid by the group's tasks, as memory.high reclaim is. Between passes a growing group may
 * overshoot its quota; the period bounds how long.
 */
export class Rebalance implements RatioStrategy {
  readonly name = 'rebalance' as const;
  private ctx: RatioContext | null = null;

  install(ctx: RatioContext): void {
    this.ctx = ctx;
  }

  daemons(): Daemon[] {
    const ctx = this.ctx;
    if (ctx === null) throw new Error('rebalance: install() first');
    const period = ctx.options.rebalance.periodNs;
    return [
      {
        name: 'ratio-rebalance',
        start: () => period,
        run: (_sim, now) => {
          rebalanceOnce(ctx);
          return now + period;
        },
      },
    ];
  }
}

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
    let cost = 0;
    for (const { n, pages } of byNode) {
      if (over <= 0 || pages === 0) continue;
      const done = demoteMemcg(host, c, n, Math.min(over, pages), MR.ratio_rebalance);
      cost += host.reclaimCostNs;
      over -= done;
      total += done;
    }
    chargeGroup(ctx, c, cost);
  }
  return total;
}

function subtreePagesOn(ctx: RatioContext, memcg: number, node: number): number {
  const cg = ctx.host.cgroups;
  let s = 0;
  for (const g of cg.subtree(memcg)) s += cg.nodePages[g * ctx.host.nodes + node];
  return s;
}
