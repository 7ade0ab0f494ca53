import { Registry, type ParamShapeOf } from '../policies/registry.js';
import { hotset } from './hotset.js';
import { normal } from './normal.js';
import type { PatternModule } from './pattern.js';
import { sequential } from './sequential.js';
import { uniform } from './uniform.js';
import { zipfian } from './zipfian.js';

/**
 * The leaf patterns: those a phase may use (every pattern but `phases` itself). A new pattern
 * is one file exporting its PatternModule and one line here.
 */
const MODULES = [uniform, zipfian, hotset, sequential, normal] as const;

export const LEAF_PATTERNS = new Registry<PatternModule>(
  'leaf workload pattern',
  'vms[].workload.phases[].pattern',
  'uniform',
  MODULES,
);

/** Every leaf pattern's fields, with their static types. */
export const leafFields = LEAF_PATTERNS.paramShape() as ParamShapeOf<typeof MODULES>;
