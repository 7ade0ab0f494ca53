import type { SlaResult } from './sweep.js';

/** The SLA curve as a table for the terminal. */
export function formatSla(r: SlaResult): string {
  const head = ['fast_ratio', 'slowdown', 'fast_hit', 'vs_ideal', 'achieved'];
  const rows = r.points.map((p) => [
    p.fast_ratio.toFixed(2),
    p.slowdown === null ? 'oom' : p.slowdown.toFixed(3),
    p.fast_tier_hit_ratio.toFixed(3),
    p.slowdown_vs_ideal.toFixed(3),
    p.achieved_fast_ratio === null ? '–' : p.achieved_fast_ratio.toFixed(3),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((x, c) => x.padStart(widths[c])).join('  ');
  const where = r.with_neighbours ? 'with its neighbours' : 'alone';
  return [
    `vm ${r.vm} of ${r.scenario} (${where}, seed ${r.seed}, strategy ${r.strategy}): ${r.accesses} accesses per point`,
    'slowdown: busy time relative to the same accesses at fast ratio 1; vs_ideal: against all-local, uncontended, fault-free DRAM',
    '',
    line(head),
    ...rows.map(line),
    '',
    r.min_fast_ratio === null
      ? `no fast ratio tried keeps the slowdown within ${r.max_slowdown}`
      : `smallest fast ratio with slowdown ≤ ${r.max_slowdown}: ${r.min_fast_ratio}`,
  ].join('\n');
}
