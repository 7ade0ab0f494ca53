import { PF_ACTIVE, PF_REFERENCED, lruOfFlags } from '../../host/frames.js';
import { VM } from '../../host/vmstat.js';
import { rateLimited } from './rate-limit.js';
import { z } from 'zod';
import {
  NOT_HOT,
  type PromotionFilter,
  type PromotionFilterConfig,
  type PromotionFilterModule,
} from './types.js';

/**
 * Promote only pages already on the active LRU list (the rule of Meta's TPP, "Transparent Page
 * Placement for CXL-Enabled Tiered-Memory", ASPLOS'23). A fault on an inactive page only marks
 * it accessed, as mark_page_accessed() does: the first time it sets PG_referenced, the second
 * time it activates the page, so a later fault may promote it.
 */
export function activeLruFilter(config: PromotionFilterConfig): PromotionFilter {
  return {
    name: 'active-lru',
    recordsScanTime: false,
    decide(f) {
      const host = f.host;
      const fr = host.frames;
      const flags = fr.flagsOf(f.p);
      if ((flags & PF_ACTIVE) !== 0) return rateLimited(config, f);
      if ((flags & PF_REFERENCED) === 0) {
        fr.setFlags(f.p, flags | PF_REFERENCED);
        return NOT_HOT;
      }
      const memcg = host.memcgOfPage(f.p);
      fr.remove(fr.listId(memcg, f.src, lruOfFlags(flags)), f.p);
      fr.setFlags(f.p, flags | PF_ACTIVE);
      fr.addHead(fr.listId(memcg, f.src, lruOfFlags(flags | PF_ACTIVE)), f.p);
      host.vmstat.add(memcg, f.src, VM.pgactivate, 1);
      return NOT_HOT;
    },
  };
}

export const activeLru: PromotionFilterModule = {
  id: 'active-lru',
  summary: 'promote pages already on the active LRU; a fault on an inactive page marks it accessed (TPP)',
  params: z.strictObject({}),
  create: (_p, ctx) => activeLruFilter(ctx),
};
