#!/usr/bin/env node
// Does promotion pay on a recorded program? Replays one trace once (its instruction-based
// compute) on a two-node host, DRAM with CPUs plus a CPU-less PMEM node with the default
// scenario's figures, DRAM sized to shares of the trace's footprint (distinct pages × page
// size), and compares all-DRAM, no promotion, hot threshold and promote-all (and, on request,
// active-LRU). Prints, per DRAM share, runtime, slowdown, fast-tier hit ratio, promotions,
// demotions, hint faults, the time split, and the gap closed = (T_nopromo − T_x) / (T_nopromo −
// T_alldram), for the whole run and for the measured window. Not a test: it prints figures.
//
//   npm run build && node scripts/trace-verdicts.mjs TRACE [--shares 0.25,0.5]
//     [--numa kernel|scaled] [--measure first-pass|warmup_ms=N|warmup_accesses=N|warmup_frac=F|none]
//     [--variants all-dram,no-promotion,hot-threshold,promote-all,active-lru]
//     [--set PATH=VALUE …] [--jobs 2] [--out DIR] [--json]
//
// --numa kernel keeps the kernel's NUMA-balancing defaults (scan delay, period and hot threshold
// 1 s); scaled uses the experiments' time-scaled settings (200 ms, src/experiments/hosts.ts).
// warmup_frac=F opens the measured window after that share of the trace's records (the same
// accesses in every variant); first-pass opens it when every page has been touched, which in a
// trace replayed once can be near its end. --set is passed to every `numatier simulate` run
// (e.g. kernel.costs.hint_fault_ns=750, vms[0].mlp=2). All-DRAM gets 1.25 × the footprint plus
// 64 MiB of DRAM; the slow node always holds the whole footprint plus 64 MiB; swap is off and
// demotion on, watermark_scale_factor 100 as in the experiments' small hosts. Scenarios and
// results go under --out (default: a new temporary directory).
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import process from 'node:process';
import console from 'node:console';

const run = promisify(execFile);
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/src/cli/main.js');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    shares: { type: 'string', default: '0.25,0.5' },
    numa: { type: 'string', default: 'kernel' },
    measure: { type: 'string', default: 'first-pass' },
    variants: { type: 'string', default: 'all-dram,no-promotion,hot-threshold,promote-all' },
    set: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string', default: '2' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (positionals.length !== 1 || !['kernel', 'scaled'].includes(values.numa)) {
  console.error('usage: node scripts/trace-verdicts.mjs TRACE [--shares 0.25,0.5] [--numa kernel|scaled] …');
  process.exit(2);
}
const trace = resolve(positionals[0]);
const shares = values.shares.split(',').map(Number);
const variants = values.variants.split(',');
const out = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), 'trace-verdicts-'));
mkdirSync(out, { recursive: true });

