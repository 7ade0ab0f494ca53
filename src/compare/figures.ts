import { hasMeasuredWindow, type Summary, type VmSummary } from '../report/summary.js';

/**
 * The figures a comparison puts side by side, per VM of a run: over the measured window when the
 * scenario has a `measure:` rule (as simulate's table), else over the whole run.
 */
export interface VmFigures {
  slowdown: number;
  fast_tier_hit_ratio: number;
  amat_ns: number;
  fast_share: number;
  promoted_pages: number;
  demoted_pages: number;
  pingpong_pages: number;
}

export const FIGURE_COLUMNS: readonly { key: keyof VmFigures; header: string; digits: number }[] = [
  { key: 'slowdown', header: 'slowdown', digits: 3 },
  { key: 'fast_tier_hit_ratio', header: 'fast_hit', digits: 3 },
  { key: 'amat_ns', header: 'amat_ns', digits: 1 },
  { key: 'fast_share', header: 'fast_share', digits: 3 },
  { key: 'promoted_pages', header: 'promoted', digits: 0 },
  { key: 'demoted_pages', header: 'demoted', digits: 0 },
  { key: 'pingpong_pages', header: 'ping-pong', digits: 0 },
];

export function vmFigures(s: Summary, v: VmSummary): VmFigures {
  const m = hasMeasuredWindow(s) && v.measured !== null ? v.measured : v;
  return {
    slowdown: m.slowdown,
    fast_tier_hit_ratio: m.fast_tier_hit_ratio,
    amat_ns: m.amat_ns,
    fast_share: v.fast_share,
    promoted_pages: m.promoted_pages,
    demoted_pages: m.demoted_pages,
    pingpong_pages: v.pingpong_pages,
  };
}

/** A figure over seeds: the mean, and the range it came from. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  let sum = 0;
  for (const x of xs) sum += x;
  return { mean: sum / xs.length, min: Math.min(...xs), max: Math.max(...xs) };
}

export function formatSpread(s: Spread, digits: number, several: boolean): string {
  const f = (x: number): string => x.toFixed(digits);
  return several && s.min !== s.max ? `${f(s.mean)} (${f(s.min)}–${f(s.max)})` : f(s.mean);
}
