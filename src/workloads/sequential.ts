import type { Rng } from '../util/rng.js';
import { checkFillArgs, checkLeafOptions, warmUp, type AccessStream, type LeafOptions } from './types.js';
import { writeBit, writeThreshold } from './write-mix.js';
import { z } from 'zod';
import { isInt, num } from './fields.js';
import type { PatternModule } from './pattern.js';

export interface SequentialOptions extends LeafOptions {
  /** Distance between consecutive accesses, in pages (≥ 1). */
  stridePages: number;
}

/**
 * A streaming scan that touches every page exactly once per pass of N accesses, then starts over.
 * With stride s the pass is 0, s, 2s, … (< N), then 1, 1+s, 1+2s, …, up to s-1, s-1+s, … — a
 * strided walk over an array of N pages, which covers every page even when s and N share
 * factors. A stride of N or more gives the same order as stride N: 0, 1, 2, … Only the write
 * decisions are random (one draw per access, see write-mix.ts).
 */
export class SequentialStream implements AccessStream {
  readonly phase = 'sequential';
  readonly footprintPages: number;
  readonly computeNsPerAccess: number;
  readonly stridePages: number;
  private readonly rng: Rng;
  private readonly writeThr: number;
  /** Next page, and the first page of the current sub-pass (< min(stride, N)). */
  private pos = 0;
  private lane = 0;

  constructor(opts: SequentialOptions, rng: Rng) {
    checkLeafOptions(opts);
    if (!(Number.isSafeInteger(opts.stridePages) && opts.stridePages >= 1)) {
      throw new RangeError(`stridePages must be an integer >= 1, got ${opts.stridePages}`);
    }
    this.footprintPages = opts.pages;
    this.computeNsPerAccess = opts.computeNs;
    this.stridePages = Math.min(opts.stridePages, opts.pages);
    this.rng = rng.fork('sequential');
    this.writeThr = writeThreshold(opts.writeRatio);
    warmUp(() => this.fillRange(new Int32Array(1), 0));
  }

  /** Holds nothing to release. */
  close(): void {}

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    this.fillRange(buf, maxCount);
    return maxCount;
  }

  private fillRange(buf: Int32Array, count: number): void {
    const st = this.rng.state;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const n = this.footprintPages | 0;
    const stride = this.stridePages | 0;
    const wThr = this.writeThr | 0;
    let pos = this.pos | 0;
    let lane = this.lane | 0;
    for (let i = 0, end = count | 0; i < end; i++) {
      // xoshiro128** step (see src/util/rng.ts): the write decision.
      const m = Math.imul(s1, 5);
      const rw = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      buf[i] = (pos << 1) | (((wThr - (rw >>> 1)) >>> 31) ^ 1);
      pos += stride;
      if (pos >= n) {
        lane++;
        if (lane === stride) lane = 0;
        pos = lane;
      }
    }
    this.pos = pos;
    this.lane = lane;
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }

  /** Whether the next access is a write, with exactly fill()'s draw (reference for tests; does not move the scan). */
  nextWriteReference(): boolean {
    return writeBit(this.rng.nextU32(), this.writeThr) === 1;
  }
}

const sequentialParams = z.strictObject({
  stride_pages: num((v) => isInt(v) && v >= 1, 'an integer ≥ 1')
    .optional()
    .describe('sequential: pages between consecutive accesses (default 1)'),
});

export const sequential = {
  id: 'sequential',
  summary: 'a scan over the footprint with a fixed stride, wrapping around',
  params: sequentialParams,
  defaults: { stride_pages: 1 },
  conformance: {
    skip: { 'seed-changes-pages': 'a scan visits the same pages whatever the seed; only writes are random' },
  },
  create: (p, ctx) => new SequentialStream({ ...ctx, stridePages: p.stride_pages ?? 1 }, ctx.rng),
} satisfies PatternModule<z.infer<typeof sequentialParams>>;