const PAGE_KIB = 4;
const DRAM = { read_latency: 101, write_latency: 101, read_bandwidth: 100000, write_bandwidth: 60000 };
const PMEM = { read_latency: 305, write_latency: 94, read_bandwidth: 39600, write_bandwidth: 13800 };
const SCALED = {
  numa_balancing_scan_delay_ms: 200,
  numa_balancing_scan_period_min_ms: 200,
  numa_balancing_hot_threshold_ms: 200,
  numa_balancing_scan_period_max_ms: 1000,
};
const VARIANTS = {
  'all-dram': { kernel: { numa_balancing: 0 }, tiering: {} },
  'no-promotion': { kernel: { numa_balancing: 0 }, tiering: {} },
  'hot-threshold': { kernel: { numa_balancing: 2 }, tiering: { promotion_filter: 'hot-threshold' } },
  'promote-all': { kernel: { numa_balancing: 2 }, tiering: { promotion_filter: 'always' } },
  'active-lru': { kernel: { numa_balancing: 2 }, tiering: { promotion_filter: 'active-lru' } },
};
for (const v of variants) if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}`);

function measureRule(m, records) {
  if (m === 'none') return undefined;
  if (m === 'first-pass') return { after_first_pass: true };
  const w = /^(warmup_ms|warmup_accesses|warmup_frac)=(\d+(?:\.\d+)?)$/.exec(m);
  if (w && w[1] === 'warmup_frac') return { warmup_accesses: Math.round(Number(w[2]) * records) };
  if (w) return { [w[1]]: Number(w[2]) };
  throw new Error(
    `--measure: expected first-pass, warmup_ms=N, warmup_accesses=N, warmup_frac=F or none, got ${m}`,
  );
}

const { stdout: statsOut } = await run('node', [CLI, 'trace', 'stats', '--json', trace], {
  maxBuffer: 1 << 24,
});
const stats = JSON.parse(statsOut);
const pages = stats.distinct_pages;
const ghz = 2.2;
// Simulated time only bounds the run: a trace replayed once ends the run when it ends.
const estimateMs = ((stats.instructions ?? 0) / ghz + stats.records * 400) / 1e6;

function scenario(name, dramPages) {
  const v = VARIANTS[name];
  const slowPages = pages + 16384;
  const s = {
    name: `verdict-${name}`,
    duration_ms: Math.ceil(Math.max(1000, estimateMs * 20)),
    sample_interval_ms: Math.max(1, Math.round(estimateMs / 200)),
    topology: {
      nodes: [
        { id: 0, cpus: [0, 1, 2, 3], size: `${dramPages * PAGE_KIB}KiB`, class: 'dram', ...DRAM },
        { id: 1, cpus: [], size: `${slowPages * PAGE_KIB}KiB`, class: 'pmem', ...PMEM },
      ],
      distance: [
        [10, 17],
        [17, 10],
      ],
    },
    kernel: {
      watermark_scale_factor: 100,
      demotion_enabled: true,
      swap: 'none',
      ...(values.numa === 'scaled' ? SCALED : {}),
      ...v.kernel,
    },
    tiering: v.tiering,
    vms: [{ name: 'app', workload: { pattern: 'trace', trace, loop: false } }],
  };
  const m = measureRule(values.measure, stats.records);
  if (m) s.measure = m;
  return s;
}

const jobs = [];
for (const name of variants) {
  if (name === 'all-dram') {
    jobs.push({ share: null, name, dramPages: Math.ceil(pages * 1.25) + 16384 });
  } else {
    for (const share of shares) jobs.push({ share, name, dramPages: Math.ceil(pages * share) });
  }
}

async function simulate(job) {
  const tag = `${job.name}${job.share === null ? '' : `-${job.share}`}`;
  const file = join(out, `${tag}.json`);
  writeFileSync(file, JSON.stringify(scenario(job.name, job.dramPages), null, 2));
  const sets = values.set.flatMap((x) => ['--set', x]);
  const dir = join(out, tag);
  await run('node', [CLI, 'simulate', file, '--out', dir, '--force', ...sets], { maxBuffer: 1 << 26 });
  job.summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
}

const queue = [...jobs];
await Promise.all(
  Array.from({ length: Number(values.jobs) }, async () => {
    while (queue.length > 0) await simulate(queue.shift());
  }),
);

function figures(job) {
  const vm = job.summary.vms[0];
  const vmstat = job.summary.vmstat ?? {};
  const m = vm.measured;
  const t = vm.time_ms ?? {};
  const kb = t.kernel_by ?? {};
  return {
    variant: job.name,
    share: job.share,
    dram_mib: (job.dramPages * PAGE_KIB) / 1024,
    runtime_ms: vm.finished_ms ?? vm.busy_ms,
    finished: vm.finished,
    measured_ms: m ? m.busy_ms : null,
    measured_from_ms: m ? m.from_ms : null,
    slowdown: vm.slowdown,
    measured_slowdown: m ? m.slowdown : null,
    fast_hit: vm.fast_tier_hit_ratio,
    measured_fast_hit: m ? m.fast_tier_hit_ratio : null,
    promoted: vm.promoted_pages,
    demoted: vm.demoted_pages,
    hint_faults: vmstat.numa_hint_faults ?? null,
    memory_ms: t.memory,
    kernel_ms: t.kernel,
    compute_ms: t.compute,
    kernel_by: kb,
  };
}

const rows = jobs.map(figures);
const allDram = rows.find((r) => r.variant === 'all-dram');
for (const r of rows) {
  const none = rows.find((x) => x.variant === 'no-promotion' && x.share === r.share);
  const gap = (a, b, c) => (a !== null && b !== null && c !== null && a !== c ? (a - b) / (a - c) : null);
  if (r.share !== null && none && allDram) {
    r.gap_closed = gap(none.runtime_ms, r.runtime_ms, allDram.runtime_ms);
    r.measured_gap_closed = gap(none.measured_ms, r.measured_ms, allDram.measured_ms);
  }
}

if (values.json) {
  console.log(
    JSON.stringify(
      { trace, stats, numa: values.numa, measure: values.measure, set: values.set, rows },
      null,
      2,
    ),
  );
} else {
  const f = (x, d = 3) =>
    x === null || x === undefined ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x);
  console.log(
    `${trace}: ${stats.records} records, ${pages} distinct pages (${((pages * PAGE_KIB) / 1024).toFixed(1)} MiB), ` +
      `${stats.instructions ?? '-'} instructions; NUMA balancing ${values.numa}; measure ${values.measure}` +
      (values.set.length ? `; --set ${values.set.join(' ')}` : ''),
  );
  const head = [
    'variant',
    'share',
    'DRAM MiB',
    'T ms',
    'T_meas ms',
    'slowdown',
    'sd_meas',
    'fast hit',
    'fh_meas',
    'promoted',
    'demoted',
    'hint flt',
    'mem ms',
    'kern ms',
    'comp ms',
    'hf ms',
    'hmig ms',
    'reclaim ms',
    'gap',
    'gap_meas',
  ];
  const table = rows.map((r) => [
    r.variant,
    r.share === null ? '-' : String(r.share),
    f(r.dram_mib, 1),
    f(r.runtime_ms, 1),
    f(r.measured_ms, 1),
    f(r.slowdown),
    f(r.measured_slowdown),
    f(r.fast_hit),
    f(r.measured_fast_hit),
    String(r.promoted),
    String(r.demoted),
    f(r.hint_faults, 0),
    f(r.memory_ms, 1),
    f(r.kernel_ms, 1),
    f(r.compute_ms, 1),
    f(r.kernel_by.hint_faults, 1),
    f(r.kernel_by.hint_migrations, 1),
    f(r.kernel_by.reclaim, 1),
    f(r.gap_closed, 2),
    f(r.measured_gap_closed, 2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) console.log(row.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log(`results in ${out}`);
}
