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
