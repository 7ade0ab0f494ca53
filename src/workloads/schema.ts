import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { bytesToPages, parseSize } from '../util/units.js';
import { describeValue, parseWith } from '../util/validate.js';
import { MAX_FOOTPRINT_PAGES } from './types.js';
import { MAX_THETA } from './zipfian.js';

/**
 * The workload of one task, as written in a scenario file (see docs/workloads.md). One flat,
 * strict map: fields that belong to another pattern are refused with a message naming the
 * pattern they belong to. Absent fields take the defaults in WORKLOAD_DEFAULTS; a phase's
 * write_ratio and compute_ns default to the workload's own.
 */

export const LEAF_PATTERNS = ['uniform', 'zipfian', 'hotset', 'sequential', 'normal'] as const;
export const PATTERNS = [...LEAF_PATTERNS, 'phases'] as const;
export type LeafPattern = (typeof LEAF_PATTERNS)[number];
export type Pattern = (typeof PATTERNS)[number];

export const WORKLOAD_DEFAULTS = {
  theta: 0.99,
  scatter: true,
  hot_fraction: 0.1,
  hot_access_share: 0.9,
  shift_every_accesses: 0,
  stride_pages: 1,
  sigma: 0.125,
  write_ratio: 0,
  compute_ns: 0,
  ramp_up_accesses: 0,
  repeat: false,
} as const;

/** Which pattern each pattern-specific field belongs to. */
const FIELD_PATTERN: Record<string, Pattern> = {
  theta: 'zipfian',
  scatter: 'zipfian',
  hot_fraction: 'hotset',
  hot_access_share: 'hotset',
  shift_every_accesses: 'hotset',
  shift_pages: 'hotset',
  stride_pages: 'sequential',
  sigma: 'normal',
  phases: 'phases',
  repeat: 'phases',
};

const got = (v: unknown): string => describeValue(v);

function num(pred: (v: number) => boolean, expected: string): z.ZodNumber {
  // refine (not a custom type) so the schema still converts to JSON Schema.
  return z.number().refine(pred, { error: (iss) => `expected ${expected}, got ${got(iss.input)}` });
}

const isInt = (v: number): boolean => Number.isSafeInteger(v);

/** Pages of a footprint string, or a message saying what is wrong with it. */
function footprintPages(v: string): number | string {
  let bytes: number;
  try {
    bytes = parseSize(v, 'footprint');
  } catch (e) {
    return e instanceof InputError ? e.message.replace(/^footprint: /, '') : String(e);
  }
  const pages = bytesToPages(bytes);
  if (pages < 1) return `expected at least one 4KiB page, got ${JSON.stringify(v)}`;
  if (pages > MAX_FOOTPRINT_PAGES)
    return `expected at most 4TiB (2^30 pages of 4KiB), got ${JSON.stringify(v)}`;
  return pages;
}

const footprintSchema = z
  .string()
  .refine((v) => typeof footprintPages(v) === 'number', {
    error: (iss) => {
      const r = typeof iss.input === 'string' ? footprintPages(iss.input) : 'expected a size such as "4GiB"';
      return typeof r === 'string' ? r : 'invalid size';
    },
  })
  .describe('memory the task touches, a size with a unit ("4GiB"); pages of 4KiB');

const patternFields = {
  theta: num((v) => v > 0 && v <= MAX_THETA, `a number > 0 and ≤ ${MAX_THETA}`)
    .optional()
    .describe('zipfian exponent θ (default 0.99, the YCSB default)'),
  scatter: z.boolean().optional().describe('zipfian: spread hot pages over the footprint (default true)'),
  hot_fraction: num((v) => v > 0 && v <= 1, 'a number > 0 and ≤ 1')
    .optional()
    .describe('hotset: fraction of the footprint that is hot (default 0.1)'),
  hot_access_share: num((v) => v >= 0 && v <= 1, 'a number in [0, 1]')
    .optional()
    .describe('hotset: fraction of accesses that go to the hot set (default 0.9)'),
  shift_every_accesses: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
    .optional()
    .describe('hotset: the hot set moves after every this many accesses; 0 = never (default)'),
  shift_pages: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
    .optional()
    .describe('hotset: pages the hot set moves by (default: its own size)'),
  stride_pages: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1')
    .optional()
    .describe('sequential: pages between consecutive accesses (default 1)'),
  sigma: num((v) => v > 0 && v <= 10, 'a number > 0 and ≤ 10')
    .optional()
    .describe(
      'normal: standard deviation as a fraction of the footprint, centred on its middle (default 0.125)',
    ),
  write_ratio: num((v) => v >= 0 && v <= 1, 'a number in [0, 1]')
    .optional()
    .describe('fraction of accesses that are writes (default 0)'),
  compute_ns: num((v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0')
    .optional()
    .describe('compute time between consecutive accesses, ns (default 0)'),
};

export const phaseSpecSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('label in time series (default: the pattern)'),
    accesses: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1').describe('accesses the phase lasts'),
    pattern: z.enum(LEAF_PATTERNS).describe('access pattern of the phase'),
    footprint: footprintSchema.optional().describe("pages [0, footprint) of the workload's (default: all)"),
    ...patternFields,
  })
  .superRefine((p, ctx) => checkPatternFields(p as Record<string, unknown>, String(p.pattern), ctx));

export const workloadSpecSchema = z
  .strictObject({
    footprint: footprintSchema,
    pattern: z.enum(PATTERNS).describe('access pattern'),
    ...patternFields,
    ramp_up_accesses: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
      .optional()
      .describe('the reachable footprint grows from 1% to 100% over this many accesses (default 0: off)'),
    accesses: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1')
      .optional()
      .describe('total accesses; the stream ends after them (default: endless)'),
    phases: z.array(phaseSpecSchema).min(1).optional().describe('pattern phases: the phases, run in order'),
    repeat: z
      .boolean()
      .optional()
      .describe('pattern phases: start over after the last phase (default false)'),
  })
  .superRefine((w, ctx) => {
    checkPatternFields(w as Record<string, unknown>, String(w.pattern), ctx);
    if (w.pattern === 'phases' && w.phases === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases'],
        message: 'required when pattern is "phases"',
        input: undefined,
      });
    }
    const total = typeof w.footprint === 'string' ? footprintPages(w.footprint) : null;
    if (typeof total !== 'number' || !Array.isArray(w.phases)) return;
    w.phases.forEach((p, i) => {
      const pages = typeof p.footprint === 'string' ? footprintPages(p.footprint) : null;
      if (typeof pages === 'number' && pages > total) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'footprint'],
          message: `expected at most the workload's footprint (${w.footprint}), got ${JSON.stringify(p.footprint)}`,
          input: p.footprint,
        });
      }
    });
  });

export type WorkloadSpec = z.infer<typeof workloadSpecSchema>;
export type PhaseSpec = z.infer<typeof phaseSpecSchema>;

function checkPatternFields(obj: Record<string, unknown>, pattern: string, ctx: z.RefinementCtx): void {
  for (const [key, owner] of Object.entries(FIELD_PATTERN)) {
    if (obj[key] !== undefined && owner !== pattern) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `only used with pattern ${owner}, but the pattern is ${JSON.stringify(pattern)}`,
        input: obj[key],
      });
    }
  }
}

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

/** Pages (4 KiB) of the spec's footprint. */
export function footprintPagesOf(
  spec: Pick<WorkloadSpec, 'footprint'>,
  field = 'workload.footprint',
): number {
  const r = footprintPages(spec.footprint);
  if (typeof r === 'string') throw new InputError(`${field}: ${r}`);
  return r;
}
