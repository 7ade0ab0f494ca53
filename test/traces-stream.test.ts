import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { importLackeyFile } from '../src/traces/lackey.js';
import { createTraceStream, TraceStream } from '../src/traces/stream.js';
import { createTraceWorkload, traceWorkloadSchema } from '../src/traces/workload.js';
import { TraceWriter } from '../src/traces/writer.js';
import { InputError } from '../src/util/errors.js';
import type { AccessStream } from '../src/workloads/types.js';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

const dir = scratchDir('stream');
const small = path.join(dir, 'small.ntrace');
before(async () => {
  await importLackeyFile(path.join(fixtures, 'small.lackey'), small);
});

function drain(s: AccessStream, max = 1_000_000, chunk = 4096): number[] {
  const buf = new Int32Array(chunk);
  const out: number[] = [];
  while (out.length < max) {
    const n = s.fill(buf, Math.min(chunk, max - out.length));
    if (n === 0) break;
    for (let i = 0; i < n; i++) out.push(buf[i]);
  }
  return out;
}

// The fixture's pages in order of first touch: 0x200 -> vpn 0, 0x201 -> 1, 0x1ffefff -> 2,
// 0x202 -> 3, 0x203 -> 4 (see test/traces-lackey.test.ts for its records). Encoded vpn << 1 | write:
const FIRST_TOUCH = [0, 1, 0, 1, 2, 2, 2, 5, 0, 6, 8];

describe('trace as an AccessStream', () => {
  it('maps pages densely in order of first touch; the footprint is the distinct pages', () => {
    const s = createTraceStream({ path: 'small.ntrace', loop: false, computeNs: 20 }, dir);
    assert.equal(s.footprintPages, 5);
    assert.equal(s.distinctPages, 5);
    assert.equal(s.recordsPerPass, 11);
    assert.equal(s.computeNsPerAccess, 20);
    assert.equal(s.phase, 'trace');
    assert.deepEqual(drain(s), FIRST_TOUCH);
    assert.equal(s.fill(new Int32Array(4), 4), 0, 'stays ended');
    s.close();
  });

  it('a smaller footprint folds page ids modulo the footprint; a larger one leaves pages untouched', () => {
    const folded = createTraceStream({ path: small, loop: false, computeNs: 0, footprintPages: 2 }, '/');
    // ids 0 1 0 1 1 1 1 2 0 3 4 -> mod 2: 0 1 0 1 1 1 1 0 0 1 0, writes as before.
    assert.deepEqual(drain(folded), [0, 1, 0, 1, 2, 2, 2, 1, 0, 2, 0]);
    assert.equal(folded.footprintPages, 2);
    const wide = createTraceStream({ path: small, loop: false, computeNs: 0, footprintPages: 1000 }, '/');
    assert.equal(wide.footprintPages, 1000);
    assert.deepEqual(drain(wide), FIRST_TOUCH);
  });

  it('loops when asked, and honours maxCount', () => {
    const s = createTraceStream({ path: small, loop: true, computeNs: 0 }, '/');
    const got = drain(s, 40, 3);
    assert.deepEqual(got, [...FIRST_TOUCH, ...FIRST_TOUCH, ...FIRST_TOUCH, ...FIRST_TOUCH].slice(0, 40));
    assert.equal(s.passes, 3);
    assert.ok(s.fill(new Int32Array(8), 1) === 1);
  });

  it('property: replay equals the first-touch renumbering of the written pages, across many blocks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ page: fc.nat({ max: 300 }), line: fc.nat({ max: 63 }), write: fc.boolean() }), {
          minLength: 1,
          maxLength: 500,
        }),
        fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
        (recs, footprint) => {
          const file = path.join(dir, 'prop.ntrace');
          const w = TraceWriter.create(file, { source: 'p', blockPayload: 16 });
          for (const r of recs) w.append(r.page * 997 * 64 + r.line, r.write);
          w.close();
          const ids = new Map<number, number>();
          const expected = recs.map((r) => {
            if (!ids.has(r.page)) ids.set(r.page, ids.size);
            const id = ids.get(r.page) ?? -1;
            return ((footprint === undefined ? id : id % footprint) << 1) | (r.write ? 1 : 0);
          });
          const s = new TraceStream(file, {
            loop: false,
            computeNs: 0,
            ...(footprint !== undefined ? { footprintPages: footprint } : {}),
          });
          assert.equal(s.footprintPages, footprint ?? ids.size);
          assert.deepEqual(drain(s, 10_000, 7), expected);
          s.close();
        },
      ),
      { seed: 99, numRuns: 100 },
    );
  });

  it('refuses an empty trace and a damaged one', () => {
    const empty = path.join(dir, 'empty.ntrace');
    TraceWriter.create(empty, { source: '' }).close();
    assert.throws(
      () => createTraceStream({ path: empty, loop: true, computeNs: 0 }, '/'),
      /the trace has no records/,
    );
    const bad = path.join(dir, 'bad.ntrace');
    const bytes = fs.readFileSync(small);
    fs.writeFileSync(bad, bytes.subarray(0, bytes.length - 3));
    assert.throws(
      () => createTraceStream({ path: bad, loop: true, computeNs: 0 }, '/'),
      (e: unknown) =>
        e instanceof InputError && /bad\.ntrace: byte \d+: truncated end marker/.test(e.message),
    );
  });
});

describe('trace workload spec', () => {
  it('builds a stream from the scenario form, resolving the path against the scenario directory', () => {
    const s = createTraceWorkload(
      { pattern: 'trace', trace: 'small.ntrace', loop: true, compute_ns: 20 },
      dir,
    );
    assert.equal(s.footprintPages, 5);
    assert.equal(s.computeNsPerAccess, 20);
    assert.deepEqual(drain(s, 22), [...FIRST_TOUCH, ...FIRST_TOUCH]);
  });

  it('footprint folds, accesses limits', () => {
    const s = createTraceWorkload(
      { pattern: 'trace', trace: small, footprint: '8KiB', accesses: 5, loop: true },
      '/',
    );
    assert.equal(s.footprintPages, 2);
    assert.deepEqual(drain(s), [0, 1, 0, 1, 2]);
  });

  it('refuses bad fields with the field path', () => {
    const refuse = (spec: unknown, re: RegExp): void =>
      assert.throws(
        () => createTraceWorkload(spec, dir),
        (e: unknown) => e instanceof InputError && re.test(e.message),
      );
    refuse(
      { pattern: 'trace', trace: 'small.ntrace', write_ratio: 0.5 },
      /workload: unknown key "write_ratio"/,
    );
    refuse({ pattern: 'trace' }, /workload\.trace: required/);
    refuse(
      { pattern: 'trace', trace: 'small.ntrace', compute_ns: -1 },
      /workload\.compute_ns: expected a number ≥ 0, got -1/,
    );
    refuse({ pattern: 'trace', trace: 'small.ntrace', footprint: '12' }, /workload\.footprint: .*unit/);
    refuse(
      { pattern: 'trace', trace: 'small.ntrace', accesses: 0 },
      /workload\.accesses: expected an integer ≥ 1/,
    );
    refuse(
      { pattern: 'trace', trace: 'missing.ntrace' },
      /workload\.trace: .*missing\.ntrace: cannot open trace: ENOENT/,
    );
    assert.equal(traceWorkloadSchema.safeParse({ pattern: 'zipfian', trace: 'x' }).success, false);
  });
});
