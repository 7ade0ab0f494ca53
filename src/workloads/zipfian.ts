import type { Rng } from '../util/rng.js';
import { checkFillArgs, checkLeafOptions, warmUp, type AccessStream, type LeafOptions } from './types.js';
import { writeBit, writeThreshold } from './write-mix.js';
import { z } from 'zod';
import { num } from './fields.js';
import type { PatternModule } from './pattern.js';

/** Largest θ accepted: keeps the acceptance test's fixed-point slope within int32 (see below). */
export const MAX_THETA = 10;

/**
 * The alias table always has 2^COL_BITS columns (128 KiB of rows), so the column and the coin
 * are fixed slices of one 32-bit draw and the loop needs no per-table shift or mask.
 */
const COL_BITS = 12;
const COLS = 1 << COL_BITS;
const COIN_BITS = 32 - COL_BITS;
const COIN_MASK = (1 << COIN_BITS) - 1;

export interface ZipfianOptions extends LeafOptions {
  /** Zipf exponent θ > 0: rank k (1-based) has probability ∝ k^-θ. */
  theta: number;
  /** Scatter the ranks over the footprint (true) or keep rank order: rank 1 → vpn 0 (false). */
  scatter: boolean;
}

/**
 * Zipfian accesses over N pages: the page of rank k (k = 1..N) is touched with probability
 * k^-θ / Σ_{j=1..N} j^-θ (Gray et al. 1994, "Quickly generating billion-record synthetic
 * databases"; YCSB's default θ = 0.99).
 *
 * Sampling is exact and O(1) whatever N is (N ≤ 2^30); a draw reads one 128 KiB table:
 *
 * 1. Ranks (0-based r = k - 1) are grouped in buckets [lo, lo + 2^w): single ranks below 2^(s+1),
 *    then 2^s equal power-of-two-wide buckets per range [2^m, 2^(m+1)), the last one split into
 *    smaller powers of two so the buckets tile [0, N) exactly. s = 8, or 7 for N > 2^23, so
 *    that there are at most 4096 buckets; a bucket never spans more than 2^-s of its first rank.
 * 2. A bucket is drawn with probability proportional to its *envelope* 2^w · f(lo), where
 *    f(r) = (r + 1)^-θ is the largest weight inside it, with Walker's alias method built by
 *    Vose's algorithm (Vose 1991, "A linear algorithm for generating random numbers with a given
 *    distribution"): one 32-bit draw gives the column (top 12 bits) and the coin (20 bits).
 * 3. An offset is drawn uniformly in the bucket (top w bits of a second draw) and the rank is
 *    accepted with probability f(r) / f(lo); on rejection everything restarts at step 2. The
 *    result is exactly ∝ f(r): envelope · 2^-w · f(r) / f(lo) = f(r). As (1 + x)^-θ ≥ 1 - θx,
 *    most draws are accepted by a fixed-point test on the other 32 - w bits of the second draw;
 *    for θ ≈ 1 about 1 access in 600 needs Math.pow and more bits (outside the fast loop).
 *
 * Coin ties (1 in 2^20) draw 32 more bits against the threshold's residual, so bucket
 * probabilities are exact to about 2^-52 rather than the 2^-32 of a plain 32-bit threshold.
 *
 * A per-rank alias table (8 bytes × N) would also be exact and O(1), but each draw then reads a
 * random line of a table far larger than the caches: ~34 ns per access for N = 4 Mi on the
 * project's machines, against ~7 ns here, where the table stays in L2.
 *
 * Rank → vpn is a bijection of [0, N) that keeps each bucket contiguous: bucket b occupies the
 * vpns [base_b, base_b + 2^w) and rank lo + off goes to base_b + off. With `scatter` the buckets
 * are placed by a buddy allocator, largest first, each at a uniformly random aligned free
 * position, so the hottest pages — single-rank buckets, placed last — end up spread over the
 * whole footprint as objects are in a real heap, while pages of similar heat (a bucket) stay
 * together as a region; without `scatter`, base_b = lo (rank order). A multiplicative scramble
 * (rank · A + B) mod N would spread pages too, but costs a multiply and, for N not a power of
 * two, a modulo in the loop; this costs one addition for every N.
 *
 * Each access takes a third draw for the write decision, whatever the write ratio, so the pages
 * touched do not depend on it.
 */
