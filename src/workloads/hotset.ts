import type { Rng } from '../util/rng.js';
import { checkFillArgs, checkLeafOptions, warmUp, type AccessStream, type LeafOptions } from './types.js';
import { writeBit, writeThreshold } from './write-mix.js';
import { z } from 'zod';
import { isInt, num } from './fields.js';
import type { PatternModule } from './pattern.js';

export interface HotsetOptions extends LeafOptions {
  /** Fraction of the pages that are hot, in (0, 1]; the hot set has max(1, round(f · pages)) pages. */
  hotFraction: number;
  /** Fraction of accesses that go to the hot set, in [0, 1]. */
  hotAccessShare: number;
  /** The hot set moves after every this many accesses; 0: it never moves. */
  shiftEveryAccesses: number;
  /** How far it moves each time, in pages (wrapping around the footprint). */
  shiftPages: number;
}

/**
 * GUPS-like hot set that moves. The hot set is the window [start, start + H) of the footprint
 * (wrapping); an access goes to it with probability `hotAccessShare`, uniformly to one of its H
 * pages, and otherwise uniformly to one of the N - H other pages — so the hot set receives exactly
 * the share asked for. start begins at 0 and advances by `shiftPages` every `shiftEveryAccesses`
 * accesses, which a tiering policy has to follow.
 *
 * Page choice within a set is exact (Lemire's multiply-high with rejection, as Rng.nextInt); the
 * hot/cold choice compares 31 random bits with round(share · 2^31), as the read/write choice
 * does (see write-mix.ts), which takes a last draw.
 */
export class HotsetStream implements AccessStream {
  readonly phase = 'hotset';
  readonly footprintPages: number;
  readonly computeNsPerAccess: number;
  readonly hotPages: number;
  readonly shiftEveryAccesses: number;
  readonly shiftPages: number;
  private readonly rng: Rng;
  private readonly writeThr: number;
  /** An access is hot iff (draw >>> 1) ≤ hotThr = round(share · 2^31) - 1 (as for writes). */
  private readonly hotThr: number;
  private readonly sel = new Int32Array(6);
  /** sel offset (0 cold, 3 hot) of an access handed to finishRejected(). */
  private pendingAt = 0;
  private start = 0;
  private untilShift: number;

  constructor(opts: HotsetOptions, rng: Rng) {
    checkLeafOptions(opts);
    const { pages: n, hotFraction, hotAccessShare, shiftEveryAccesses, shiftPages } = opts;
    if (!(hotFraction > 0 && hotFraction <= 1))
      throw new RangeError(`hotFraction must be in (0, 1], got ${hotFraction}`);
    if (!(hotAccessShare >= 0 && hotAccessShare <= 1)) {
      throw new RangeError(`hotAccessShare must be in [0, 1], got ${hotAccessShare}`);
    }
    if (!(Number.isSafeInteger(shiftEveryAccesses) && shiftEveryAccesses >= 0)) {
      throw new RangeError(`shiftEveryAccesses must be an integer >= 0, got ${shiftEveryAccesses}`);
    }
    if (!(Number.isSafeInteger(shiftPages) && shiftPages >= 0)) {
      throw new RangeError(`shiftPages must be an integer >= 0, got ${shiftPages}`);
    }
    this.footprintPages = n;
    this.computeNsPerAccess = opts.computeNs;
    this.hotPages = Math.min(n, Math.max(1, Math.round(hotFraction * n)));
    this.shiftEveryAccesses = shiftEveryAccesses;
    this.shiftPages = shiftPages % n;
    this.untilShift = shiftEveryAccesses === 0 ? Infinity : shiftEveryAccesses;
    this.rng = rng.fork('hotset');
    this.writeThr = writeThreshold(opts.writeRatio);
    // With every page hot there is no cold set: every access is hot.
    this.hotThr = writeThreshold(this.hotPages === n ? 1 : hotAccessShare);
    warmUp(() => this.fillSegment(new Int32Array(1), 0, 0));
  }

  /** First page of the hot set for the next access. */
  get hotStart(): number {
    return this.start;
  }

