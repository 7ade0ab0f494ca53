import type { HostHookSet } from '../../host/hooks.js';
import { MR } from '../../host/migration-ledger.js';
import { demoteMemcg } from '../../host/reclaim.js';
import type { RatioContext } from './types.js';

/**
 * The quota at promotion time, whatever the strategy: NUMA balancing asks the promotionGate
 * hook before moving a slow-tier page of `memcg` up. While every quota the group is under has room
 * the promotion goes ahead. At the quota, `refuse` turns it down; `exchange` first demotes a
 * colder page of the group at its quota — the tail of its inactive list on the destination node,
 * then on the other fast nodes, through demoteMemcg (reason ratio_exchange) — and lets the
 * promotion through only if that made room. Pages the tenant hinted fast are kept by reclaim's
 * keepPage, so an exchange never takes them. Demotion works in reclaim batches (up to
 * SWAP_CLUSTER_MAX pages), so one exchange may free room for the next few promotions.
 */
export function promotionGate(ctx: RatioContext): NonNullable<HostHookSet['promotionGate']> {
  const { host, ratio, stats } = ctx;
  const refuse = ctx.options.promotion === 'refuse';
  const cost = new Float64Array(1); // demoteMemcg()'s work, per exchange
  return (memcg, p, dst) => {
    if (ratio.exempt[memcg] !== 0 || ratio.mayAddFast(memcg)) return true;
    if (refuse) {
      stats.refusedPromotions++;
      return false;
    }
    const asId = host.spaceOf(host.frames.rmapOf(p)).id;
    // Every ancestor at its quota must give up a page; the tightest first.
    for (let guard = 0; guard < 8 && !ratio.mayAddFast(memcg); guard++) {
      const c = ratio.tightest(memcg);
      let freed = 0;
      const nodes = [dst, ...[...ratio.fastNodes].filter((n) => n !== dst)];
      for (const n of nodes) {
        cost[0] = 0;
        freed = demoteMemcg(host, c, n, 1, MR.ratio_exchange, cost);
        ctx.chargeTask(asId, cost[0]);
        stats.chargedNs += cost[0];
        if (freed > 0) break;
      }
      if (freed === 0) break;
    }
    if (!ratio.mayAddFast(memcg)) {
      stats.refusedPromotions++;
      return false;
    }
    stats.exchanges++;
    return true;
  };
}
