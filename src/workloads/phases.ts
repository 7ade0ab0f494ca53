import { z } from 'zod';
import { commonFields, footprintPages, footprintPagesOf, footprintSchema, isInt, num } from './fields.js';
import { LEAF_PATTERNS, leafFields } from './leaves.js';
import { refuseOtherPatternFields, type PatternModule } from './pattern.js';
import { checkFillArgs, type AccessStream } from './types.js';

export interface Phase {
  /** Shown as the stream's `phase` while this phase runs. */
  name: string;
  /** Accesses the phase lasts (≥ 1). */
  accesses: number;
  /** Its generator; its footprint must fit in the phases stream's footprint. */
  stream: AccessStream;
}

/**
 * Runs each phase's generator for its number of accesses, then the next; with `repeat`, starts
 * over after the last (each generator resumes where it stopped, it is not rewound). fill() stops
 * at a phase boundary so that `phase` and `computeNsPerAccess` describe every access it returned.
 */
export class PhasesStream implements AccessStream {
  readonly footprintPages: number;
  readonly repeat: boolean;
  private readonly phases: readonly Phase[];
  private index = 0;
  private left: number;
  private current: Phase;

  constructor(phases: readonly Phase[], repeat: boolean, footprintPages: number) {
    if (phases.length === 0) throw new RangeError('phases: at least one phase is needed');
    for (const p of phases) {
      if (!(Number.isSafeInteger(p.accesses) && p.accesses >= 1)) {
        throw new RangeError(`phase ${p.name}: accesses must be an integer >= 1, got ${p.accesses}`);
      }
      if (p.stream.footprintPages > footprintPages) {
        throw new RangeError(
          `phase ${p.name}: footprint ${p.stream.footprintPages} exceeds ${footprintPages} pages`,
        );
      }
    }
    this.phases = phases;
    this.repeat = repeat;
    this.footprintPages = footprintPages;
    this.current = phases[0];
    this.left = phases[0].accesses;
  }

  get phase(): string {
    return this.current.name;
  }

  get computeNsPerAccess(): number {
    return this.current.stream.computeNsPerAccess;
  }

  /** Index of the phase the next access belongs to (phases.length once the stream has ended). */
  get phaseIndex(): number {
    return this.index;
  }

  close(): void {
    for (const p of this.phases) p.stream.close();
  }

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    // A phase whose generator has ended is skipped; if every phase has ended, so has this stream.
    let ended = 0;
    while (this.index < this.phases.length && ended <= this.phases.length) {
      const p = this.phases[this.index];
      this.current = p;
      const got = p.stream.fill(buf, Math.min(maxCount, this.left));
      this.left -= got;
      if (got > 0) {
        if (this.left === 0) this.advance();
        return got;
      }
      ended++;
      this.advance();
    }
    return 0;
  }

  private advance(): void {
    this.index++;
    if (this.index === this.phases.length && this.repeat) this.index = 0;
    if (this.index < this.phases.length) this.left = this.phases[this.index].accesses;
  }
}

/** One phase of a `phases` workload: a leaf pattern with its fields, for a number of accesses. */
export const phaseSpecSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('label in time series (default: the pattern)'),
    accesses: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1').describe('accesses the phase lasts'),
    pattern: LEAF_PATTERNS.idSchema().describe('access pattern of the phase'),
    footprint: footprintSchema.optional().describe("pages [0, footprint) of the workload's (default: all)"),
    ...leafFields,
    ...commonFields,
  })
  .superRefine((p, ctx) =>
    refuseOtherPatternFields(p as Record<string, unknown>, String(p.pattern), LEAF_PATTERNS, ctx),
  );

export type PhaseSpec = z.infer<typeof phaseSpecSchema>;

const phasesParams = z.strictObject({
  phases: z.array(phaseSpecSchema).min(1).optional().describe('pattern phases: the phases, run in order'),
  repeat: z.boolean().optional().describe('pattern phases: start over after the last phase (default false)'),
});

export const phases = {
  id: 'phases',
  summary: 'leaf patterns one after another, each for a number of accesses; optionally repeated',
  params: phasesParams,
  defaults: { repeat: false },
  composite: true,
  example: {
    phases: [
      { accesses: 5000, pattern: 'uniform' },
      { accesses: 3000, pattern: 'zipfian', footprint: '1MiB' },
    ],
    repeat: true,
  },
  refine(w, ctx) {
    if (w.phases === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['phases'],
        message: 'required when pattern is "phases"',
        input: undefined,
      });
    }
    const total = typeof w.footprint === 'string' ? footprintPages(w.footprint) : null;
    if (typeof total !== 'number' || !Array.isArray(w.phases)) return;
    (w.phases as PhaseSpec[]).forEach((p, i) => {
      const pages = typeof p.footprint === 'string' ? footprintPages(p.footprint) : null;
      if (typeof pages === 'number' && pages > total) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'footprint'],
          message: `expected at most the workload's footprint (${String(w.footprint)}), got ${JSON.stringify(p.footprint)}`,
          input: p.footprint,
        });
      }
    });
  },
  create(w, ctx) {
    // Each phase gets its own fork, so editing one phase does not change the others' accesses.
    const list: Phase[] = (w.phases ?? []).map((p, i) => ({
      name: p.name ?? p.pattern,
      accesses: p.accesses,
      stream: LEAF_PATTERNS.get(p.pattern).create(p, {
        pages:
          p.footprint === undefined
            ? ctx.pages
            : footprintPagesOf({ footprint: p.footprint }, `workload.phases[${i}].footprint`),
        writeRatio: p.write_ratio ?? ctx.writeRatio,
        computeNs: p.compute_ns ?? ctx.computeNs,
        rng: ctx.rng.fork(`phase:${i}`),
      }),
    }));
    return new PhasesStream(list, w.repeat ?? false, ctx.pages);
  },
} satisfies PatternModule<z.infer<typeof phasesParams>>;
