import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { createAccessStream } from '../src/workloads/create.js';
import { LimitStream } from '../src/workloads/limit.js';
import { RAMP_STEPS, RampUpStream } from '../src/workloads/ramp-up.js';
import { UniformStream } from '../src/workloads/uniform.js';

const uniform = (pages: number, seed = 1): UniformStream =>
  new UniformStream({ pages, writeRatio: 0.5, computeNs: 3 }, new Rng(seed));

describe('ramp-up', () => {
  it('never goes beyond the reach, which grows linearly from 1% to the whole footprint', () => {
    const n = 10_000;
    const ramp = 200_000;
    const s = new RampUpStream(uniform(n), ramp);
    assert.equal(s.startPages, 100);
    const buf = new Int32Array(1000);
    let k = 0;
    let lastReach = 0;
    const maxSeen = new Int32Array(RAMP_STEPS + 2);
    while (k < ramp + 50_000) {
      const got = s.fill(buf, 1000);
      assert.ok(got >= 1);
      const reach = s.reachPages;
      assert.ok(reach >= lastReach, 'reach shrank');
      lastReach = reach;
      for (let i = 0; i < got; i++, k++) {
        const v = buf[i] >>> 1;
        const linear = k >= ramp ? n : 100 + ((n - 100) * k) / ramp;
        if (v >= reach || v >= Math.max(s.reachAt(k), 1) || v > linear)
          assert.fail(`access ${k}: vpn ${v}, reach ${reach}`);
        const step = Math.min(RAMP_STEPS + 1, Math.floor(k / Math.ceil(ramp / RAMP_STEPS)));
        maxSeen[step] = Math.max(maxSeen[step], v);
      }
    }
    assert.equal(s.reachPages, n);
    // The reach is really used: near the end of the ramp pages close to it are touched.
    assert.ok(maxSeen[RAMP_STEPS - 1] > 0.95 * n);
    assert.ok(maxSeen[RAMP_STEPS / 2] > 0.45 * n && maxSeen[RAMP_STEPS / 2] < 0.52 * n);
  });

  it('keeps the write bits and, past the ramp, passes the inner stream through unchanged', () => {
    const n = 4096;
    const a = new RampUpStream(uniform(n, 7), 5000);
    const b = uniform(n, 7);
    const bufA = new Int32Array(20_000);
    const bufB = new Int32Array(20_000);
    let done = 0;
    while (done < bufA.length) done += a.fill(bufA.subarray(done), Math.min(4096, bufA.length - done));
    b.fill(bufB, bufB.length);
    for (let i = 0; i < bufA.length; i++) {
      assert.equal(bufA[i] & 1, bufB[i] & 1);
      const reach = a.reachAt(i);
      assert.equal(bufA[i] >>> 1, (bufB[i] >>> 1) % reach);
    }
  });

  it('does not depend on chunk sizes', () => {
    const run = (chunk: number): number[] => {
      const s = new RampUpStream(uniform(3000, 9), 7777);
      const out: number[] = [];
      const buf = new Int32Array(chunk);
      while (out.length < 12_000)
        out.push(...buf.subarray(0, s.fill(buf, Math.min(chunk, 12_000 - out.length))));
      return out;
    };
    assert.deepEqual(run(13), run(4096));
  });

  it('is exact for huge ramps (integer arithmetic past 2^53)', () => {
    const s = new RampUpStream(uniform(2 ** 30), 2 ** 52);
    const k = 2 ** 51 + 12345;
    assert.equal(
      s.reachAt(k),
      Number(
        BigInt(s.startPages) +
          (BigInt(2 ** 30 - s.startPages) * (BigInt(k) - (BigInt(k) % BigInt(2 ** 52 / RAMP_STEPS)))) /
            2n ** 52n,
      ),
    );
  });
});

describe('total accesses', () => {
  it('the stream ends after exactly `accesses`, with ramp-up and phases too', () => {
    const specs = [
      { footprint: '1MiB', pattern: 'uniform' as const, accesses: 10_001 },
      { footprint: '1MiB', pattern: 'zipfian' as const, accesses: 9999, ramp_up_accesses: 5000 },
      {
        footprint: '1MiB',
        pattern: 'phases' as const,
        accesses: 7000,
        repeat: true,
        phases: [{ accesses: 1500, pattern: 'sequential' as const }],
      },
    ];
    for (const spec of specs) {
      const s = createAccessStream(spec, new Rng(1));
      assert.ok(s instanceof LimitStream);
      const buf = new Int32Array(4096);
      let total = 0;
      for (;;) {
        const got = s.fill(buf, 4096);
        if (got === 0) break;
        total += got;
      }
      assert.equal(total, spec.accesses);
      assert.equal(s.fill(buf, 1), 0);
    }
  });
});
