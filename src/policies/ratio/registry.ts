import { Registry } from '../registry.js';
import { chargeRetry } from './charge-retry.js';
import { interleave } from './interleave.js';
import { rebalance } from './rebalance.js';
import { RATIO_DEFAULTS, type RatioStrategyModule } from './types.js';
import { userspace } from './userspace.js';
import { weightedRandom } from './weighted-random.js';

/**
 * Every ratio enforcement strategy: the only list of them. The scenario's `ratio.strategy`
 * enum and its `ratio.<id>` option blocks, `numatier policies`, the SLA command's --strategy and
 * the conformance suite are derived from it. A new strategy is a new file and a line here.
 */
export const RATIO_STRATEGY_REGISTRY = new Registry<RatioStrategyModule>(
  'ratio strategy',
  'ratio.strategy',
  RATIO_DEFAULTS.strategy,
  [chargeRetry, rebalance, weightedRandom, interleave, userspace] as RatioStrategyModule[],
);

export const RATIO_STRATEGIES: readonly string[] = RATIO_STRATEGY_REGISTRY.ids();

/** The strategies that take parameters: each has its option block `ratio.<id>`. */
export function ratioOptionBlocks(): RatioStrategyModule[] {
  return RATIO_STRATEGY_REGISTRY.modules().filter((m) => Object.keys(m.params.shape).length > 0);
}
