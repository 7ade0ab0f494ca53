import { z } from 'zod';
import { parseWith } from '../util/validate.js';
import { commonFields, footprintSchema, isInt, num } from './fields.js';
import { LEAF_PATTERNS, leafFields } from './leaves.js';
import { refuseOtherPatternFields } from './pattern.js';
import { WORKLOAD_PATTERNS, compositeFields } from './patterns.js';

export { footprintPagesOf } from './fields.js';
export { phaseSpecSchema, type PhaseSpec } from './phases.js';

/**
 * The workload of one task, as written in a scenario file (see docs/workloads.md). One flat,
 * strict map: the common fields, then every pattern's own fields (from the pattern registry);
 * fields that belong to another pattern are refused with a message naming the pattern they
 * belong to. Absent fields take the defaults in WORKLOAD_DEFAULTS; a phase's write_ratio and
 * compute_ns default to the workload's own.
 */

export const PATTERNS = WORKLOAD_PATTERNS.ids();
export const LEAF_PATTERN_NAMES = LEAF_PATTERNS.ids();
export type Pattern = string;
export type LeafPattern = string;

/** The defaults of the common fields. */
export const COMMON_DEFAULTS = {
  write_ratio: 0,
  compute_ns: 0,
  ramp_up_accesses: 0,
} as const;

/** Every field's default: the common ones and each pattern's own. */
export const WORKLOAD_DEFAULTS: Readonly<Record<string, unknown>> = Object.assign(
  {},
  ...WORKLOAD_PATTERNS.modules().map((m) => m.defaults),
  COMMON_DEFAULTS,
);

export const workloadSpecSchema = z
  .strictObject({
    footprint: footprintSchema,
    pattern: WORKLOAD_PATTERNS.idSchema().describe('access pattern'),
    ...leafFields,
    ...commonFields,
    ramp_up_accesses: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
      .optional()
      .describe('the reachable footprint grows from 1% to 100% over this many accesses (default 0: off)'),
    accesses: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1')
      .optional()
      .describe('total accesses; the stream ends after them (default: endless)'),
    ...compositeFields,
  })
  .superRefine((w, ctx) => {
    const spec = w as Record<string, unknown>;
    const pattern = String(w.pattern);
    refuseOtherPatternFields(spec, pattern, WORKLOAD_PATTERNS, ctx);
    if (WORKLOAD_PATTERNS.has(pattern)) WORKLOAD_PATTERNS.get(pattern).refine?.(spec, ctx);
  });

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;

/**
 * Validates a workload spec (e.g. one built in code) and returns it; problems are thrown as
 * InputError naming the field, e.g. `workload.theta: expected a number > 0 and ≤ 10, got -1`.
 */
export function parseWorkloadSpec(
  input: unknown,
  field: readonly PropertyKey[] = ['workload'],
): WorkloadSpec {
  return parseWith(workloadSpecSchema, input, field);
}
