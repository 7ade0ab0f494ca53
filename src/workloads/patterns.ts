import { Registry, type ParamShapeOf } from '../policies/registry.js';
import { LEAF_PATTERNS } from './leaves.js';
import type { PatternModule } from './pattern.js';
import { phases } from './phases.js';

/** Every workload pattern by the name a scenario uses (vms[].workload.pattern). */
export const WORKLOAD_PATTERNS = new Registry<PatternModule>(
  'workload pattern',
  'vms[].workload.pattern',
  'uniform',
  [...LEAF_PATTERNS.modules(), phases],
);

/** The fields of the composite patterns (the leaves' are in leaves.ts), with their static types. */
export const compositeFields = phases.params.shape as ParamShapeOf<[typeof phases]>;
