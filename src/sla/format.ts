import { KERNEL_WORK } from '../host/kernel-work.js';
import type { SlaCurve, SlaResult, SlaSettings } from './sweep.js';

/** A ratio as the shortest decimal that parses back to the same number (0.125, 0.1, 1). */
export function formatRatio(r: number): string {
  return String(r);
}

/** The settings shown, as `name value` with the name a --set / --vary path would use. */
const SETTINGS: readonly [keyof SlaSettings, string][] = [
  ['ratio_strategy', 'ratio.strategy'],
  ['ratio_promotion', 'ratio.promotion'],
  ['numa_balancing', 'kernel.numa_balancing'],
  ['promotion_filter', 'tiering.promotion_filter'],
  ['demotion_enabled', 'kernel.demotion_enabled'],
  ['demotion_policy', 'tiering.demotion_policy'],
  ['ratio_warmup_ms', 'ratio.warmup_ms'],
  ['seed', 'seed'],
  ['duration_ms', 'duration_ms'],
  ['accesses_per_point', 'accesses per point'],
];

const show = (v: unknown): string => (v === null ? 'none' : String(v));

/** Kernel kinds, short enough for a column header. */
const KIND_HEADS: Record<string, string> = {
  page_faults: 'faults',
  swap_in: 'swap_in',
  file_read: 'file_rd',
  reclaim: 'reclaim',
  memory_high_throttle: 'throttle',
  hint_faults: 'hint',
  hint_migrations: 'hint_migr',
  numa_scan: 'scan',
  tier_control: 'tier_ctl',
  other: 'other',
};

/** The SLA curves as tables for the terminal: common settings first, then one block per curve. */
export function formatSla(r: SlaResult): string {
  const curves = r.curves;
  const same = SETTINGS.filter(([k]) => curves.every((c) => c.settings[k] === curves[0].settings[k]));
  const differing = SETTINGS.filter((s) => !same.includes(s));
  const s0 = curves[0].settings;
  // Only kinds some point paid, so the table stays narrow; the JSON has every kind.
  const kinds = [...KERNEL_WORK, 'other' as const].filter((k) =>
    curves.some((c) => c.points.some((p) => p.time_ms.kernel_by[k] !== 0)),
  );
  const lines = [
    `vm ${r.vm} of ${r.scenario}, ${s0.with_neighbours ? 'with its neighbours' : 'alone on the host'}`,
    ...wrap(
      'settings: ',
      same.map(([k, name]) => `${name} ${show(s0[k])}`),
    ),
    'slowdown: busy time over all-local, uncontended, fault-free DRAM (as in simulate); vs_ratio_1: over the busy',
    `time of the same accesses at fast ratio 1 (what --max-slowdown bounds); measured from the ${s0.measured_from}`,
    'achieved: mean fast share of the VM after ratio.warmup_ms',
    ...wrap(
      'time in ms: busy = memory + kernel + compute; kernel = ',
      kinds.length === 0 ? ['0'] : kinds.map((k) => `${KIND_HEADS[k]} (${k})`),
      ' + ',
    ),
  ];
  for (const [i, c] of curves.entries()) {
    lines.push('');
    if (curves.length > 1) {
      const vary = Object.entries(c.vary).map(([p, v]) => `${p}=${v}`);
      const extra = differing
        .filter(([, name]) => !(name in c.vary))
        .map(([k, name]) => `${name} ${show(c.settings[k])}`);
      lines.push(`curve ${i + 1}/${curves.length}: ${[...vary, ...extra].join(', ')}`);
    }
    lines.push(...table(c, kinds));
    lines.push(
      c.min_fast_ratio === null
        ? `no fast ratio tried keeps vs_ratio_1 within ${r.bound.max}`
        : `smallest fast ratio with vs_ratio_1 ≤ ${r.bound.max}: ${formatRatio(c.min_fast_ratio)}`,
    );
  }
  return lines.join('\n');
}

/** `items` after `lead`, joined by `sep`, in lines of at most about 100 characters. */
function wrap(lead: string, items: readonly string[], sep = ', '): string[] {
  const out: string[] = [];
  let cur = lead;
  for (const [i, it] of items.entries()) {
    const piece = i < items.length - 1 ? it + sep.trimEnd() : it;
    if (cur.length > lead.length && cur.length + piece.length > 100) {
      out.push(cur.trimEnd());
      cur = '  ';
    }
    cur += piece + (i < items.length - 1 ? ' ' : '');
  }
  out.push(cur.trimEnd());
  return out;
}

function table(c: SlaCurve, kinds: readonly string[]): string[] {
  const head = [
    'fast_ratio',
    'vs_ratio_1',
    'slowdown',
    'fast_hit',
    'achieved',
    'busy',
    'memory',
    'kernel',
    'compute',
    ...kinds.map((k) => KIND_HEADS[k]),
  ];
  const ms = (x: number): string => x.toFixed(1);
  const rows = c.points.map((p) => [
    formatRatio(p.fast_ratio) + (p.finished ? '' : '*'),
    p.vs_ratio_1 === null ? 'oom' : p.vs_ratio_1.toFixed(3),
    p.slowdown.toFixed(3),
    p.fast_tier_hit_ratio.toFixed(3),
    p.achieved_fast_ratio === null ? '–' : p.achieved_fast_ratio.toFixed(3),
    ms(p.busy_ms),
    ms(p.time_ms.memory),
    ms(p.time_ms.kernel),
    ms(p.time_ms.compute),
    ...kinds.map((k) => ms(p.time_ms.kernel_by[k as keyof typeof p.time_ms.kernel_by])),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((x, i) => x.padStart(widths[i])).join('  ');
  const out = [line(head), ...rows.map(line)];
  if (c.points.some((p) => !p.finished))
    out.push(`* stopped at the time cap (${c.settings.time_cap_ms} ms) before replaying its accesses`);
  return out;
}
