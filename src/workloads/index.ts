export type { AccessStream, LeafOptions } from './types.js';
export { MAX_FOOTPRINT_PAGES } from './types.js';
export {
  workloadSpecSchema,
  phaseSpecSchema,
  parseWorkloadSpec,
  footprintPagesOf,
  WORKLOAD_DEFAULTS,
  PATTERNS,
  LEAF_PATTERN_NAMES,
  type WorkloadSpec,
  type PhaseSpec,
  type Pattern,
  type LeafPattern,
} from './schema.js';
export { createAccessStream } from './create.js';
export { WORKLOAD_PATTERNS } from './patterns.js';
export { LEAF_PATTERNS } from './leaves.js';
export type { PatternModule, PatternContext } from './pattern.js';
export { UniformStream } from './uniform.js';
export { ZipfianStream, MAX_THETA, type ZipfianOptions } from './zipfian.js';
export { HotsetStream, type HotsetOptions } from './hotset.js';
export { SequentialStream, type SequentialOptions } from './sequential.js';
export { NormalStream, type NormalOptions } from './normal.js';
export { PhasesStream, type Phase } from './phases.js';
export { RampUpStream, RAMP_STEPS } from './ramp-up.js';
export { LimitStream } from './limit.js';
export { writeThreshold, writeBit } from './write-mix.js';
