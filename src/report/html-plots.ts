import { PAGE_SIZE } from '../util/units.js';
import { runTargets, type ReportRun, type SeriesTable } from './html-input.js';

/**
 * What each plot of the HTML report shows, computed here (in Node, where it can be tested) so
 * that the page's script only hands finished arrays to the plotting library.
 */

export type Value = number | null;

export interface LineSeriesSpec {
  label: string;
  color: string;
  values: Value[];
  /** Canvas dash pattern in px; targets are dashed. */
  dash?: number[];
  /** Draw as steps: each value holds over the interval that ends at its sample (rates). */
  stepped?: boolean;
}

export interface LinePlotSpec {
  kind: 'line';
  id: string;
  title: string;
  caption: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  yRange?: [number, number];
  series: LineSeriesSpec[];
}

export interface BarSeriesSpec {
  label: string;
  color: string;
  values: Value[];
}

export interface BarPlotSpec {
  kind: 'bar';
  id: string;
  title: string;
  caption: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  /** Fixed top of the value axis (ratios); otherwise just above the largest bar. */
  yMax?: number;
  series: BarSeriesSpec[];
}

export type PlotSpec = LinePlotSpec | BarPlotSpec;

/** Okabe–Ito colours (distinguishable with colour-vision deficiencies), yellow left out. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#999999',
];
export const color = (i: number): string => PALETTE[i % PALETTE.length];

/** Six significant digits: enough for a plot, and keeps the embedded JSON small. */
export function sig(x: number): Value {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : null;
}

export function column(series: SeriesTable, name: string): number[] | null {
  const c = series.columns.indexOf(name);
  return c < 0 ? null : series.rows.map((r) => r[c]);
}

/**
 * Events per second from a cumulative counter: Δcount / Δtime between consecutive samples.
 * The first sample's rate is taken from time 0, when every counter starts at zero; a counter that
 * goes down (it never should) gives no rate rather than a negative one.
 */
export function ratePerSecond(timeMs: number[], counts: number[]): Value[] {
  return counts.map((c, i) => {
    const t0 = i === 0 ? 0 : timeMs[i - 1];
    const c0 = i === 0 ? 0 : counts[i - 1];
    const dt = timeMs[i] - t0;
    if (!(dt > 0) || c < c0) return null;
    return sig(((c - c0) * 1000) / dt);
  });
}

/** MiB, or GiB when the largest node holds at least 4 GiB, so axis numbers stay short. */
export function sizeUnit(maxPages: number): { name: string; perPage: number } {
  const gib = (maxPages * PAGE_SIZE) / 2 ** 30 >= 4;
  return gib ? { name: 'GiB', perPage: PAGE_SIZE / 2 ** 30 } : { name: 'MiB', perPage: PAGE_SIZE / 2 ** 20 };
}

/** The vmstat counters behind the migration-rate plot, with what moved the pages. */
export const MIGRATION_COUNTERS: { counter: string; label: string }[] = [
  { counter: 'pgpromote_success', label: 'promoted (pgpromote_success)' },
  { counter: 'pgdemote_kswapd', label: 'demoted by kswapd (pgdemote_kswapd)' },
  { counter: 'pgdemote_direct', label: 'demoted in direct reclaim (pgdemote_direct)' },
  { counter: 'pgdemote_proactive', label: 'demoted by proactive reclaim (pgdemote_proactive)' },
  { counter: 'numa_pages_migrated', label: 'NUMA-balancing migrations (numa_pages_migrated)' },
  { counter: 'pswpin', label: 'swapped in (pswpin)' },
  { counter: 'pswpout', label: 'swapped out (pswpout)' },
];

const TIME_LABEL = 'simulated time (ms)';

