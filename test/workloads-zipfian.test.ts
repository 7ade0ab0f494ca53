import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { ZipfianStream, type ZipfianOptions } from '../src/workloads/zipfian.js';

const zipf = (o: Partial<ZipfianOptions> & { pages: number }, seed: number | string = 1): ZipfianStream =>
  new ZipfianStream({ theta: 0.99, scatter: true, writeRatio: 0, computeNs: 0, ...o }, new Rng(seed));

/** Draws `count` accesses in chunks of 4096 and hands each encoded access to `f`. */
function drain(s: ZipfianStream, count: number, f: (e: number) => void): void {
  const buf = new Int32Array(4096);
  for (let done = 0; done < count;) {
    const got = s.fill(buf, Math.min(4096, count - done));
    for (let i = 0; i < got; i++) f(buf[i]);
    done += got;
  }
}

/** Exact pmf of 0-based ranks: (r+1)^-θ / H(N, θ). */
function pmf(n: number, theta: number): Float64Array {
  const p = new Float64Array(n);
  let h = 0;
  for (let r = n - 1; r >= 0; r--) h += p[r] = Math.pow(r + 1, -theta); // small terms first
  for (let r = 0; r < n; r++) p[r] /= h;
  return p;
}

/** Wilson–Hilferty: the chi-square statistic as an approximately standard normal z. */
function chiSquareZ(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) x += (observed[i] - expected[i]) ** 2 / expected[i];
  const df = observed.length - 1;
  return (Math.cbrt(x / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
}

/** Frequency of each rank over `draws` accesses (vpns mapped back through vpnOfRank). */
function rankCounts(s: ZipfianStream, draws: number): Float64Array {
  const n = s.footprintPages;
  const rankOf = new Int32Array(n);
  for (let r = 0; r < n; r++) rankOf[s.vpnOfRank(r)] = r;
  const counts = new Float64Array(n);
  drain(s, draws, (e) => counts[rankOf[e >>> 1]]++);
  return counts;
}

describe('zipfian: distribution', () => {
  for (const theta of [0.99, 0.5, 1.5]) {
    it(`rank frequencies match the pmf for N = 1000, θ = ${theta} (chi-square over 3M draws)`, () => {
      const draws = 3_000_000;
      const counts = rankCounts(zipf({ pages: 1000, theta }, `chi-${theta}`), draws);
      const expected = pmf(1000, theta).map((p) => p * draws);
      const z = chiSquareZ(counts, expected);
      assert.ok(z < 5, `z = ${z}`);
      // The same test rejects a slightly different exponent: it can fail.
      const wrong = pmf(1000, theta - 0.02).map((p) => p * draws);
      assert.ok(chiSquareZ(counts, wrong) > 5, 'the test cannot tell θ from θ - 0.02');
    });
  }

  it('the top 1% of pages get the expected share (N = 100000, θ = 0.99)', () => {
    const n = 100_000;
    const s = zipf({ pages: n }, 'top1');
    const top = new Uint8Array(n);
    for (let r = 0; r < n / 100; r++) top[s.vpnOfRank(r)] = 1;
    let hits = 0;
    const draws = 2_000_000;
    drain(s, draws, (e) => (hits += top[e >>> 1]));
    const p = pmf(n, 0.99);
    let share = 0;
    for (let r = 0; r < n / 100; r++) share += p[r];
    const sd = Math.sqrt((share * (1 - share)) / draws);
    assert.ok(Math.abs(hits / draws - share) < 5 * sd, `share ${hits / draws} vs ${share}`);
    assert.ok(share > 0.6 && share < 0.7); // sanity of the reference itself: ~0.66
  });

  it('multi-rank buckets are exact: bins inside and across buckets match (N = 2^20 + 12345)', () => {
    // Ranks ≥ 512 live in buckets of 2..2^11 ranks sampled by rejection; bins split buckets in
    // halves and quarters so a wrong acceptance rule or envelope would show.
    const n = 2 ** 20 + 12345;
    const theta = 0.8;
    const s = zipf({ pages: n, theta }, 'bins');
    const p = pmf(n, theta);
    const edges = [0, 1, 2, 10, 100, 511, 512, 513, 600, 1024, 1030, 1032, 4096, 4104, 4112, 4128, 65536];
    for (let e = 65536 + 128; e < n; e = Math.floor(e * 1.37) + 31) edges.push(e);
    edges.push(n);
    const binOf = new Int32Array(n);
    for (let b = 0; b + 1 < edges.length; b++) for (let r = edges[b]; r < edges[b + 1]; r++) binOf[r] = b;
    const rankOf = new Int32Array(n);
    for (let r = 0; r < n; r++) rankOf[s.vpnOfRank(r)] = r;
    const draws = 3_000_000;
    const counts = new Float64Array(edges.length - 1);
    drain(s, draws, (e) => counts[binOf[rankOf[e >>> 1]]]++);
    const expected = new Float64Array(edges.length - 1);
    for (let r = 0; r < n; r++) expected[binOf[r]] += p[r] * draws;
    assert.ok(chiSquareZ(counts, expected) < 5);
  });

  it('also exact with the coarser buckets used above 2^23 pages', () => {
    const n = 2 ** 23 + 1;
    const theta = 1.1;
    const s = zipf({ pages: n, theta, scatter: false }, 'big');
    assert.ok(s.bucketCount <= 4096);
    const p = pmf(n, theta);
    const edges = [0, 1, 3, 255, 256, 257, 300, 1000, 2 ** 12, 2 ** 12 + 16, 2 ** 16, 2 ** 20, n];
    const draws = 2_000_000;
    const counts = new Float64Array(edges.length - 1);
    drain(s, draws, (e) => {
      const r = e >>> 1; // rank order: vpn = rank
      let b = 0;
      while (r >= edges[b + 1]) b++;
      counts[b]++;
    });
    const expected = new Float64Array(edges.length - 1);
    for (let b = 0; b + 1 < edges.length; b++)
      for (let r = edges[b]; r < edges[b + 1]; r++) expected[b] += p[r] * draws;
    assert.ok(chiSquareZ(counts, expected) < 5);
  });

  it('handles tiny footprints: N = 1 always page 0, N = 2 with the right split', () => {
    drain(zipf({ pages: 1 }), 1000, (e) => assert.equal(e >>> 1, 0));
    const s = zipf({ pages: 2, theta: 1, scatter: false });
    let zeros = 0;
    drain(s, 300_000, (e) => (zeros += e >>> 1 === 0 ? 1 : 0));
    // p(rank 1) = 1 / (1 + 1/2) = 2/3
    assert.ok(Math.abs(zeros / 300_000 - 2 / 3) < 0.005);
  });
});

describe('zipfian: the inlined loop', () => {
  const cases: [string, Partial<ZipfianOptions> & { pages: number }][] = [
    ['4 Mi pages, θ = 0.99', { pages: 4 * 2 ** 20 }],
    ['not a power of two, writes', { pages: 3 * 2 ** 18 + 7, writeRatio: 0.3 }],
    ['θ = 5 (many exact acceptance tests)', { pages: 50_000, theta: 5, writeRatio: 0.5 }],
    ['θ = 0.2, rank order', { pages: 9999, theta: 0.2, scatter: false, writeRatio: 1 }],
    ['3 pages', { pages: 3, theta: 2 }],
  ];
  for (const [name, o] of cases) {
    it(`draws exactly what the plain reference draws: ${name}`, () => {
      const fast = zipf(o, name);
      const ref = zipf(o, name);
      const count = 200_000;
      let i = 0;
      drain(fast, count, (e) => {
        const x = ref.nextReference();
        if (e !== ((x.vpn << 1) | (x.write ? 1 : 0)))
          assert.fail(`access ${i}: ${e} vs ${JSON.stringify(x)}`);
        i++;
      });
    });
  }

  it('handles a coin that lands exactly on a column threshold (1 in 2^20) like the reference', () => {
    // xoshiro128**'s first output depends on s1 alone: r = rotl(s1·5, 7)·9, so a state can be made
    // whose first draw is any chosen r1 — here the exact threshold of a column.
    const stateFor = (r1: number, salt: number): number[] => {
      const x = Math.imul(r1, 0x38e38e39); // 9^-1 mod 2^32
      const s1 = Math.imul((x >>> 7) | (x << 25), 0xcccccccd); // rotr 7, then 5^-1
      return [salt | 1, s1, Math.imul(salt, 0x9e3779b9) | 1, 0x1234567];
    };
    type Internals = { rng: Rng; table: Int32Array };
    let tested = 0;
    for (let c = 0; c < 4096 && tested < 40; c += 37) {
      const a = zipf({ pages: 300_000, writeRatio: 0.5 });
      const th = (a as unknown as Internals).table[8 * c];
      if (th <= 0 || th >= 2 ** 20) continue;
      const b = zipf({ pages: 300_000, writeRatio: 0.5 });
      const st = stateFor((c << 20) | th, c);
      (a as unknown as Internals).rng.state.set(st);
      (b as unknown as Internals).rng.state.set(st);
      const buf = new Int32Array(3);
      a.fill(buf, 3);
      const ref = [0, 1, 2].map(() => b.nextReference()).map((x) => (x.vpn << 1) | (x.write ? 1 : 0));
      assert.deepEqual([...buf], ref, `column ${c}`);
      tested++;
    }
    assert.ok(tested >= 20);
  });

  it('does not depend on how the caller chunks the stream', () => {
    const a = zipf({ pages: 100_000, theta: 3, writeRatio: 0.4 }, 'chunks');
    const b = zipf({ pages: 100_000, theta: 3, writeRatio: 0.4 }, 'chunks');
    const whole = new Int32Array(50_000);
    assert.equal(a.fill(whole, whole.length), whole.length);
    const parts: number[] = [];
    const buf = new Int32Array(977);
    const r = new Rng(0);
    while (parts.length < whole.length) {
      const got = b.fill(buf, 1 + r.nextInt(Math.min(977, whole.length - parts.length)));
      parts.push(...buf.subarray(0, got));
    }
    assert.deepEqual(parts, [...whole]);
  });
});

describe('zipfian: pages', () => {
  it('rank → vpn is a bijection of [0, N), with and without scatter', () => {
    for (const n of [1, 2, 3, 7, 1000, 4096, 100_003, 2 ** 20]) {
      for (const scatter of [true, false]) {
        const s = zipf({ pages: n, scatter }, n);
        const seen = new Uint8Array(n);
        for (let r = 0; r < n; r++) {
          const v = s.vpnOfRank(r);
          assert.ok(v >= 0 && v < n && seen[v] === 0, `N=${n} rank ${r} → ${v}`);
          seen[v] = 1;
          if (!scatter) assert.equal(v, r);
        }
      }
    }
  });

  it('scatter spreads the hottest pages over the footprint; rank order keeps them at the start', () => {
    const n = 2 ** 20;
    const s = zipf({ pages: n }, 'spread');
    const regions = new Set<number>();
    for (let r = 0; r < 512; r++) regions.add(Math.floor(s.vpnOfRank(r) / (n / 16)));
    assert.equal(regions.size, 16);
    const counts = new Float64Array(n);
    drain(zipf({ pages: n, scatter: false }), 100_000, (e) => counts[e >>> 1]++);
    assert.ok(counts[0] > counts[1] && counts[1] > counts[2] && counts[2] > counts[100]);
  });

  it('every vpn is in [0, N) and different seeds give different streams', () => {
    const n = 777_777;
    const a: number[] = [];
    drain(zipf({ pages: n }, 'a'), 50_000, (e) => {
      assert.ok(e >= 0 && e >>> 1 < n);
      a.push(e);
    });
    const b: number[] = [];
    drain(zipf({ pages: n }, 'a'), 50_000, (e) => b.push(e));
    const c: number[] = [];
    drain(zipf({ pages: n }, 'c'), 50_000, (e) => c.push(e));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('zipfian: writes', () => {
  it('marks write_ratio of the accesses as writes, never for 0, always for 1', () => {
    for (const ratio of [0, 0.05, 0.3, 0.9, 1]) {
      let w = 0;
      const count = 400_000;
      drain(zipf({ pages: 5000, writeRatio: ratio }, String(ratio)), count, (e) => (w += e & 1));
      if (ratio === 0 || ratio === 1) assert.equal(w, ratio * count);
      else
        assert.ok(
          Math.abs(w / count - ratio) < 5 * Math.sqrt((ratio * (1 - ratio)) / count),
          `${ratio}: ${w / count}`,
        );
    }
  });

  it('the pages touched do not depend on the write ratio', () => {
    const pagesOf = (ratio: number): number[] => {
      const out: number[] = [];
      drain(zipf({ pages: 65_537, writeRatio: ratio }, 'same'), 20_000, (e) => out.push(e >>> 1));
      return out;
    };
    assert.deepEqual(pagesOf(0), pagesOf(0.7));
    assert.deepEqual(pagesOf(1), pagesOf(0.7));
  });
});

describe('zipfian: refusals', () => {
  it('refuses θ outside (0, 10] and bad fill arguments', () => {
    for (const theta of [0, -1, 10.5, Number.NaN])
      assert.throws(() => zipf({ pages: 10, theta }), RangeError);
    const s = zipf({ pages: 10 });
    assert.throws(() => s.fill(new Int32Array(4), 0), RangeError);
    assert.throws(() => s.fill(new Int32Array(4), 5), RangeError);
  });
});
