import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { SequentialStream } from '../src/workloads/sequential.js';

const seq = (pages: number, stridePages: number, writeRatio = 0, seed = 1): SequentialStream =>
  new SequentialStream({ pages, stridePages, writeRatio, computeNs: 0 }, new Rng(seed));

function pages(s: SequentialStream, count: number, chunk = 7): number[] {
  const out: number[] = [];
  const buf = new Int32Array(chunk);
  while (out.length < count) {
    const got = s.fill(buf, Math.min(chunk, count - out.length));
    for (let i = 0; i < got; i++) out.push(buf[i] >>> 1);
  }
  return out;
}

describe('sequential', () => {
  it('stride 1 walks 0..N-1 and wraps', () => {
    assert.deepEqual(pages(seq(5, 1), 12), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
  });

  it('stride s walks each residue class in turn', () => {
    assert.deepEqual(pages(seq(10, 3), 13), [0, 3, 6, 9, 1, 4, 7, 2, 5, 8, 0, 3, 6]);
  });

  it('touches every page exactly once per pass, even when stride and N share factors', () => {
    for (const [n, s] of [
      [12, 4],
      [1024, 8],
      [1000, 7],
      [10, 10],
      [10, 25],
      [1, 3],
    ]) {
      const p = pages(seq(n, s), 3 * n, 64);
      for (let pass = 0; pass < 3; pass++) {
        const seen = new Set(p.slice(pass * n, (pass + 1) * n));
        assert.equal(seen.size, n, `N=${n} stride=${s} pass ${pass}`);
        assert.ok([...seen].every((v) => v >= 0 && v < n));
      }
    }
    assert.deepEqual(pages(seq(4, 9), 5), [0, 1, 2, 3, 0]);
  });

  it('only the write decisions are random, exactly as the reference', () => {
    const a = seq(100, 3, 0.35, 4);
    const b = seq(100, 3, 0.35, 4);
    const buf = new Int32Array(20_000);
    a.fill(buf, buf.length);
    let w = 0;
    for (let i = 0; i < buf.length; i++) {
      assert.equal(buf[i] & 1, b.nextWriteReference() ? 1 : 0);
      w += buf[i] & 1;
    }
    assert.ok(Math.abs(w / buf.length - 0.35) < 0.02);
    assert.deepEqual(pages(seq(100, 3, 0.35, 4), 300), pages(seq(100, 3, 0, 9), 300));
    assert.throws(() => seq(10, 0), RangeError);
  });
});