  /** Holds nothing to release. */
  close(): void {}

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    let done = 0;
    while (done < maxCount) {
      const seg = Math.min(maxCount - done, this.untilShift);
      const end = done + seg;
      let i = done;
      while (i < end) {
        i = this.fillSegment(buf, i, end);
        // A draw Lemire's method rejects (rare): finish that access outside the fast loop.
        if (i < end) buf[i++] = this.finishRejected();
      }
      done = end;
      this.untilShift -= seg;
      if (this.untilShift === 0) this.shift();
    }
    return maxCount;
  }

  private shift(): void {
    this.start = (this.start + this.shiftPages) % this.footprintPages;
    this.untilShift = this.shiftEveryAccesses;
  }

  /**
   * Fills buf[from..to) with the hot set where it is now; returns `to`, or the index of an access
   * whose page draw Lemire's method rejected (its hot/cold choice left in pendingAt).
   */
  private fillSegment(buf: Int32Array, from: number, to: number): number {
    const st = this.rng.state;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    this.setSel();
    const sel = this.sel;
    const n = this.footprintPages | 0;
    const hotThr = this.hotThr | 0;
    const wThr = this.writeThr | 0;
    const end = to | 0;
    let i = from | 0;
    for (; i < end; i++) {
      // Three xoshiro128** steps (see src/util/rng.ts): hot or cold, the page, the write decision.
      let m = Math.imul(s1, 5);
      const r0 = Math.imul((m << 7) | (m >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const at = (((hotThr - (r0 >>> 1)) >> 31) + 1) * 3; // 3: hot, 0: cold
      const range = sel[at];
      // Lemire: reject when the low word of r · range (unsigned) is below 2^32 mod range.
      if ((Math.imul(r, range) ^ -0x80000000) < (sel[at + 1] ^ -0x80000000)) {
        this.pendingAt = at;
        break;
      }
      m = Math.imul(s1, 5);
      const rw = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // floor(r · range / 2^32), exact from 16-bit halves.
      const low = (((r & 0xffff) * range) / 65536) | 0;
      let v = (sel[at + 2] + ((((r >>> 16) * range + low) / 65536) | 0)) | 0;
      v -= n & ((n - 1 - v) >> 31); // wrap: v ≥ n → v - n
      buf[i] = (v << 1) | (((wThr - (rw >>> 1)) >>> 31) ^ 1);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return i;
  }

  /**
   * [range, Lemire rejection bound (2^32 mod range), first page] of the cold set, then of the hot
   * set, picked by the hot/cold draw; kept in a small array to leave registers to the loop.
   */
  private setSel(): void {
    const n = this.footprintPages;
    const hotN = this.hotPages;
    const coldN = n - hotN;
    const sel = this.sel;
    sel[0] = coldN;
    sel[1] = coldN === 0 ? 0 : 4294967296 % coldN;
    sel[2] = (this.start + hotN) % n;
    sel[3] = hotN;
    sel[4] = 4294967296 % hotN;
    sel[5] = this.start;
  }

  /** The access whose page draw was rejected: redraw as Rng.nextInt does, then the write draw. */
  private finishRejected(): number {
    const at = this.pendingAt;
    const v = (this.sel[at + 2] + this.rng.nextInt(this.sel[at])) % this.footprintPages;
    return (v << 1) | writeBit(this.rng.nextU32(), this.writeThr);
  }

  /** The next access with exactly fill()'s draws, written with Rng methods (reference for tests). */
  nextReference(): { vpn: number; write: boolean } {
    const n = this.footprintPages;
    const hot = writeBit(this.rng.nextU32(), this.hotThr) === 1;
    const v = hot
      ? (this.start + this.rng.nextInt(this.hotPages)) % n
      : (this.start + this.hotPages + this.rng.nextInt(n - this.hotPages)) % n;
    const write = writeBit(this.rng.nextU32(), this.writeThr) === 1;
    this.untilShift--;
    if (this.untilShift === 0) this.shift();
    return { vpn: v, write };
  }
}

const hotsetDefaults = { hot_fraction: 0.1, hot_access_share: 0.9, shift_every_accesses: 0 } as const;
const hotsetParams = z.strictObject({
  hot_fraction: num((v) => v > 0 && v <= 1, 'a number > 0 and ≤ 1')
    .optional()
    .describe('hotset: fraction of the footprint that is hot (default 0.1)'),
  hot_access_share: num((v) => v >= 0 && v <= 1, 'a number in [0, 1]')
    .optional()
    .describe('hotset: fraction of accesses that go to the hot set (default 0.9)'),
  shift_every_accesses: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
    .optional()
    .describe('hotset: the hot set moves after every this many accesses; 0 = never (default)'),
  shift_pages: num((v) => isInt(v) && v >= 0, 'an integer ≥ 0')
    .optional()
    .describe('hotset: pages the hot set moves by (default: its own size)'),
});

export const hotset = {
  id: 'hotset',
  summary: 'GUPS-like: a share of the accesses goes to a hot window, which may move',
  params: hotsetParams,
  defaults: hotsetDefaults,
  create(p, ctx) {
    const hotFraction = p.hot_fraction ?? hotsetDefaults.hot_fraction;
    const hotPages = Math.min(ctx.pages, Math.max(1, Math.round(hotFraction * ctx.pages)));
    return new HotsetStream(
      {
        ...ctx,
        hotFraction,
        hotAccessShare: p.hot_access_share ?? hotsetDefaults.hot_access_share,
        shiftEveryAccesses: p.shift_every_accesses ?? hotsetDefaults.shift_every_accesses,
        shiftPages: p.shift_pages ?? hotPages,
      },
      ctx.rng,
    );
  },
} satisfies PatternModule<z.infer<typeof hotsetParams>>;
