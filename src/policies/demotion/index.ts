import { distanceListDemotion } from './distance-list.js';
import { kernelDemotion } from './kernel.js';
import { oneWayDemotion } from './one-way.js';
import { singleDemotion } from './single.js';
import type { DemotionPolicyFactory } from './types.js';

/** Demotion-order policies by the name a scenario uses (tiering.demotion_policy). */
export const DEMOTION_POLICIES: Readonly<Record<string, DemotionPolicyFactory>> = {
  kernel: (topo) => kernelDemotion(topo),
  single: singleDemotion,
  'distance-list': distanceListDemotion,
  'one-way': oneWayDemotion,
};

export type DemotionPolicyName = 'kernel' | 'single' | 'distance-list' | 'one-way';
export const DEMOTION_POLICY_NAMES = Object.keys(DEMOTION_POLICIES) as DemotionPolicyName[];
