import type { Rng } from '../util/rng.js';
import { checkFillArgs, checkLeafOptions, warmUp, type AccessStream, type LeafOptions } from './types.js';
import { writeBit, writeThreshold } from './write-mix.js';
import { z } from 'zod';
import type { PatternModule } from './pattern.js';

/**
 * Every page of the footprint equally likely. The page is `rng.nextInt(pages)` computed inline:
 * Lemire's multiply-high with rejection, so it is exactly uniform for any page count (a power of
 * two needs one draw and never rejects; otherwise fewer than pages / 2^32 of the draws are
 * redrawn). A second draw decides read or write (see write-mix.ts).
 */
export class UniformStream implements AccessStream {
  readonly phase = 'uniform';
  readonly footprintPages: number;
  readonly computeNsPerAccess: number;
  private readonly rng: Rng;
  private readonly writeThr: number;
  /** log2(pages) when pages is a power of two, else -1. */
  private readonly log2Pages: number;
  /** 2^32 mod pages: draws whose low product is below it are rejected. */
  private readonly reject: number;

  constructor(opts: LeafOptions, rng: Rng) {
    checkLeafOptions(opts);
    this.footprintPages = opts.pages;
    this.computeNsPerAccess = opts.computeNs;
    this.rng = rng.fork('uniform');
    this.writeThr = writeThreshold(opts.writeRatio);
    const n = opts.pages;
    this.log2Pages = (n & (n - 1)) === 0 ? 31 - Math.clz32(n) : -1;
    this.reject = 4294967296 % n;
    warmUp(() =>
      this.log2Pages >= 0 ? this.fillPow2(new Int32Array(1), 0) : this.fillAny(new Int32Array(1), 0, 0),
    );
  }

  /** Holds nothing to release. */
  close(): void {}

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    if (this.log2Pages >= 0) {
      this.fillPow2(buf, maxCount);
      return maxCount;
    }
    for (let i = 0; i < maxCount;) {
      i = this.fillAny(buf, i, maxCount);
      // A draw Lemire's method rejects (rare): finish that access outside the fast loop.
      if (i < maxCount) {
        const v = this.rng.nextInt(this.footprintPages);
        buf[i++] = (v << 1) | writeBit(this.rng.nextU32(), this.writeThr);
      }
    }
    return maxCount;
  }

  private fillPow2(buf: Int32Array, count: number): void {
    const st = this.rng.state;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const sh = (31 - this.log2Pages) | 0;
    const wThr = this.writeThr | 0;
    for (let i = 0, end = count | 0; i < end; i++) {
      // Two xoshiro128** steps (see src/util/rng.ts): the page, then the write decision.
      let m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const rw = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      buf[i] = (((r >>> 1) >>> sh) << 1) | (((wThr - (rw >>> 1)) >>> 31) ^ 1);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }

  /** Fills buf[from..to) for any page count; returns `to`, or the index of a rejected draw. */
  private fillAny(buf: Int32Array, from: number, to: number): number {
    const st = this.rng.state;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const n = this.footprintPages | 0;
    const reject = (this.reject ^ -0x80000000) | 0;
    const wThr = this.writeThr | 0;
    const end = to | 0;
    let i = from | 0;
    for (; i < end; i++) {
      let m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // Lemire: reject when the low word of r · n (unsigned) is below 2^32 mod n.
      if ((Math.imul(r, n) ^ -0x80000000) < reject) break;
      m = Math.imul(s1, 5);
      const rw = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // floor(r · n / 2^32) from the 16-bit halves of r: exact in doubles.
      const low = (((r & 0xffff) * n) / 65536) | 0;
      const v = (((r >>> 16) * n + low) / 65536) | 0;
      buf[i] = (v << 1) | (((wThr - (rw >>> 1)) >>> 31) ^ 1);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return i;
  }

  /** The next access with exactly fill()'s draws, through Rng methods (reference for tests). */
  nextReference(): { vpn: number; write: boolean } {
    const vpn = this.rng.nextInt(this.footprintPages);
    return { vpn, write: writeBit(this.rng.nextU32(), this.writeThr) === 1 };
  }
}

export const uniform = {
  id: 'uniform',
  summary: 'every page of the footprint equally likely',
  params: z.strictObject({}),
  defaults: {},
  create: (_p, ctx) => new UniformStream(ctx, ctx.rng),
} satisfies PatternModule;
