import { Registry } from '../registry.js';
import { activeLru } from './active-lru.js';
import { always } from './always.js';
import { hintFaultCount } from './hint-fault-count.js';
import { hotThreshold } from './hot-threshold.js';
import { none } from './none.js';
import { twoReference } from './two-reference.js';
import type { PromotionFilterModule } from './types.js';

/**
 * Promotion filters by the name a scenario uses (tiering.promotion_filter); their parameters
 * sit in the `tiering` block. The default applies in tiering mode (numa_balancing 2 or 3);
 * without it the loader picks two-reference (see scenario/load.ts).
 */
export const PROMOTION_FILTERS = new Registry<PromotionFilterModule>(
  'promotion filter',
  'tiering.promotion_filter',
  'hot-threshold',
  [hotThreshold, always, twoReference, activeLru, none, hintFaultCount],
);
