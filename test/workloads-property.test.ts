import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rng } from '../src/util/rng.js';
import { createAccessStream } from '../src/workloads/create.js';
import { footprintPagesOf, type PhaseSpec, type WorkloadSpec } from '../src/workloads/schema.js';
import type { AccessStream } from '../src/workloads/types.js';

const leaf = fc.oneof(
  fc.record({ pattern: fc.constant('uniform' as const) }),
  fc.record(
    {
      pattern: fc.constant('zipfian' as const),
      theta: fc.double({ min: 0.01, max: 10, noNaN: true }),
      scatter: fc.boolean(),
    },
    { requiredKeys: ['pattern'] },
  ),
  fc.record(
    {
      pattern: fc.constant('hotset' as const),
      hot_fraction: fc.double({ min: 0.0001, max: 1, noNaN: true }),
      hot_access_share: fc.double({ min: 0, max: 1, noNaN: true }),
      shift_every_accesses: fc.integer({ min: 0, max: 5000 }),
      shift_pages: fc.integer({ min: 0, max: 1 << 20 }),
    },
    { requiredKeys: ['pattern'] },
  ),
  fc.record(
    { pattern: fc.constant('sequential' as const), stride_pages: fc.integer({ min: 1, max: 5000 }) },
    { requiredKeys: ['pattern'] },
  ),
);
const common = fc.record(
  {
    write_ratio: fc.double({ min: 0, max: 1, noNaN: true }),
    compute_ns: fc.double({ min: 0, max: 1000, noNaN: true }),
  },
  { requiredKeys: [] },
);
const kib = fc.integer({ min: 4, max: 64 * 1024 }); // 1 .. 16384 pages

const phaseArb = fc
  .tuple(leaf, common, fc.integer({ min: 1, max: 3000 }), fc.option(kib, { nil: undefined }))
  .map(
    ([l, c, accesses, fp]) =>
      ({ ...l, ...c, accesses, ...(fp === undefined ? {} : { footprint: `${fp}KiB` }) }) as PhaseSpec,
  );

const specArb: fc.Arbitrary<WorkloadSpec> = fc
  .tuple(
    kib,
    fc.oneof(
      leaf,
      fc.record({
        pattern: fc.constant('phases' as const),
        phases: fc.array(phaseArb, { minLength: 1, maxLength: 4 }),
        repeat: fc.boolean(),
      }),
    ),
    common,
    fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
  )
  .map(([fp, body, c, ramp, accesses]) => {
    const spec = { footprint: `${fp}KiB`, ...body, ...c } as WorkloadSpec;
    if (spec.phases)
      spec.phases = spec.phases.map((p) =>
        p.footprint && parseInt(p.footprint) > fp ? { ...p, footprint: undefined } : p,
      );
    if (ramp !== undefined) spec.ramp_up_accesses = ramp;
    if (accesses !== undefined) spec.accesses = accesses;
    return spec;
  });

/** Up to `count` accesses, in chunks whose sizes come from `sizes` (cycled). */
function pull(s: AccessStream, count: number, sizes: number[]): number[] {
  const out: number[] = [];
  const buf = new Int32Array(512);
  for (let k = 0; out.length < count; k++) {
    const got = s.fill(buf, Math.min(sizes[k % sizes.length], count - out.length));
    if (got === 0) break;
    out.push(...buf.subarray(0, got));
  }
  return out;
}

describe('workloads: properties over random specs', () => {
  it('every access is a vpn in [0, footprint); streams are reproducible whatever the chunking', () => {
    fc.assert(
      fc.property(
        specArb,
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 5 }),
        (spec, seed, sizes) => {
          const pages = footprintPagesOf(spec);
          const a = pull(createAccessStream(spec, new Rng(seed)), 6000, [512]);
          for (const e of a) {
            if (!(e >= 0 && e >>> 1 < pages)) return false;
          }
          // Length: the `accesses` limit, or the phases' total when they do not repeat, or endless.
          let expected = Math.min(6000, spec.accesses ?? Infinity);
          if (spec.phases && !spec.repeat)
            expected = Math.min(
              expected,
              spec.phases.reduce((t, p) => t + p.accesses, 0),
            );
          if (a.length !== expected) return false;
          const b = pull(createAccessStream(spec, new Rng(seed)), 6000, sizes);
          assert.deepEqual(b, a);
          return true;
        },
      ),
      { numRuns: 150, seed: 20240601 },
    );
  });

  it('a different seed gives a different stream (patterns with randomness)', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (spec, seed) => {
        // Write decisions are random even where pages are not (a scan, a 1-page footprint).
        const s = {
          ...spec,
          write_ratio: 0.5,
          phases: spec.phases?.map((p) => ({ ...p, write_ratio: 0.5 })),
        };
        if (!s.phases) delete s.phases;
        const a = pull(createAccessStream(s, new Rng(seed)), 400, [400]);
        const b = pull(createAccessStream(s, new Rng(seed + 1)), 400, [400]);
        return a.length === 0 || a.join() !== b.join();
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