function occupancyPlot(run: ReportRun, id: string, x: number[]): LinePlotSpec {
  const nodes = run.summary.nodes;
  const unit = sizeUnit(Math.max(0, ...nodes.map((n) => n.capacity_pages)));
  const series: LineSeriesSpec[] = [];
  nodes.forEach((n, i) => {
    const free = column(run.series, `node${n.id}_free_pages`);
    if (free === null) return;
    const kind = n.toptier ? 'fast' : 'slow';
    const name = `node ${n.id} (tier ${n.tier}, ${kind})`;
    series.push({
      label: `${name} used`,
      color: color(i),
      values: free.map((f) => sig((n.capacity_pages - f) * unit.perPage)),
    });
    series.push({
      label: `${name} free`,
      color: color(i),
      dash: [2, 3],
      values: free.map((f) => sig(f * unit.perPage)),
    });
  });
  return {
    kind: 'line',
    id,
    title: 'Node occupancy',
    caption:
      'Used (solid) and free (dotted) memory per NUMA node; used = capacity − free pages, so kernel pages count as used. ' +
      'A fast node whose free line sits at its watermarks while the slow node fills is demoting.',
    xLabel: TIME_LABEL,
    yLabel: unit.name,
    x,
    series,
  };
}

function fastSharePlot(run: ReportRun, id: string, x: number[]): LinePlotSpec {
  const series: LineSeriesSpec[] = [];
  const targets = runTargets(run);
  run.summary.vms.forEach((vm, i) => {
    const share = column(run.series, `vm_${vm.name}_fast_share`);
    if (share === null) return;
    series.push({ label: vm.name, color: color(i), values: share.map(sig) });
    const target = targets[vm.name];
    if (target === undefined) return;
    // The ratio may change during a run: follow the sampled target unless the caller fixed one.
    const sampled = run.targets === undefined ? column(run.series, `vm_${vm.name}_target_fast_ratio`) : null;
    const values = sampled !== null ? sampled.map(sig) : x.map(() => target);
    series.push({ label: `${vm.name} target`, color: color(i), dash: [8, 5], values });
  });
  const hasTargets = Object.keys(targets).length > 0;
  return {
    kind: 'line',
    id,
    title: 'Fast-memory share per VM',
    caption:
      "Share of each VM's resident pages on fast (top-tier) nodes. " +
      (hasTargets
        ? 'Dashed: the share its fast:slow ratio asks for; the gap is what enforcement has not yet corrected.'
        : 'No VM has a fast:slow ratio in this run, so there is no target line.'),
    xLabel: TIME_LABEL,
    yLabel: 'fast share of RSS (0–1)',
    x,
    yRange: [0, 1],
    series,
  };
}

function migrationPlot(run: ReportRun, id: string, x: number[]): LinePlotSpec {
  const all: LineSeriesSpec[] = [];
  const idle: string[] = [];
  MIGRATION_COUNTERS.forEach(({ counter, label }, i) => {
    const counts = column(run.series, counter);
    if (counts === null) return;
    const values = ratePerSecond(x, counts);
    if (values.every((v) => v === null || v === 0)) idle.push(counter);
    else all.push({ label, color: color(i), stepped: true, values });
  });
  // Nothing moved at all: still draw the promotion rate (a flat zero) so the plot is not blank.
  const promoted = column(run.series, MIGRATION_COUNTERS[0].counter);
  if (all.length === 0 && promoted !== null) {
    all.push({
      label: MIGRATION_COUNTERS[0].label,
      color: color(0),
      stepped: true,
      values: ratePerSecond(x, promoted),
    });
  }
  return {
    kind: 'line',
    id,
    title: 'Page movement by mechanism',
    caption:
      'Pages per second between samples (Δ of the cumulative /proc/vmstat counter ÷ Δ time); each step covers the ' +
      'interval ending at its sample. ' +
      (idle.length > 0 ? `Zero throughout, not drawn: ${idle.join(', ')}.` : ''),
    xLabel: TIME_LABEL,
    yLabel: 'pages / s',
    x,
    series: all,
  };
}

function amatPlot(run: ReportRun, id: string, x: number[]): LinePlotSpec {
  const series: LineSeriesSpec[] = [];
  run.summary.vms.forEach((vm, i) => {
    const amat = column(run.series, `vm_${vm.name}_amat_ns`);
    // The time series writes 0 for an interval without accesses: a gap, not a 0 ns access.
    if (amat !== null)
      series.push({ label: vm.name, color: color(i), values: amat.map((v) => (v > 0 ? sig(v) : null)) });
  });
  return {
    kind: 'line',
    id,
    title: 'Average memory access time per VM',
    caption:
      'Mean latency of the accesses each VM made in each sampling interval, contention included. ' +
      'Gaps: intervals in which the VM made no access (finished, waiting or OOM-killed).',
    xLabel: TIME_LABEL,
    yLabel: 'AMAT (ns)',
    x,
    series,
  };
}

