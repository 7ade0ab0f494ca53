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

/** Simulated accesses per simulated second, summed over VMs: a closed-loop throughput. */
export function throughput(r: ExperimentResult): number {
  const total = r.summary.vms.reduce((s, v) => s + v.accesses, 0);
  return total / (r.summary.simulated_ms / 1000);
}

export function fmt(x: number, digits = 3): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}
