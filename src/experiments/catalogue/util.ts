import type { ExperimentResult } from '../types.js';

/** Helpers the experiment files share to read results. */
export function vm(r: ExperimentResult, i = 0): ExperimentResult['summary']['vms'][number] {
  return r.summary.vms[i];
}

export function byLabel(results: ExperimentResult[], label: string): ExperimentResult {
  const r = results.find((x) => x.label === label);
  if (!r) throw new Error(`experiment result ${label} missing`);
  return r;
}

/**
 * Simulated accesses per simulated second, summed over VMs: a closed-loop throughput. A VM that
 * finished is timed to its exact finish, not to the end of the run.
 */
export function throughput(r: ExperimentResult): number {
  return r.summary.vms.reduce((sum, v) => {
    const ms = v.finished_ms ?? r.summary.simulated_ms;
    return sum + (ms > 0 ? v.accesses / (ms / 1000) : 0);
  }, 0);
}

export function fmt(x: number, digits = 3): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** Relative change of b against a: b / a − 1. */
export function rel(a: number, b: number): number {
  return a !== 0 ? b / a - 1 : 0;
}

export function pct(x: number, digits = 1): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)} %`;
}

/**
 * A published relative effect reproduced "within 2×": same sign, and |simulated| between
 * |published| / 2 and |published| · 2.
 */
export function within2x(simulated: number, published: number): boolean {
  if (published === 0) return false;
  const r = simulated / published;
  return r >= 0.5 && r <= 2;
}

/** The report conclusion of a published figure: the detail shows simulated vs published. */
export function publishedReport(
  claim: string,
  simulated: number,
  published: number,
  source: string,
  holds = within2x(simulated, published),
  band = 'band ×½..×2',
): { claim: string; holds: boolean; detail: string; kind: 'report' } {
  return {
    claim,
    holds,
    detail: `simulated ${pct(simulated)} vs published ${pct(published)} (${band}; ${source})`,
    kind: 'report',
  };
}

/**
 * Accesses per ms over each VM's measured window (the whole run without a `measure:` rule),
 * summed over the VMs: a closed-loop score such as pmbench's, summed over its processes.
 */
export function measuredRate(r: ExperimentResult): number {
  return r.summary.vms.reduce((sum, v) => {
    const m = v.measured;
    return sum + (m && m.busy_ms > 0 ? m.accesses / m.busy_ms : 0);
  }, 0);
}

/** The mean over VMs of a measured-window figure. */
export function measuredMean(
  r: ExperimentResult,
  f: (m: NonNullable<ExperimentResult['summary']['vms'][number]['measured']>) => number,
): number {
  const ms = r.summary.vms.flatMap((v) => (v.measured ? [f(v.measured)] : []));
  return ms.length > 0 ? ms.reduce((a, b) => a + b, 0) / ms.length : 0;
}

/** Sum over VMs of a per-VM figure. */
export function sumVms(
  r: ExperimentResult,
  f: (v: ExperimentResult['summary']['vms'][number]) => number,
): number {
  return r.summary.vms.reduce((a, v) => a + f(v), 0);
}