function pingpongPlot(run: ReportRun, id: string): BarPlotSpec {
  const vms = run.summary.vms;
  return {
    kind: 'bar',
    id,
    title: 'Promotions, demotions and ping-pong per VM',
    caption:
      'Pages each VM had promoted and demoted over the run, and how many of the demotions came within the ping-pong ' +
      'window of the same page’s promotion (wasted work). Thrashing: ping-pong ≥ 10 % of promotions and ≥ 1000 pages.',
    xLabel: 'VM',
    yLabel: 'pages',
    categories: vms.map((v) => v.name),
    series: [
      { label: 'promoted', color: color(0), values: vms.map((v) => v.promoted_pages) },
      { label: 'demoted', color: color(1), values: vms.map((v) => v.demoted_pages) },
      { label: 'ping-pong', color: color(3), values: vms.map((v) => v.pingpong_pages) },
    ],
  };
}

/** The time-series plots and the ping-pong bars of one run. */
export function runPlots(run: ReportRun, idPrefix: string): PlotSpec[] {
  const plots: PlotSpec[] = [];
  const x = column(run.series, 'time_ms') ?? [];
  if (x.length > 0) {
    plots.push(occupancyPlot(run, `${idPrefix}-occupancy`, x));
    plots.push(fastSharePlot(run, `${idPrefix}-fast-share`, x));
    plots.push(migrationPlot(run, `${idPrefix}-migration`, x));
    plots.push(amatPlot(run, `${idPrefix}-amat`, x));
  }
  plots.push(pingpongPlot(run, `${idPrefix}-pingpong`));
  return plots;
}

/** VM names of all runs, in order of first appearance. */
function allVms(runs: ReportRun[]): string[] {
  const seen = new Set<string>();
  for (const r of runs) for (const v of r.summary.vms) seen.add(v.name);
  return [...seen];
}

function perVmBars(
  runs: ReportRun[],
  pick: (v: ReportRun['summary']['vms'][number]) => number,
): { categories: string[]; series: BarSeriesSpec[] } {
  const categories = allVms(runs);
  const series = runs.map((r, i) => ({
    label: r.label,
    color: color(i),
    values: categories.map((name) => {
      const vm = r.summary.vms.find((v) => v.name === name);
      return vm === undefined ? null : sig(pick(vm));
    }),
  }));
  return { categories, series };
}

/** Bars comparing the runs (policies) per VM: slowdown, fast-tier hit ratio, and ping-pong when several runs. */
export function overviewPlots(runs: ReportRun[]): PlotSpec[] {
  const several = runs.length > 1;
  const side = several ? ' One bar per run, side by side.' : '';
  const plots: PlotSpec[] = [
    {
      kind: 'bar',
      id: 'overview-slowdown',
      title: 'Slowdown per VM',
      caption:
        "Busy time (memory time + kernel work the VM paid for + compute) ÷ the same accesses' time had each hit the VM's " +
        `local node uncontended with no faults or migrations. 1 = no slowdown; lower is better.${side}`,
      xLabel: 'VM',
      yLabel: 'slowdown (×)',
      ...perVmBars(runs, (v) => v.slowdown),
    },
    {
      kind: 'bar',
      id: 'overview-fast-hit',
      title: 'Fast-tier hit ratio per VM',
      caption: `Share of each VM's memory accesses served by fast (top-tier) nodes; higher is better.${side}`,
      xLabel: 'VM',
      yLabel: 'hit ratio (0–1)',
      yMax: 1,
      ...perVmBars(runs, (v) => v.fast_tier_hit_ratio),
    },
  ];
  if (several) {
    plots.push({
      kind: 'bar',
      id: 'overview-pingpong',
      title: 'Ping-pong pages per VM',
      caption: `Pages demoted again within the ping-pong window of their promotion.${side}`,
      xLabel: 'VM',
      yLabel: 'pages',
      ...perVmBars(runs, (v) => v.pingpong_pages),
    });
  }
  return plots;
}

/** Every plot of the report, overview first, then each run's in order. */
export function reportPlots(runs: ReportRun[]): PlotSpec[] {
  return [...overviewPlots(runs), ...runs.flatMap((r, i) => runPlots(r, `run${i}`))];
}
