import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../src/util/errors.js';
import { Rng, mulHigh32 } from '../src/util/rng.js';

interface Vectors {
  source: string;
  vectors: { state: [number, number, number, number]; outputs: number[] }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/rng-xoshiro128starstar.json', import.meta.url), 'utf8'),
) as Vectors;

const take = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.nextU32());

/** Wilson–Hilferty: the chi-square statistic as an approximately standard normal z. */
function chiSquareZ(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) x += (observed[i] - expected[i]) ** 2 / expected[i];
  const df = observed.length - 1;
  return (Math.cbrt(x / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
}

describe('Rng: xoshiro128**', () => {
  it('matches the reference implementation from a raw state', () => {
    assert.ok(fixture.source.length > 0);
    for (const v of fixture.vectors) {
      const r = Rng.fromState(...(v.state.map((x) => x | 0) as [number, number, number, number]));
      assert.deepEqual(take(r, v.outputs.length), v.outputs);
    }
  });

  it('refuses the all-zero state, which would stay zero', () => {
    assert.throws(() => Rng.fromState(0, 0, 0, 0), RangeError);
  });

  it('returns unsigned 32-bit integers', () => {
    const r = new Rng(7);
    for (let i = 0; i < 10000; i++) {
      const x = r.nextU32();
      assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
    }
  });
});

describe('Rng: seeding', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    assert.deepEqual(take(new Rng(42), 50), take(new Rng(42), 50));
    assert.deepEqual(take(new Rng('scenario-a'), 50), take(new Rng('scenario-a'), 50));
    assert.notDeepEqual(take(new Rng(42), 50), take(new Rng(43), 50));
    assert.notDeepEqual(take(new Rng(0), 50), take(new Rng(-0 - 1), 50));
    assert.notDeepEqual(take(new Rng('a'), 50), take(new Rng('b'), 50));
  });

  it('treats a number and the equal bigint alike, and a string as a different seed', () => {
    assert.deepEqual(take(new Rng(123456789), 20), take(new Rng(123456789n), 20));
    assert.deepEqual(take(new Rng(-5), 20), take(new Rng(-5n), 20));
    assert.notDeepEqual(take(new Rng(42), 20), take(new Rng('42'), 20));
    assert.notDeepEqual(take(new Rng(5), 20), take(new Rng(-5), 20));
    // Bigints wider than 64 bits are used whole, not truncated.
    assert.notDeepEqual(take(new Rng(2n ** 80n + 1n), 20), take(new Rng(1n), 20));
  });

  it('refuses seeds that are not integers, with an InputError naming the seed', () => {
    for (const bad of [1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(
        () => new Rng(bad),
        (e: unknown) => e instanceof InputError && /^seed: /.test(e.message),
      );
    }
  });

  it('spreads nearby seeds: outputs of seeds 0..63 differ in about half their bits', () => {
    const first = Array.from({ length: 64 }, (_, s) => new Rng(s).nextU32());
    let bits = 0;
    let pairs = 0;
    for (let a = 0; a < 64; a++) {
      for (let b = a + 1; b < 64; b++) {
        let x = (first[a] ^ first[b]) >>> 0;
        while (x) {
          bits += x & 1;
          x >>>= 1;
        }
        pairs++;
      }
    }
    const mean = bits / pairs;
    assert.ok(mean > 15 && mean < 17, `mean differing bits ${mean}`);
  });
});

describe('Rng: fork', () => {
  it('is deterministic and does not depend on what the parent has drawn', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    take(b, 1000);
    assert.deepEqual(take(a.fork('vm:web'), 30), take(b.fork('vm:web'), 30));
    // Forking does not move the parent either.
    const c = new Rng(9);
    c.fork('x');
    assert.deepEqual(take(c, 10), take(new Rng(9), 10));
  });

  it('gives different streams for different labels, seeds and nesting', () => {
    const r = new Rng(1);
    const streams = [
      take(r, 20),
      take(r.fork('a'), 20),
      take(r.fork('b'), 20),
      take(r.fork('ab'), 20),
      take(r.fork('a').fork('b'), 20),
      take(r.fork('b').fork('a'), 20),
      take(new Rng(2).fork('a'), 20),
      take(r.fork(''), 20),
    ];
    const keys = new Set(streams.map((s) => s.join(',')));
    assert.equal(keys.size, streams.length);
  });

  it('adding a label does not shift the others (per-VM streams)', () => {
    const before = new Rng(77);
    const web = take(before.fork('vm:web'), 10);
    const after = new Rng(77);
    take(after.fork('vm:new'), 10);
    assert.deepEqual(take(after.fork('vm:web'), 10), web);
  });

  it('sibling streams look independent: equal bits about half the time', () => {
    const a = new Rng(5).fork('left');
    const b = new Rng(5).fork('right');
    let same = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      let x = ~(a.nextU32() ^ b.nextU32()) >>> 0;
      while (x) {
        same += x & 1;
        x >>>= 1;
      }
    }
    const frac = same / (32 * n);
    assert.ok(Math.abs(frac - 0.5) < 0.005, `fraction of equal bits ${frac}`);
  });
});

