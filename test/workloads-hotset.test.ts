import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { HotsetStream, type HotsetOptions } from '../src/workloads/hotset.js';

const hotset = (o: Partial<HotsetOptions> & { pages: number }, seed: number | string = 1): HotsetStream =>
  new HotsetStream(
    {
      writeRatio: 0,
      computeNs: 0,
      hotFraction: 0.1,
      hotAccessShare: 0.9,
      shiftEveryAccesses: 0,
      shiftPages: 0,
      ...o,
    },
    new Rng(seed),
  );

/** Pulls `count` accesses with chunks of `chunk`, calling f(access, hotStart before the chunk). */
function drain(s: HotsetStream, count: number, f: (e: number) => void, chunk = 4096): void {
  const buf = new Int32Array(chunk);
  for (let done = 0; done < count;) {
    const got = s.fill(buf, Math.min(chunk, count - done));
    for (let i = 0; i < got; i++) f(buf[i]);
    done += got;
  }
}

const inWindow = (v: number, start: number, len: number, n: number): boolean => (v - start + n) % n < len;

describe('hotset', () => {
  it('the hot set gets hot_access_share of the accesses, uniformly; the rest go uniformly elsewhere', () => {
    const n = 10_000;
    const s = hotset({ pages: n, hotFraction: 0.1, hotAccessShare: 0.9 });
    assert.equal(s.hotPages, 1000);
    const counts = new Float64Array(n);
    const draws = 1_000_000;
    drain(s, draws, (e) => counts[e >>> 1]++);
    let hot = 0;
    for (let v = 0; v < 1000; v++) hot += counts[v];
    assert.ok(Math.abs(hot / draws - 0.9) < 5 * Math.sqrt((0.9 * 0.1) / draws), `hot share ${hot / draws}`);
    // Per-page rates: hot pages ~ 0.9/1000, cold ~ 0.1/9000, no page left out.
    let minHot = Infinity;
    let maxCold = 0;
    let minCold = Infinity;
    for (let v = 0; v < n; v++) {
      if (v < 1000) minHot = Math.min(minHot, counts[v]);
      else {
        maxCold = Math.max(maxCold, counts[v]);
        minCold = Math.min(minCold, counts[v]);
      }
    }
    assert.ok(minHot > 700 && maxCold < 30 && minCold > 0, `${minHot} ${maxCold} ${minCold}`);
  });

  it('the hot set moves by shift_pages every shift_every_accesses, wrapping around', () => {
    const n = 5000;
    const s = hotset({
      pages: n,
      hotFraction: 0.2,
      hotAccessShare: 1,
      shiftEveryAccesses: 10_000,
      shiftPages: 1700,
    });
    const starts: number[] = [];
    let k = 0;
    drain(
      s,
      60_000,
      (e) => {
        const window = Math.floor(k / 10_000);
        const start = (window * 1700) % n;
        if (k % 10_000 === 0) starts.push(start);
        if (!inWindow(e >>> 1, start, 1000, n))
          assert.fail(`access ${k} (${e >>> 1}) outside window at ${start}`);
        k++;
      },
      3000, // chunks that straddle the shifts
    );
    assert.deepEqual(starts, [0, 1700, 3400, 100, 1800, 3500]);
    assert.equal(s.hotStart, (6 * 1700) % n);
  });

  it('a policy that stays on the first hot set loses its hits after the shift', () => {
    const n = 4096;
    const s = hotset({ pages: n, shiftEveryAccesses: 100_000, shiftPages: 2048 });
    let before = 0;
    let after = 0;
    let k = 0;
    drain(s, 200_000, (e) => {
      const inFirst = inWindow(e >>> 1, 0, s.hotPages, n) ? 1 : 0;
      if (k++ < 100_000) before += inFirst;
      else after += inFirst;
    });
    assert.ok(before > 88_000 && after < 2_000, `${before} ${after}`);
  });

  it('degenerate settings: share 0 never touches the hot set, share 1 only it, fraction 1 all pages', () => {
    const n = 1000;
    drain(hotset({ pages: n, hotAccessShare: 0 }), 50_000, (e) => assert.ok(e >>> 1 >= 100));
    drain(hotset({ pages: n, hotAccessShare: 1 }), 50_000, (e) => assert.ok(e >>> 1 < 100));
    const seen = new Set<number>();
    drain(hotset({ pages: 50, hotFraction: 1, hotAccessShare: 0.2 }), 20_000, (e) => seen.add(e >>> 1));
    assert.equal(seen.size, 50);
    assert.equal(hotset({ pages: 10, hotFraction: 0.0001 }).hotPages, 1);
  });

  it('draws exactly what the plain reference draws, shifts and redraws included', () => {
    const options: (Partial<HotsetOptions> & { pages: number })[] = [
      {
        pages: 3 * 2 ** 18 + 5,
        hotFraction: 0.07,
        hotAccessShare: 0.8,
        shiftEveryAccesses: 7777,
        shiftPages: 123_456,
        writeRatio: 0.3,
      },
      // Both sets of 3·2^27 pages: Lemire rejects 1 draw in 16.
      {
        pages: 3 * 2 ** 28,
        hotFraction: 0.5,
        hotAccessShare: 0.5,
        shiftEveryAccesses: 1000,
        shiftPages: 5,
        writeRatio: 0.5,
      },
    ];
    for (const o of options) {
      const fast = hotset(o, 'ref');
      const ref = hotset(o, 'ref');
      let k = 0;
      drain(
        fast,
        60_000,
        (e) => {
          const x = ref.nextReference();
          if (e !== ((x.vpn << 1) | (x.write ? 1 : 0)))
            assert.fail(`access ${k}: ${e} vs ${JSON.stringify(x)}`);
          k++;
        },
        1000,
      );
    }
  });

  it('write ratio within tolerance; refuses bad options', () => {
    let w = 0;
    drain(hotset({ pages: 999, writeRatio: 0.6 }), 100_000, (e) => (w += e & 1));
    assert.ok(Math.abs(w / 100_000 - 0.6) < 0.01);
    assert.throws(() => hotset({ pages: 10, hotFraction: 0 }), RangeError);
    assert.throws(() => hotset({ pages: 10, hotAccessShare: 1.1 }), RangeError);
    assert.throws(() => hotset({ pages: 10, shiftEveryAccesses: -1 }), RangeError);
    assert.throws(() => hotset({ pages: 10, shiftPages: 0.5 }), RangeError);
  });
});
