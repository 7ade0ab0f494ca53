import type { Experiment } from '../types.js';
import { demotionOrder } from './demotion-order.js';
import { demotionVsSwap } from './demotion-vs-swap.js';
import { dentryPlacement } from './dentry-placement.js';
import { memoryLow } from './memory-low.js';
import { memoryMode } from './memory-mode.js';
import { promotionFilters } from './promotion-filters.js';
import { ratioStrategies } from './ratio-strategies.js';
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
];
