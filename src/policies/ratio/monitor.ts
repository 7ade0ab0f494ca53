import type { Host } from '../../host/host.js';
import type { TierRatio } from '../../host/tier-ratio.js';

/**
 * Target vs achieved fast share per VM, sampled with the time series. A VM's target is the ratio
 * of the group that governs it (the nearest ancestor-or-self with memory.tier_ratio set) and
 * its achieved share is that group's fast pages / memory.current — the quantity the quota
 * bounds. Errors are |achieved − target| over the samples after the warm-up, against the target
 * in force at each sample (so a mid-run change counts until it is reached).
 */
export class RatioMonitor {
  readonly samples: Float64Array;
  readonly errSum: Float64Array;
  readonly errMax: Float64Array;
  readonly achievedSum: Float64Array;
  /** Last sampled target (-1: none) and achieved share per VM. */
  readonly lastTarget: Float64Array;
  readonly lastAchieved: Float64Array;

  constructor(
    private readonly host: Host,
    private readonly ratio: TierRatio,
    readonly warmupNs: number,
  ) {
    const n = host.spaces.length;
    this.samples = new Float64Array(n);
    this.errSum = new Float64Array(n);
    this.errMax = new Float64Array(n);
    this.achievedSum = new Float64Array(n);
    this.lastTarget = new Float64Array(n).fill(-1);
    this.lastAchieved = new Float64Array(n);
  }

  /** The VM's target (null: "max") and achieved share now. */
  current(asId: number): { target: number | null; achieved: number } {
    const memcg = this.host.spaces[asId].memcg;
    const g = this.ratio.governing(memcg);
    return { target: g < 0 ? null : this.ratio.ratio(g), achieved: this.ratio.achieved(g < 0 ? memcg : g) };
  }

  sample(now: number): void {
    for (const as of this.host.spaces) {
      const { target, achieved } = this.current(as.id);
      this.lastTarget[as.id] = target ?? -1;
      this.lastAchieved[as.id] = achieved;
      const memcg = this.ratio.governing(as.memcg);
      if (target === null || now < this.warmupNs || this.ratio.current(memcg) <= 0) continue;
      const e = Math.abs(achieved - target);
      this.samples[as.id]++;
      this.errSum[as.id] += e;
      this.achievedSum[as.id] += achieved;
      if (e > this.errMax[as.id]) this.errMax[as.id] = e;
    }
  }
}
