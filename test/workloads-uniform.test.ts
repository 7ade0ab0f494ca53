import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { UniformStream } from '../src/workloads/uniform.js';

const uniform = (pages: number, writeRatio = 0, seed: number | string = 1): UniformStream =>
  new UniformStream({ pages, writeRatio, computeNs: 5 }, new Rng(seed));

function collect(s: UniformStream, count: number): Int32Array {
  const out = new Int32Array(count);
  const buf = new Int32Array(4096);
  for (let done = 0; done < count;) {
    const got = s.fill(buf, Math.min(4096, count - done));
    out.set(buf.subarray(0, got), done);
    done += got;
  }
  return out;
}

function chiSquareZ(observed: ArrayLike<number>, expected: number): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) x += (observed[i] - expected) ** 2 / expected;
  const df = observed.length - 1;
  return (Math.cbrt(x / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
}

describe('uniform', () => {
  // 3·2^28 rejects 1 draw in 16 (2^32 mod N = 2^28), exercising the redraw path.
  for (const pages of [1, 2, 1024, 1000, 3 * 2 ** 18, 3 * 2 ** 28, 2 ** 30, 2 ** 30 - 1]) {
    it(`draws exactly Rng.nextInt(${pages}) then the write decision`, () => {
      const fast = collect(uniform(pages, 0.4, pages), 30_000);
      const ref = uniform(pages, 0.4, pages);
      for (let i = 0; i < fast.length; i++) {
        const x = ref.nextReference();
        if (fast[i] !== ((x.vpn << 1) | (x.write ? 1 : 0))) assert.fail(`access ${i}`);
        if (fast[i] >>> 1 >= pages) assert.fail(`vpn ${fast[i] >>> 1} out of range`);
      }
    });
  }

  it('is uniform over the footprint (chi-square, 1000 and 1024 pages)', () => {
    for (const pages of [1000, 1024]) {
      const counts = new Float64Array(pages);
      for (const e of collect(uniform(pages, 0, `u${pages}`), 400 * pages)) counts[e >>> 1]++;
      assert.ok(chiSquareZ(counts, 400) < 5);
      // A bias like a naive `r % n` (low pages 20% more likely) is noticed.
      for (let v = 0; v < 100; v++) {
        counts[v] += 80;
        counts[pages - 1 - v] -= 80;
      }
      assert.ok(chiSquareZ(counts, 400) > 5);
    }
  });

  it('is reproducible, differs by seed, and reports its compute time', () => {
    assert.deepEqual(collect(uniform(5000, 0.3, 'x'), 10_000), collect(uniform(5000, 0.3, 'x'), 10_000));
    assert.notDeepEqual(collect(uniform(5000, 0.3, 'x'), 10_000), collect(uniform(5000, 0.3, 'y'), 10_000));
    assert.equal(uniform(10).computeNsPerAccess, 5);
    assert.equal(uniform(10).phase, 'uniform');
  });

  it('write ratio within tolerance; pages independent of it', () => {
    const count = 200_000;
    const a = collect(uniform(777, 0.25, 'w'), count);
    let w = 0;
    for (const e of a) w += e & 1;
    assert.ok(Math.abs(w / count - 0.25) < 5 * Math.sqrt((0.25 * 0.75) / count));
    const b = collect(uniform(777, 0.9, 'w'), count);
    assert.deepEqual(
      a.map((e) => e >>> 1),
      b.map((e) => e >>> 1),
    );
  });
});
