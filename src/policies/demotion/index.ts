import { Registry } from '../registry.js';
import { distanceList } from './distance-list.js';
import { kernel } from './kernel.js';
import { none } from './none.js';
import { oneWay } from './one-way.js';
import { single } from './single.js';
import type { DemotionPolicyModule } from './types.js';

/** Demotion-order policies by the name a scenario uses (tiering.demotion_policy). */
export const DEMOTION_POLICIES = new Registry<DemotionPolicyModule>(
  'demotion policy',
  'tiering.demotion_policy',
  'kernel',
  [kernel, single, distanceList, oneWay, none],
);
