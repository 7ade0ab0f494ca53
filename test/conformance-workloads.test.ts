import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/util/rng.js';
import { createAccessStream } from '../src/workloads/create.js';
import { WORKLOAD_PATTERNS } from '../src/workloads/patterns.js';
import type { PatternModule } from '../src/workloads/pattern.js';
import type { WorkloadSpec } from '../src/workloads/schema.js';

/**
 * The conformance suite every registered workload pattern passes (generated from the
 * registry): its accesses stay within the footprint, the stream is the same for the same seed,
 * another seed changes which pages it touches, and write_ratio 0 / 1 give no / only writes. A
 * module that cannot pass a check names it in `conformance.skip` with the reason.
 */

const FOOTPRINT_PAGES = 1024; // 4 MiB
const ACCESSES = 20_000;

function spec(m: PatternModule, extra: Record<string, unknown> = {}): WorkloadSpec {
  return { footprint: '4MiB', pattern: m.id, ...(m.example ?? {}), ...extra } as WorkloadSpec;
}

function drain(w: WorkloadSpec, seed: number): Int32Array {
  const s = createAccessStream(w, new Rng(seed));
  const out = new Int32Array(ACCESSES);
  const buf = new Int32Array(777);
  let n = 0;
  while (n < ACCESSES) {
    const got = s.fill(buf, Math.min(buf.length, ACCESSES - n));
    if (got === 0) break;
    out.set(buf.subarray(0, got), n);
    n += got;
  }
  s.close();
  assert.equal(n, ACCESSES, `the stream ended after ${n} accesses`);
  return out;
}

function check(m: PatternModule, name: string, body: () => void): void {
  const reason = m.conformance?.skip[name];
  if (reason !== undefined) it(`${name} (skipped: ${reason})`, { skip: reason }, () => undefined);
  else it(name, body);
}

for (const m of WORKLOAD_PATTERNS.modules()) {
  describe(`workload pattern ${m.id}: conformance`, () => {
    check(m, 'accesses-within-footprint', () => {
      const a = drain(spec(m, { write_ratio: 0.5 }), 1);
      assert.equal(createAccessStream(spec(m), new Rng(1)).footprintPages, FOOTPRINT_PAGES);
      for (let i = 0; i < a.length; i++) {
        const vpn = a[i] >>> 1;
        assert.ok(vpn >= 0 && vpn < FOOTPRINT_PAGES, `access ${i} at page ${vpn}`);
      }
    });
    check(m, 'deterministic-per-seed', () => {
      assert.deepStrictEqual(
        drain(spec(m, { write_ratio: 0.3 }), 7),
        drain(spec(m, { write_ratio: 0.3 }), 7),
      );
    });
    check(m, 'seed-changes-pages', () => {
      const pages = (seed: number): Int32Array => drain(spec(m), seed).map((e) => e >>> 1);
      assert.notDeepStrictEqual(pages(1), pages(2));
    });
    check(m, 'write-ratio', () => {
      assert.ok(
        drain(spec(m, { write_ratio: 0 }), 3).every((e) => (e & 1) === 0),
        'a write at ratio 0',
      );
      assert.ok(
        drain(spec(m, { write_ratio: 1 }), 3).every((e) => (e & 1) === 1),
        'a read at ratio 1',
      );
    });
    it('states a summary and describes its parameters', () => {
      assert.ok(m.summary.length > 0);
      assert.equal(typeof m.params.shape, 'object');
    });
  });
}
