import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { createAccessStream, NormalStream, parseWorkloadSpec } from '../src/workloads/index.js';

const normal = (pages: number, sigmaFraction: number, writeRatio = 0, seed = 1): NormalStream =>
  new NormalStream({ pages, sigmaFraction, writeRatio, computeNs: 0 }, new Rng(seed));

function draw(s: NormalStream, count: number, chunk = 13): Int32Array {
  const out = new Int32Array(count);
  const buf = new Int32Array(chunk);
  for (let n = 0; n < count;) {
    const got = s.fill(buf, Math.min(chunk, count - n));
    out.set(buf.subarray(0, got), n);
    n += got;
  }
  return out;
}

describe('normal (pmbench Gauss)', () => {
  it('is centred on the middle with the asked standard deviation, inside the footprint', () => {
    const pages = 100_000;
    const a = draw(normal(pages, 0.1), 200_000);
    let sum = 0;
    let sq = 0;
    let within1 = 0;
    for (const x of a) {
      const v = x >>> 1;
      assert.ok(v >= 0 && v < pages);
      sum += v;
      sq += v * v;
      if (Math.abs(v + 0.5 - pages / 2) < 0.1 * pages) within1++;
    }
    const mean = sum / a.length;
    const sd = Math.sqrt(sq / a.length - mean * mean);
    assert.ok(Math.abs(mean - pages / 2) < 0.002 * pages, `mean ${mean}`);
    assert.ok(Math.abs(sd - 0.1 * pages) < 0.002 * pages, `sd ${sd}`);
    // 68.3 % within one σ.
    assert.ok(Math.abs(within1 / a.length - 0.683) < 0.005, `within 1σ ${within1 / a.length}`);
  });

  it('redraws outside the footprint: a wide σ still stays in [0, pages)', () => {
    for (const x of draw(normal(10, 5), 10_000)) assert.ok(x >>> 1 < 10);
  });

  it('writes the asked share, and is the same sequence whatever the chunk size', () => {
    const a = draw(normal(4096, 0.125, 0.2, 7), 50_000, 1);
    const b = draw(normal(4096, 0.125, 0.2, 7), 50_000, 4096);
    assert.deepEqual(a, b);
    let w = 0;
    for (const x of a) w += x & 1;
    assert.ok(Math.abs(w / a.length - 0.2) < 0.01);
  });

  it('is a scenario pattern with its own field, refused with the others', () => {
    const s = createAccessStream({ footprint: '64MiB', pattern: 'normal', sigma: 0.05 }, new Rng(1));
    assert.equal(s.phase, 'normal');
    assert.throws(
      () => parseWorkloadSpec({ footprint: '64MiB', pattern: 'uniform', sigma: 0.1 }),
      /workload\.sigma: only used with pattern normal/,
    );
    assert.throws(
      () => parseWorkloadSpec({ footprint: '64MiB', pattern: 'normal', sigma: 0 }),
      /workload\.sigma: expected a number > 0/,
    );
  });
});