export class ZipfianStream implements AccessStream {
  readonly phase = 'zipfian';
  readonly footprintPages: number;
  readonly computeNsPerAccess: number;
  readonly theta: number;
  readonly scatter: boolean;
  /** Buckets (see above); exposed for tests and the docs. */
  readonly bucketCount: number;
  private readonly rng: Rng;
  /** Write threshold, see write-mix.ts. */
  private readonly writeThr: number;
  /**
   * Per alias column c, 8 int32 at 8c: the coin threshold; [w, slope, base] of bucket c; the same
   * for its alias bucket; the alias bucket's index. w is the bucket's log2 width, slope its
   * θ/(lo+1)·2^31 rounded up, base its first vpn. Both candidates share one row, so a draw picks
   * between them without a dependent second lookup.
   */
  private readonly table: Int32Array;
  /** First rank and first vpn of each bucket, in rank order (slow path, vpnOfRank). */
  private readonly bucketLo: Int32Array;
  private readonly bucketBase: Int32Array;
  /** Per column: the bits of its keep probability below the coin's resolution (used on ties). */
  private readonly residual: Int32Array;
  /** The two draws of an access fillFast() handed over to the slow path. */
  private pending1 = 0;
  private pending2 = 0;

  constructor(opts: ZipfianOptions, rng: Rng) {
    checkLeafOptions(opts);
    const { pages: n, theta } = opts;
    if (!(theta > 0 && theta <= MAX_THETA))
      throw new RangeError(`theta must be in (0, ${MAX_THETA}], got ${theta}`);
    this.footprintPages = n;
    this.computeNsPerAccess = opts.computeNs;
    this.theta = theta;
    this.scatter = opts.scatter;
    this.rng = rng.fork('zipfian');
    this.writeThr = writeThreshold(opts.writeRatio);
    const t = buildTables(n, theta, opts.scatter ? rng.fork('scatter') : null);
    this.table = t.table;
    this.bucketLo = t.bucketLo;
    this.bucketBase = t.bucketBase;
    this.residual = t.residual;
    this.bucketCount = t.bucketLo.length;
    warmUp(() => this.fillFast(new Int32Array(1), 0, 0));
  }

  /** The vpn of 0-based rank `rank` (rank 0 is the hottest page); a bijection of [0, N). */
  vpnOfRank(rank: number): number {
    const lo = this.bucketLo;
    let a = 0;
    let b = lo.length - 1;
    while (a < b) {
      const mid = (a + b + 1) >> 1;
      if (lo[mid] <= rank) a = mid;
      else b = mid - 1;
    }
    return this.bucketBase[a] + (rank - lo[a]);
  }

