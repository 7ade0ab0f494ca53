import { DEMOTION_POLICIES } from './demotion/index.js';
import { KMEM_PLACEMENTS } from './kmem/index.js';
import { PROMOTION_FILTERS } from './promotion/index.js';
import { RATIO_STRATEGY_REGISTRY } from './ratio/registry.js';
import type { Registry } from './registry.js';
import { WORKLOAD_PATTERNS } from '../workloads/patterns.js';

/**
 * Every hook's registry, in the order `numatier policies` lists them. The conformance suites
 * and the docs tables iterate over these.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const REGISTRIES: readonly Registry<any>[] = [
  PROMOTION_FILTERS,
  DEMOTION_POLICIES,
  RATIO_STRATEGY_REGISTRY,
  KMEM_PLACEMENTS,
  WORKLOAD_PATTERNS,
];
