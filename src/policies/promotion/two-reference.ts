import { rateLimited } from './rate-limit.js';
import { NOT_HOT, type PromotionFilter, type PromotionFilterConfig } from './types.js';

/**
 * The two-reference rule of classic NUMA balancing applied to promotion (idea S21): a page
 * moves toward a node only if its previous hint fault also came from that node, so a page
 * touched once per scan period is promoted with probability ≈ p² rather than p. The last
 * faulting node and task are kept in the page's last_cpupid field (node + 1, then 8 bits of task).
 * Unlike the kernel's classic path, there is no exception for a task's first scans or for
 * tasks without a NUMA group: the point is to measure the two-reference filter itself.
 */
export function twoReferenceFilter(config: PromotionFilterConfig): PromotionFilter {
  return {
    name: 'two-reference',
    recordsScanTime: false,
    decide(f) {
      const fr = f.host.frames;
      const last = fr.stampOf(f.p);
      fr.setStamp(f.p, ((f.dst + 1) << 8) | (f.task & 0xff));
      if (last >>> 8 !== f.dst + 1) return NOT_HOT;
      return rateLimited(config, f);
    },
  };
}
