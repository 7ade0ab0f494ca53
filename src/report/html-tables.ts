import { PAGE_SIZE } from '../util/units.js';
import { runTargets, type ReportRun } from './html-input.js';
import type { Summary } from './summary.js';

/** The report's tables: static HTML, so the key figures read without JavaScript. */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Digits grouped by commas, fixed decimals; locale-independent so the output is deterministic. */
export function num(x: number, decimals = 0): string {
  if (!Number.isFinite(x)) return String(x);
  const [int, frac] = Math.abs(x).toFixed(decimals).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = x < 0 && Number(x.toFixed(decimals)) !== 0 ? '−' : '';
  return sign + grouped + (frac !== undefined ? `.${frac}` : '');
}

const mib = (pages: number): string => num((pages * PAGE_SIZE) / 2 ** 20, 0);

interface Col<T> {
  head: string;
  title?: string;
  cell: (row: T) => string;
  /** Text columns are left-aligned; numbers right-aligned. */
  text?: boolean;
}

function table<T>(caption: string, cols: Col<T>[], rows: T[]): string {
  const th = cols
    .map(
      (c) =>
        `<th${c.title ? ` title="${escapeHtml(c.title)}"` : ''}${c.text ? ' class="t"' : ''}>${escapeHtml(c.head)}</th>`,
    )
    .join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td${c.text ? ' class="t"' : ''}>${c.cell(r)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

type Vm = Summary['vms'][number];

const opt = (x: number | null | undefined): string => (typeof x === 'number' ? num(x, 3) : '–');

function status(v: Vm): string {
  const s = v.oom_killed ? 'OOM-killed' : v.finished ? 'finished' : 'running at end';
  return v.thrashing ? `${s}, <strong>thrashing</strong>` : s;
}

function vmTable(run: ReportRun): string {
  const targets = runTargets(run);
  const cols: Col<Vm>[] = [
    { head: 'VM', text: true, cell: (v) => escapeHtml(v.name) },
    { head: 'cgroup', text: true, cell: (v) => escapeHtml(v.cgroup) },
    { head: 'CPU node', cell: (v) => num(v.cpu_node) },
    { head: 'accesses', cell: (v) => num(v.accesses) },
    {
      head: 'AMAT ns',
      title: 'mean memory access latency, contention included',
      cell: (v) => num(v.amat_ns, 1),
    },
    { head: 'kernel ns/access', cell: (v) => num(v.kernel_ns_per_access, 2) },
    { head: 'slowdown', title: 'busy time ÷ ideal local uncontended time', cell: (v) => num(v.slowdown, 3) },
    {
      head: 'fast hit',
      title: 'share of accesses served by top-tier nodes',
      cell: (v) => num(v.fast_tier_hit_ratio, 3),
    },
    {
      head: 'fast share',
      title: 'share of resident pages on top-tier nodes at the end',
      cell: (v) => num(v.fast_share, 3),
    },
    {
      head: 'target',
      title: 'fast share asked for by the VM’s fast:slow ratio',
      cell: (v) => (targets[v.name] !== undefined ? num(targets[v.name], 3) : '–'),
    },
    ...(run.summary.vms.some((v) => typeof v.fast_ratio_abs_error_mean === 'number')
      ? [
          {
            head: 'achieved share',
            title: 'mean fast share of the governing group after the warm-up',
            cell: (v: Vm) => opt(v.achieved_fast_ratio),
          },
          {
            head: 'mean |error|',
            title: 'mean |achieved − target| fast share after the warm-up',
            cell: (v: Vm) => opt(v.fast_ratio_abs_error_mean),
          },
        ]
      : []),
    { head: 'RSS MiB', cell: (v) => mib(v.rss_pages) },
    { head: 'promoted', cell: (v) => num(v.promoted_pages) },
    { head: 'demoted', cell: (v) => num(v.demoted_pages) },
    {
      head: 'ping-pong',
      title: 'demoted again within the ping-pong window of promotion',
      cell: (v) => num(v.pingpong_pages),
    },
    { head: 'demotion cycles', cell: (v) => num(v.demotion_cycles) },
    { head: 'promote MiB/s', cell: (v) => num(v.promote_mib_per_s, 2) },
    { head: 'demote MiB/s', cell: (v) => num(v.demote_mib_per_s, 2) },
    { head: 'status', text: true, cell: status },
  ];
  return table('Virtual machines', cols, run.summary.vms);
}

function migrationTable(s: Summary): string {
  const reasons: string[] = [];
  for (const v of s.vms) for (const r of Object.keys(v.migrations)) if (!reasons.includes(r)) reasons.push(r);
  const cols: Col<Vm>[] = [
    { head: 'VM', text: true, cell: (v) => escapeHtml(v.name) },
    ...reasons.map((r) => ({ head: r, cell: (v: Vm) => num(v.migrations[r] ?? 0) })),
  ];
  return table('Pages migrated per VM, by mechanism', cols, s.vms);
}

type Node = Summary['nodes'][number];

function nodeTable(s: Summary): string {
  const cols: Col<Node>[] = [
    { head: 'node', cell: (n) => num(n.id) },
    { head: 'tier', cell: (n) => num(n.tier) },
    { head: 'top tier', text: true, cell: (n) => (n.toptier ? 'yes' : 'no') },
    { head: 'capacity MiB', cell: (n) => mib(n.capacity_pages) },
    { head: 'free MiB', cell: (n) => mib(n.free_pages) },
    {
      head: 'used %',
      cell: (n) =>
        n.capacity_pages > 0 ? num((100 * (n.capacity_pages - n.free_pages)) / n.capacity_pages, 1) : '–',
    },
    { head: 'kswapd ms', cell: (n) => num(n.kswapd_ms, 1) },
    { head: 'kswapd wake-ups', cell: (n) => num(n.kswapd_wakeups) },
  ];
  return table('NUMA nodes at the end of the run', cols, s.nodes);
}

type Cg = Summary['cgroups'][number];

function cgroupTable(s: Summary): string {
  const ev = (c: Cg, k: string): string => num(c.memory_events[k] ?? 0);
  const cols: Col<Cg>[] = [
    { head: 'cgroup', text: true, cell: (c) => escapeHtml(c.path) },
    { head: 'memory.current MiB', cell: (c) => num(c.memory_current / 2 ** 20, 0) },
    {
      head: 'memory.max MiB',
      cell: (c) => (c.memory_max === 'max' ? 'max' : num(c.memory_max / 2 ** 20, 0)),
    },
    { head: 'memory.low MiB', cell: (c) => num(c.memory_low / 2 ** 20, 0) },
    { head: 'memory.min MiB', cell: (c) => num(c.memory_min / 2 ** 20, 0) },
    { head: 'low', cell: (c) => ev(c, 'low') },
    { head: 'high', cell: (c) => ev(c, 'high') },
    { head: 'max', cell: (c) => ev(c, 'max') },
    { head: 'oom', cell: (c) => ev(c, 'oom') },
    { head: 'oom_kill', cell: (c) => ev(c, 'oom_kill') },
  ];
  return table('Cgroups (memory.current, limits and protection, memory.events)', cols, s.cgroups);
}

/** The /proc/vmstat counters a reader of a tiering run looks at first. */
export const KEY_VMSTAT = [
  'pgfault',
  'pgmajfault',
  'allocstall_normal',
  'allocstall_movable',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pswpin',
  'pswpout',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_proactive',
  'pgpromote_candidate',
  'pgpromote_success',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgmigrate_success',
  'pgmigrate_fail',
  'oom_kill',
];

function kernelTable(s: Summary): string {
  const t = s.tiering;
  const rows: [string, string][] = [
    ['demotion', t.demotion_enabled ? `enabled, policy ${escapeHtml(t.demotion_policy)}` : 'disabled'],
    ['numa_balancing', num(t.numa_balancing)],
    ['promotion filter', t.promotion_filter === null ? '–' : escapeHtml(t.promotion_filter)],
    ['not promoted: not hot', num(t.not_hot)],
    ['not promoted: rate limited', num(t.rate_limited)],
    // PROMOTE_FREE_SPACE lets a page through the filter; it is not a refusal.
    ['promotion allowed: fast node had free space', num(t.promote_free_space)],
    ['not promoted: watermark', num(t.failed_watermark)],
    ['not promoted: ratio quota', num(t.refused_by_quota)],
    ['swap used / total MiB', `${mib(s.swap.used_pages)} / ${mib(s.swap.total_pages)}`],
    ...KEY_VMSTAT.filter((k) => k in s.vmstat).map((k): [string, string] => [k, num(s.vmstat[k])]),
  ];
  return table(
    'Kernel: tiering and /proc/vmstat',
    [
      { head: 'item', text: true, cell: (r: [string, string]) => escapeHtml(r[0]) },
      { head: 'value', cell: (r: [string, string]) => r[1] },
    ],
    rows,
  );
}

/** All tables of one run. */
export function runTables(run: ReportRun): string {
  const s = run.summary;
  return [vmTable(run), migrationTable(s), nodeTable(s), cgroupTable(s), kernelTable(s)].join('\n');
}

/** One row per (run, VM): the figures an experiment compares. */
export function comparisonTable(runs: ReportRun[]): string {
  const rows = runs.flatMap((r) => r.summary.vms.map((v) => ({ run: r.label, v })));
  type Row = (typeof rows)[number];
  const cols: Col<Row>[] = [
    { head: 'run', text: true, cell: (r) => escapeHtml(r.run) },
    { head: 'VM', text: true, cell: (r) => escapeHtml(r.v.name) },
    { head: 'slowdown', cell: (r) => num(r.v.slowdown, 3) },
    { head: 'fast hit', cell: (r) => num(r.v.fast_tier_hit_ratio, 3) },
    { head: 'AMAT ns', cell: (r) => num(r.v.amat_ns, 1) },
    { head: 'promoted', cell: (r) => num(r.v.promoted_pages) },
    { head: 'demoted', cell: (r) => num(r.v.demoted_pages) },
    { head: 'ping-pong', cell: (r) => num(r.v.pingpong_pages) },
    { head: 'status', text: true, cell: (r) => status(r.v) },
  ];
  return table('Runs compared, per VM', cols, rows);
}