  /** Holds nothing to release. */
  close(): void {}

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    let i = 0;
    for (;;) {
      i = this.fillFast(buf, i, maxCount);
      if (i === maxCount) return maxCount;
      // A rare case (coin tie, or a rank the fast test could not accept): finish this access
      // with Rng calls, which the fast loop must not contain.
      let rank = this.decide(this.pending1, this.pending2);
      while (rank < 0) {
        const r1 = this.rng.nextU32();
        rank = this.decide(r1, this.rng.nextU32());
      }
      buf[i++] = (this.vpnOfRank(rank) << 1) | writeBit(this.rng.nextU32(), this.writeThr);
    }
  }

  /**
   * Fills buf[from..to) while the common path decides every access; returns the index of the
   * first access it could not decide (its two draws left in pending1/pending2), or `to`.
   * One pass does bucket, rank, vpn and write bit: each extra pass over the chunk would cost about
   * 1 ns per access, as V8 re-checks a typed array on every access; and few live values let V8
   * keep them in registers.
   */
  private fillFast(buf: Int32Array, from: number, to: number): number {
    const st = this.rng.state;
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const tab = this.table;
    const wThr = this.writeThr | 0; // `| 0`: int32 for V8, whatever the field's representation
    let i = from | 0;
    const end = to | 0;
    for (; i < end; i++) {
      // Two xoshiro128** steps (see src/util/rng.ts): r1 picks the bucket, r2 the rank in it.
      let m = Math.imul(s1, 5);
      const r1 = Math.imul((m << 7) | (m >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const r2 = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);

      const row = (r1 >>> COIN_BITS) << 3;
      const coin = r1 & COIN_MASK;
      const th = tab[row];
      // Row offset of the chosen bucket's [w, slope, base]: 1 for column c's own bucket
      // (coin < th), 4 for its alias.
      const at = (row + 1 + (((th - coin - 1) >> 31) & 3)) | 0;
      const w = tab[at];
      const off = (r2 >>> 1) >>> (31 - w);
      // Sure accept: (u + 2^-31) ≤ 1 - θ·off/(lo+1), u = the 32 - w bits of r2 left after the
      // offset; both sides in 2^-31 units (the slope rounded up, so the test is conservative).
      if (coin === th || ((((r2 << w) >>> 1) + Math.imul(off, tab[(at + 1) | 0])) | 0) < 0) {
        this.pending1 = r1 >>> 0;
        this.pending2 = r2 >>> 0;
        break;
      }
      // Third step: the write decision.
      m = Math.imul(s1, 5);
      const r3 = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      buf[i] = ((tab[(at + 2) | 0] + off) << 1) | (((wThr - (r3 >>> 1)) >>> 31) ^ 1);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return i;
  }

  /**
   * The next access drawn with exactly the same draws and decisions as fill(), written plainly
   * with Rng.nextU32(). Only tests use it, to check the inlined loop.
   */
  nextReference(): { rank: number; vpn: number; write: boolean } {
    for (;;) {
      const r1 = this.rng.nextU32();
      const rank = this.decide(r1, this.rng.nextU32());
      if (rank >= 0) {
        return { rank, vpn: this.vpnOfRank(rank), write: writeBit(this.rng.nextU32(), this.writeThr) === 1 };
      }
    }
  }

  /**
   * One attempt from draws r1, r2 (uint32): the rank, or -1 if it is rejected. Draws more bits
   * only in the rare cases (coin tie, exact acceptance test).
   */
  private decide(r1: number, r2: number): number {
    const c = Math.floor(r1 / 2 ** COIN_BITS);
    const coin = r1 % 2 ** COIN_BITS;
    const th = this.table[8 * c];
    // On a tie, 32 more bits decide against the residual of the threshold.
    const keep = coin === th ? this.rng.nextU32() < this.residual[c] >>> 0 : coin < th;
    const b = keep ? c : this.table[8 * c + 7];
    const at = 8 * c + (keep ? 1 : 4);
    const w = this.table[at];
    const slope = this.table[at + 1];
    const lo = this.bucketLo[b];
    const off = Math.floor(r2 / 2 ** (32 - w));
    const rank = lo + off;
    const rest31 = Math.floor((r2 % 2 ** (32 - w)) * 2 ** (w - 1)); // bits left after the offset, as 31-bit
    if (rest31 + off * slope < 2 ** 31) return rank;
    // Exact test: u = those 32 - w bits extended with 32 fresh ones; accept iff u < ((lo+1)/(rank+1))^θ.
    const u = ((r2 << w) >>> 0) * 2 ** -32 + this.rng.nextU32() * 2 ** (w - 64);
    return u < Math.pow((lo + 1) / (rank + 1), this.theta) ? rank : -1;
  }
}

interface Tables {
  table: Int32Array;
  bucketLo: Int32Array;
  bucketBase: Int32Array;
  residual: Int32Array;
}

/** Bucket boundaries for N ranks with 2^split buckets per power-of-two range. */
function bucketsFor(n: number, split: number): { los: number[]; ws: number[] } {
  const los: number[] = [];
  const ws: number[] = [];
  for (let a = 0; a < n;) {
    let w = a < 2 ** split ? 0 : 31 - Math.clz32(a) - split;
    while (a + 2 ** w > n) w--;
    los.push(a);
    ws.push(w);
    a += 2 ** w;
  }
  return { los, ws };
}

/**
 * First vpn of each bucket (widths 2^ws[b], summing to N): buddy allocation, largest buckets
 * first, each at a uniformly random aligned position of the free space (a free block drawn with
 * probability ∝ its size, split into random halves). It always succeeds: free blocks smaller
 * than the current bucket can only be pieces of N's binary decomposition, which sum to less than
 * one bucket, so a large enough one exists. The hottest (single-rank) buckets come last and fill
 * holes left all over the footprint.
 */
function placeBuckets(n: number, ws: readonly number[], rng: Rng): Int32Array {
  const free: number[][] = Array.from({ length: 31 }, () => []);
  for (let k = 30, start = 0; k >= 0; k--) {
    if (n & (2 ** k)) {
      free[k].push(start);
      start += 2 ** k;
    }
  }
  const order = ws.map((_, b) => b).sort((a, b) => ws[b] - ws[a] || a - b);
  const base = new Int32Array(ws.length);
  for (const b of order) {
    const w = ws[b];
    let total = 0;
    for (let k = w; k <= 30; k++) total += free[k].length * 2 ** k;
    let x = rng.nextInt(total);
    let k = w;
    while (x >= free[k].length * 2 ** k) x -= free[k].length * 2 ** k++;
    const list = free[k];
    const j = Math.floor(x / 2 ** k);
    let start = list[j];
    list[j] = list[list.length - 1];
    list.pop();
    while (k > w) {
      k--;
      // Keep one half at random, free the other.
      if (rng.nextU32() & 1) {
        free[k].push(start);
        start += 2 ** k;
      } else {
        free[k].push(start + 2 ** k);
      }
    }
    base[b] = start;
  }
  return base;
}

/** Buckets, their envelopes, their placement and the alias table over them (see ZipfianStream). */
function buildTables(n: number, theta: number, scatter: Rng | null): Tables {
  let { los, ws } = bucketsFor(n, 8);
  if (los.length > COLS) ({ los, ws } = bucketsFor(n, 7)); // N > 2^23: at most 256 + 22·128 buckets
  const bucketCount = los.length;
  const bucketLo = Int32Array.from(los);
  const bucketBase = scatter === null ? Int32Array.from(los) : placeBuckets(n, ws, scatter);

  // Per bucket: [w, slope, base] as stored in the table rows.
  const data = new Int32Array(3 * COLS);
  const q = new Float64Array(COLS);
  let total = 0;
  for (let b = 0; b < bucketCount; b++) {
    const lo = los[b];
    const w = ws[b];
    q[b] = 2 ** w * Math.pow(lo + 1, -theta);
    total += q[b];
    data[3 * b] = w;
    // Rounded up (+2 absorbs the rounding of the division). For w > 0, lo ≥ 2^(w+7), so
    // θ/(lo+1)·2^31 < θ·2^(24-w) and off · slope < θ·2^24 + 2^(w+1) < 2^28: int32, as is the
    // sure-accept sum.
    data[3 * b + 1] = w === 0 ? 0 : Math.floor((theta / (lo + 1)) * 2 ** 31) + 2;
    data[3 * b + 2] = bucketBase[b];
  }
  for (let b = 0; b < bucketCount; b++) q[b] = (q[b] / total) * COLS;

  // Vose's alias construction. One array holds the small list (growing up from 0) and the large
  // list (growing down from the end). Padding columns (weight 0) are pushed last so they are
  // paired first, while large mass is certainly left.
  const keepP = new Float64Array(COLS);
  const alias = new Int32Array(COLS);
  const work = new Int32Array(COLS);
  let ns = 0;
  let nl = COLS;
  for (let b = 0; b < bucketCount; b++) {
    if (q[b] < 1) work[ns++] = b;
    else work[--nl] = b;
  }
  for (let b = bucketCount; b < COLS; b++) work[ns++] = b;
  while (ns > 0 && nl < COLS) {
    const s = work[--ns];
    const l = work[nl];
    keepP[s] = q[s];
    alias[s] = l;
    q[l] = q[l] + q[s] - 1;
    if (q[l] < 1) {
      nl++;
      work[ns++] = l;
    }
  }
  // Leftovers hold probability 1 up to rounding.
  while (ns > 0) {
    const s = work[--ns];
    keepP[s] = 1;
    alias[s] = s;
  }
  while (nl < COLS) {
    const s = work[nl++];
    keepP[s] = 1;
    alias[s] = s;
  }

  const table = new Int32Array(8 * COLS);
  const residual = new Int32Array(COLS);
  for (let c = 0; c < COLS; c++) {
    if (c >= bucketCount && (keepP[c] > 0 || alias[c] >= bucketCount)) {
      throw new Error(`zipfian: alias construction left padding column ${c} selectable`);
    }
    const scaled = Math.min(1, keepP[c]) * 2 ** COIN_BITS; // exact: scaling by a power of two
    const th = Math.floor(scaled);
    const a = alias[c];
    table[8 * c] = th;
    table.set(data.subarray(3 * c, 3 * c + 3), 8 * c + 1);
    table.set(data.subarray(3 * a, 3 * a + 3), 8 * c + 4);
    table[8 * c + 7] = a;
    residual[c] = Math.floor((scaled - th) * 2 ** 32) | 0;
  }
  return { table, bucketLo, bucketBase, residual };
}

const zipfianDefaults = { theta: 0.99, scatter: true } as const;
const zipfianParams = z.strictObject({
  theta: num((v) => v > 0 && v <= MAX_THETA, `a number > 0 and ≤ ${MAX_THETA}`)
    .optional()
    .describe('zipfian exponent θ (default 0.99, the YCSB default)'),
  scatter: z.boolean().optional().describe('zipfian: spread hot pages over the footprint (default true)'),
});

export const zipfian = {
  id: 'zipfian',
  summary: 'page rank r drawn with probability ∝ 1/r^θ (YCSB), hot pages scattered',
  params: zipfianParams,
  defaults: zipfianDefaults,
  create: (p, ctx) =>
    new ZipfianStream(
      {
        ...ctx,
        theta: p.theta ?? zipfianDefaults.theta,
        scatter: p.scatter ?? zipfianDefaults.scatter,
      },
      ctx.rng,
    ),
} satisfies PatternModule<z.infer<typeof zipfianParams>>;
