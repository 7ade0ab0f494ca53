import type { Rng } from '../util/rng.js';
import { checkFillArgs, checkLeafOptions, warmUp, type AccessStream, type LeafOptions } from './types.js';
import { writeBit, writeThreshold } from './write-mix.js';
import { z } from 'zod';
import { num } from './fields.js';
import type { PatternModule } from './pattern.js';

export interface NormalOptions extends LeafOptions {
  /** Standard deviation as a fraction of the footprint, > 0. */
  sigmaFraction: number;
}

/**
 * pmbench's `normal` ("Gauss") address distribution: pages drawn from a normal distribution
 * centred on the middle of the footprint with standard deviation σ = sigmaFraction · pages
 * (pmbench's man page, doc/pmbench.1: mean setsize/2, σ set by its shape parameter). A draw that
 * falls outside [0, pages) is drawn again, so the distribution is the normal truncated to the
 * footprint. Box–Muller from two 53-bit uniforms gives two normals per pair of draws; the second
 * is kept for the next access. A further draw decides read or write (see write-mix.ts).
 */
export class NormalStream implements AccessStream {
  readonly phase = 'normal';
  readonly footprintPages: number;
  readonly computeNsPerAccess: number;
  private readonly rng: Rng;
  private readonly writeThr: number;
  private readonly mean: number;
  private readonly sigma: number;
  /** The second normal of the last Box–Muller pair, or NaN when there is none. */
  private spare = Number.NaN;

  constructor(opts: NormalOptions, rng: Rng) {
    checkLeafOptions(opts);
    if (!(opts.sigmaFraction > 0 && Number.isFinite(opts.sigmaFraction)))
      throw new RangeError(`sigmaFraction must be a finite number > 0, got ${opts.sigmaFraction}`);
    this.footprintPages = opts.pages;
    this.computeNsPerAccess = opts.computeNs;
    this.rng = rng.fork('normal');
    this.writeThr = writeThreshold(opts.writeRatio);
    this.mean = opts.pages / 2;
    this.sigma = opts.sigmaFraction * opts.pages;
    warmUp(() => this.fill(new Int32Array(1), 1));
  }

  /** Holds nothing to release. */
  close(): void {}

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    const n = this.footprintPages;
    for (let i = 0; i < maxCount; i++) {
      let v: number;
      do v = Math.floor(this.mean + this.sigma * this.nextGaussian());
      while (v < 0 || v >= n);
      buf[i] = (v << 1) | writeBit(this.rng.nextU32(), this.writeThr);
    }
    return maxCount;
  }

  private nextGaussian(): number {
    const s = this.spare;
    if (s === s) {
      this.spare = Number.NaN;
      return s;
    }
    // 1 − u is in (0, 1]: the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.rng.nextFloat()));
    const a = 2 * Math.PI * this.rng.nextFloat();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

const normalParams = z.strictObject({
  sigma: num((v) => v > 0 && v <= 10, 'a number > 0 and ≤ 10')
    .optional()
    .describe(
      'normal: standard deviation as a fraction of the footprint, centred on its middle (default 0.125)',
    ),
});

export const normal = {
  id: 'normal',
  summary: 'Gaussian addresses centred on the middle of the footprint (pmbench)',
  params: normalParams,
  defaults: { sigma: 0.125 },
  create: (p, ctx) => new NormalStream({ ...ctx, sigmaFraction: p.sigma ?? 0.125 }, ctx.rng),
} satisfies PatternModule<z.infer<typeof normalParams>>;
