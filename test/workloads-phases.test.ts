import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { createAccessStream } from '../src/workloads/create.js';
import { PhasesStream } from '../src/workloads/phases.js';
import type { PhaseSpec } from '../src/workloads/schema.js';
import type { AccessStream } from '../src/workloads/types.js';
import { UniformStream } from '../src/workloads/uniform.js';

/** Every fill until `limit` accesses or the end: [count, phase, computeNs, accesses]. */
function fills(s: AccessStream, limit: number, chunk: number): [number, string, number, Int32Array][] {
  const out: [number, string, number, Int32Array][] = [];
  const buf = new Int32Array(chunk);
  for (let total = 0; total < limit;) {
    const got = s.fill(buf, chunk);
    if (got === 0) break;
    out.push([got, s.phase, s.computeNsPerAccess, buf.slice(0, got)]);
    total += got;
  }
  return out;
}

const phases: PhaseSpec[] = [
  { accesses: 1000, pattern: 'sequential', name: 'scan' },
  { accesses: 2500, pattern: 'uniform', footprint: '4MiB', compute_ns: 99, write_ratio: 0 },
  { accesses: 700, pattern: 'zipfian', theta: 1.2 },
];
const spec = { footprint: '64MiB', pattern: 'phases' as const, write_ratio: 0.5, compute_ns: 10, phases }; // 16384 pages

describe('phases', () => {
  it('switch at the right counts; fill() stops at each boundary; names and compute time follow', () => {
    const got = fills(createAccessStream(spec, new Rng(1)), 1e9, 600);
    assert.deepEqual(
      got.map(([n, phase, ns]) => [n, phase, ns]),
      [
        [600, 'scan', 10],
        [400, 'scan', 10],
        [600, 'uniform', 99],
        [600, 'uniform', 99],
        [600, 'uniform', 99],
        [600, 'uniform', 99],
        [100, 'uniform', 99],
        [600, 'zipfian', 10],
        [100, 'zipfian', 10],
      ],
    );
    // Each phase's own pattern: the scan is in order, the uniform phase stays in its 1024 pages
    // and only reads, the write ratio is inherited by the others.
    const scan = [...got[0][3], ...got[1][3]].map((e) => e >>> 1);
    assert.deepEqual(
      scan,
      Array.from({ length: 1000 }, (_, i) => i),
    );
    for (const [, phase, , acc] of got) {
      if (phase === 'uniform') for (const e of acc) assert.ok(e >>> 1 < 1024 && (e & 1) === 0);
    }
    const zipfWrites = [...got[7][3], ...got[8][3]].reduce((a, e) => a + (e & 1), 0);
    assert.ok(zipfWrites > 280 && zipfWrites < 420);
  });

  it('ends after the last phase (fill returns 0), or starts over with repeat', () => {
    const once = createAccessStream(spec, new Rng(2));
    const all = fills(once, 1e9, 4096);
    assert.equal(
      all.reduce((a, [n]) => a + n, 0),
      4200,
    );
    assert.equal(once.fill(new Int32Array(10), 10), 0);

    const again = createAccessStream({ ...spec, repeat: true }, new Rng(2));
    const twice = fills(again, 8400, 4096);
    assert.equal(
      twice.reduce((a, [n]) => a + n, 0),
      8400,
    );
    assert.deepEqual(
      twice.map(([n, p]) => [n, p]),
      [
        [1000, 'scan'],
        [2500, 'uniform'],
        [700, 'zipfian'],
        [1000, 'scan'],
        [2500, 'uniform'],
        [700, 'zipfian'],
      ],
    );
    // The scan resumes where it stopped instead of starting over.
    assert.equal(twice[3][3][0] >>> 1, 1000);
  });

  it('a phase’s accesses do not depend on the other phases', () => {
    const second = (p: PhaseSpec[]): Int32Array =>
      fills(createAccessStream({ ...spec, phases: p }, new Rng(3)), 1e9, 4096)[1][3];
    const base = second(phases);
    const edited = second([
      { accesses: 1000, pattern: 'zipfian' },
      phases[1],
      { accesses: 5, pattern: 'hotset' },
    ]);
    assert.deepEqual(edited, base);
  });

  it('refuses phases that do not fit and skips phases whose generator ended', () => {
    const rng = new Rng(1);
    const u = (pages: number): UniformStream =>
      new UniformStream({ pages, writeRatio: 0, computeNs: 0 }, rng);
    assert.throws(() => new PhasesStream([], false, 10), RangeError);
    assert.throws(() => new PhasesStream([{ name: 'a', accesses: 0, stream: u(10) }], false, 10), RangeError);
    assert.throws(() => new PhasesStream([{ name: 'a', accesses: 5, stream: u(20) }], false, 10), RangeError);
    const ended: AccessStream = {
      footprintPages: 10,
      phase: 'x',
      computeNsPerAccess: 0,
      fill: () => 0,
      close: () => {},
    };
    const s = new PhasesStream(
      [
        { name: 'gone', accesses: 5, stream: ended },
        { name: 'u', accesses: 3, stream: u(10) },
      ],
      true,
      10,
    );
    const buf = new Int32Array(10);
    assert.equal(s.fill(buf, 10), 3);
    assert.equal(s.phase, 'u');
    const dead = new PhasesStream([{ name: 'gone', accesses: 5, stream: ended }], true, 10);
    assert.equal(dead.fill(buf, 10), 0);
  });
});
