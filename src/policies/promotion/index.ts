import { activeLruFilter } from './active-lru.js';
import { alwaysFilter } from './always.js';
import { hotThresholdFilter } from './hot-threshold.js';
import { twoReferenceFilter } from './two-reference.js';
import type { PromotionFilterFactory } from './types.js';

/** Promotion filters by the name a scenario uses (tiering.promotion_filter). */
export const PROMOTION_FILTERS: Readonly<Record<string, PromotionFilterFactory>> = {
  'hot-threshold': hotThresholdFilter,
  always: alwaysFilter,
  'two-reference': twoReferenceFilter,
  'active-lru': activeLruFilter,
};
export const PROMOTION_FILTER_NAMES = Object.keys(PROMOTION_FILTERS) as (
  'hot-threshold' | 'always' | 'two-reference' | 'active-lru'
)[];
