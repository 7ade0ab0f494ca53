import type { Experiment } from '../types.js';
import { demotionOrder } from './demotion-order.js';
import { demotionVsSwap } from './demotion-vs-swap.js';
import { dentryPlacement } from './dentry-placement.js';
import { memoryLow } from './memory-low.js';
import { memoryMode } from './memory-mode.js';
import { promotionFilters } from './promotion-filters.js';
import { ratioStrategies } from './ratio-strategies.js';
import { publishedHotPageSelection, publishedRateLimit } from './published-hot-page-selection.js';
import { publishedMigrateOnReclaim } from './published-migrate-on-reclaim.js';
import { publishedPmbench } from './published-pmbench.js';
import { publishedTmts } from './published-tmts.js';
import { publishedTpp } from './published-tpp.js';
import { publishedWeightedInterleave } from './published-weighted-interleave.js';
import { tieringVsNoPromotion } from './tiering-vs-no-promotion.js';

/** The experiment catalogue, in the order `numatier experiment list` shows it. */
export const EXPERIMENTS: readonly Experiment[] = [
  promotionFilters,
  demotionOrder,
  ratioStrategies,
  dentryPlacement,
  memoryMode,
  demotionVsSwap,
  tieringVsNoPromotion,
  memoryLow,
  // The published results (issue 12 item 6): `numatier experiment run published`.
  publishedMigrateOnReclaim,
  publishedHotPageSelection,
  publishedRateLimit,
  publishedTpp,
  publishedWeightedInterleave,
  publishedTmts,
  publishedPmbench,
];
