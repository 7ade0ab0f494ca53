import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { createAccessStream } from '../src/workloads/create.js';
import {
  footprintPagesOf,
  parseWorkloadSpec,
  workloadSpecSchema,
  type WorkloadSpec,
} from '../src/workloads/schema.js';

function refusal(input: unknown): string {
  try {
    parseWorkloadSpec(input);
  } catch (e) {
    assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

const ok = (w: object): WorkloadSpec => parseWorkloadSpec(w);

describe('workload spec: accepted', () => {
  it('takes every pattern with its fields, and the documented example', () => {
    ok({ footprint: '4GiB', pattern: 'uniform', write_ratio: 0.3, compute_ns: 20, accesses: 100_000_000 });
    ok({ footprint: '4GiB', pattern: 'zipfian', theta: 0.99, scatter: false, ramp_up_accesses: 1000 });
    ok({ footprint: '4GiB', pattern: 'zipfian', theta: 1 });
    ok({
      footprint: '4GiB',
      pattern: 'hotset',
      hot_fraction: 0.1,
      hot_access_share: 0.9,
      shift_every_accesses: 1_000_000,
      shift_pages: 4096,
    });
    ok({ footprint: '512MiB', pattern: 'sequential', stride_pages: 8 });
    ok({
      footprint: '2GiB',
      pattern: 'phases',
      repeat: true,
      write_ratio: 0.1,
      phases: [
        { accesses: 3_000_000, pattern: 'uniform', compute_ns: 50 },
        { accesses: 3_000_000, pattern: 'zipfian', theta: 0.8, name: 'hot', footprint: '1GiB' },
      ],
    });
  });

  it('takes the examples of docs/workloads.md', () => {
    const doc = readFileSync(new URL('../../docs/workloads.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(doc);
    assert.ok(block, 'no yaml example in docs/workloads.md');
    const examples = parseYaml(block[1]) as unknown[];
    assert.ok(Array.isArray(examples) && examples.length >= 5);
    for (const w of examples) createAccessStream(ok(w as object), new Rng(1));
  });

  it('is a strict zod schema usable inside a bigger one', () => {
    const outer = z.strictObject({ workload: workloadSpecSchema });
    assert.equal(outer.safeParse({ workload: { footprint: '1GiB', pattern: 'uniform' } }).success, true);
    assert.equal(
      outer.safeParse({ workload: { footprint: '1GiB', pattern: 'uniform', x: 1 } }).success,
      false,
    );
  });

  it('footprintPagesOf gives 4 KiB pages, rounding down', () => {
    assert.equal(footprintPagesOf({ footprint: '4GiB' }), 2 ** 20);
    assert.equal(footprintPagesOf({ footprint: '4097B' }), 1);
    assert.equal(footprintPagesOf({ footprint: '4TiB' }), 2 ** 30);
    assert.throws(
      () => footprintPagesOf({ footprint: '1KiB' }),
      /workload\.footprint: expected at least one 4KiB page/,
    );
  });
});

describe('workload spec: refused, with the field and what is allowed', () => {
  const cases: [string, object | string, RegExp][] = [
    [
      'θ ≤ 0',
      { footprint: '4GiB', pattern: 'zipfian', theta: -1 },
      /^workload\.theta: expected a number > 0 and ≤ 10, got -1$/,
    ],
    ['θ too large', { footprint: '4GiB', pattern: 'zipfian', theta: 11 }, /^workload\.theta: .* got 11$/],
    [
      'unknown pattern',
      { footprint: '4GiB', pattern: 'zipf' },
      /^workload\.pattern: expected one of "uniform", "zipfian", "hotset", "sequential", "normal", "phases", got "zipf"$/,
    ],
    [
      'field of another pattern',
      { footprint: '4GiB', pattern: 'uniform', theta: 0.9 },
      /^workload\.theta: only used with pattern zipfian, but the pattern is "uniform"$/,
    ],
    [
      'unknown key',
      { footprint: '4GiB', pattern: 'uniform', thetaa: 1 },
      /^workload: unknown key "thetaa" \(allowed: footprint, pattern, theta/,
    ],
    ['missing footprint', { pattern: 'uniform' }, /^workload\.footprint: required$/],
    [
      'unit-less footprint',
      { footprint: '4096', pattern: 'uniform' },
      /^workload\.footprint: expected a number followed by a unit/,
    ],
    [
      'footprint under a page',
      { footprint: '1KiB', pattern: 'uniform' },
      /^workload\.footprint: expected at least one 4KiB page/,
    ],
    [
      'footprint over 2^30 pages',
      { footprint: '5TiB', pattern: 'uniform' },
      /^workload\.footprint: expected at most 4TiB/,
    ],
    [
      'write ratio',
      { footprint: '1GiB', pattern: 'uniform', write_ratio: 1.5 },
      /^workload\.write_ratio: expected a number in \[0, 1\], got 1\.5$/,
    ],
    [
      'compute_ns',
      { footprint: '1GiB', pattern: 'uniform', compute_ns: -3 },
      /^workload\.compute_ns: expected a number ≥ 0, got -3$/,
    ],
    [
      'accesses',
      { footprint: '1GiB', pattern: 'uniform', accesses: 0 },
      /^workload\.accesses: expected an integer ≥ 1, got 0$/,
    ],
    [
      'ramp-up',
      { footprint: '1GiB', pattern: 'uniform', ramp_up_accesses: 2.5 },
      /^workload\.ramp_up_accesses: expected an integer ≥ 0, got 2\.5$/,
    ],
    [
      'hot fraction',
      { footprint: '1GiB', pattern: 'hotset', hot_fraction: 0 },
      /^workload\.hot_fraction: expected a number > 0 and ≤ 1, got 0$/,
    ],
    [
      'hot share',
      { footprint: '1GiB', pattern: 'hotset', hot_access_share: -0.1 },
      /^workload\.hot_access_share: expected a number in \[0, 1\]/,
    ],
    [
      'shift',
      { footprint: '1GiB', pattern: 'hotset', shift_every_accesses: 1.5 },
      /^workload\.shift_every_accesses: expected an integer ≥ 0/,
    ],
    [
      'stride',
      { footprint: '1GiB', pattern: 'sequential', stride_pages: 0 },
      /^workload\.stride_pages: expected an integer ≥ 1, got 0$/,
    ],
    [
      'phases missing',
      { footprint: '1GiB', pattern: 'phases' },
      /^workload\.phases: required when pattern is "phases"$/,
    ],
    [
      'phases empty',
      { footprint: '1GiB', pattern: 'phases', phases: [] },
      /^workload\.phases: must have at least 1 entry$/,
    ],
    [
      'phases on a leaf',
      { footprint: '1GiB', pattern: 'uniform', repeat: true },
      /^workload\.repeat: only used with pattern phases/,
    ],
    [
      'phase without accesses',
      { footprint: '1GiB', pattern: 'phases', phases: [{ pattern: 'uniform' }] },
      /^workload\.phases\[0\]\.accesses: required$/,
    ],
    [
      'nested phases',
      { footprint: '1GiB', pattern: 'phases', phases: [{ accesses: 5, pattern: 'phases' }] },
      /^workload\.phases\[0\]\.pattern: expected one of "uniform", "zipfian", "hotset", "sequential", "normal", got "phases"$/,
    ],
    [
      'phase field of another pattern',
      {
        footprint: '1GiB',
        pattern: 'phases',
        phases: [{ accesses: 5, pattern: 'uniform', stride_pages: 2 }],
      },
      /^workload\.phases\[0\]\.stride_pages: only used with pattern sequential/,
    ],
    [
      'phase footprint too big',
      {
        footprint: '1GiB',
        pattern: 'phases',
        phases: [{ accesses: 5, pattern: 'uniform', footprint: '2GiB' }],
      },
      /^workload\.phases\[0\]\.footprint: expected at most the workload's footprint \(1GiB\), got "2GiB"$/,
    ],
    [
      'ramp-up inside a phase',
      {
        footprint: '1GiB',
        pattern: 'phases',
        phases: [{ accesses: 5, pattern: 'uniform', ramp_up_accesses: 9 }],
      },
      /^workload\.phases\[0\]: unknown key "ramp_up_accesses"/,
    ],
    ['not a map', 'zipfian', /^workload: expected object, got "zipfian"$/],
  ];
  for (const [name, input, re] of cases) {
    it(name, () => assert.match(refusal(input), re));
  }

  it('createAccessStream validates what it is given', () => {
    assert.throws(
      () => createAccessStream({ footprint: '1GiB', pattern: 'zipfian', theta: 0 }, new Rng(1)),
      (e: unknown) => e instanceof InputError && e.message.startsWith('workload.theta:'),
    );
  });
});