describe('Rng: nextInt', () => {
  it('stays in [0, n) for small, odd and huge n', () => {
    const r = new Rng(3);
    for (const n of [1, 2, 3, 7, 10, 1000, 2 ** 31 - 1, 2 ** 31 + 1, 3_000_000_000, 2 ** 32]) {
      for (let i = 0; i < 2000; i++) {
        const x = r.nextInt(n);
        assert.ok(Number.isInteger(x) && x >= 0 && x < n, `${x} for n=${n}`);
      }
    }
    assert.equal(new Rng(1).nextInt(1), 0);
  });

  it('is roughly uniform (chi-square, loose bound) and the check would notice a bias', () => {
    const r = new Rng(11);
    for (const [n, draws] of [
      [10, 100000],
      [1000, 200000],
    ]) {
      const counts = new Float64Array(n);
      for (let i = 0; i < draws; i++) counts[r.nextInt(n)]++;
      const expected = new Float64Array(n).fill(draws / n);
      assert.ok(chiSquareZ(counts, expected) < 5, `n=${n}`);
      if (n === 10) {
        // Moving 10% of one value's draws to another is flagged.
        const biased = Float64Array.from(counts);
        biased[0] += draws / n / 10;
        biased[1] -= draws / n / 10;
        assert.ok(chiSquareZ(biased, expected) > 5);
      }
    }
  });

  it('is exactly Lemire: the high word of r·n, redrawing when the low word is below 2^32 mod n', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (n, seed) => {
          const a = new Rng(seed);
          const b = new Rng(seed);
          const got = a.nextInt(n);
          const reject = 2n ** 32n % BigInt(n);
          for (;;) {
            const p = BigInt(b.nextU32()) * BigInt(n);
            if (p % 2n ** 32n >= reject) return got === Number(p >> 32n);
          }
        },
      ),
    );
  });

  it('mulHigh32 is the exact high word', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        (r, n) => {
          return mulHigh32(r, n) === Number((BigInt(r) * BigInt(n)) >> 32n);
        },
      ),
    );
  });

  it('refuses n outside [1, 2^32] or not an integer', () => {
    const r = new Rng(1);
    for (const n of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) assert.throws(() => r.nextInt(n), RangeError);
  });
});

describe('Rng: nextFloat, shuffle, pick', () => {
  it('nextFloat is in [0, 1) with mean and spread of a uniform', () => {
    const r = new Rng(8);
    let sum = 0;
    let sumSq = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const x = r.nextFloat();
      assert.ok(x >= 0 && x < 1);
      sum += x;
      sumSq += x * x;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.005);
    assert.ok(Math.abs(sumSq / n - sum ** 2 / n ** 2 - 1 / 12) < 0.002);
  });

  it('shuffle permutes in place, deterministically, each order about equally often', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = new Rng(4).shuffle([...a]);
    assert.deepEqual([...out].sort(), a);
    assert.deepEqual(new Rng(4).shuffle([...a]), out);
    const typed = new Rng(4).shuffle(Int32Array.from(a));
    assert.deepEqual([...typed], out);

    const r = new Rng(12);
    const counts = new Map<string, number>();
    const n = 60000;
    for (let i = 0; i < n; i++) {
      const k = r.shuffle(['a', 'b', 'c']).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    assert.ok(chiSquareZ([...counts.values()], new Array(6).fill(n / 6)) < 5);
  });

  it('pick returns an element and refuses an empty list', () => {
    const r = new Rng(2);
    const items = ['x', 'y', 'z'];
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(r.pick(items));
    assert.deepEqual([...seen].sort(), items);
    assert.throws(() => r.pick([]), RangeError);
  });
});
