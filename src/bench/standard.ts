import { BYTES_PER_FRAME } from '../host/frames.js';
import { VM } from '../host/vmstat.js';
import { diff, takeSnapshot, totalAccesses, vmstatGlobal } from '../metrics/snapshot.js';
import type { BuiltRun } from '../scenario/build.js';
import { benchTopology } from './topology.js';
import { runBareLoop, type BareLoopResult } from './bare-loop.js';
import { withBenchRun } from './with-run.js';
import { MAX_DURATION_MS } from '../scenario/limits.js';

/**
 * The standard benchmark (`numatier bench`): one VM running zipfian θ 0.99 over a 16 GiB
 * footprint on a host with 4 GiB of DRAM (with CPUs) and an 8 GiB CPU-less slow node, 16 GiB
 * of swap, demotion enabled — so kswapd, demotion and swap all run. The clock is read only
 * around the measured window, after a warm-up: one sequential pass that faults the footprint
 * in, then `warmupAccesses` zipfian accesses. The default warm-up, DEFAULT_WARMUP_ACCESSES, is
 * long enough for the steady state: the active lists fill for about the first 100 M zipfian
 * accesses (pages promoted by second chance), and only then does deactivation balance
 * activation and the scan rate settle (about 1.5 pages scanned per 20 accesses, against
 * 2.7 in the first 20 M).
 */
export const DEFAULT_WARMUP_ACCESSES = 120_000_000;
export const DEFAULT_MEASURED_ACCESSES = 100_000_000;
const SLICES = 10;

export interface BenchOptions {
  warmupAccesses: number;
  measureAccesses: number;
  /** Also run NUMA-balancing promotion (numa_balancing = 2) when it is available. */
  tiering: boolean;
  seed: number;
}

export interface BenchResult {
  accesses_per_sec: number;
  /** The measured window's accesses per second of this process's CPU time (user + system). */
  cpu_accesses_per_sec: number;
  measured_cpu_sec: number;
  /** The same page table walked by the bare loop (bare-loop.ts), in the same process. */
  bare_loop: BareLoopResult;
  /** cpu_accesses_per_sec over the bare loop's: the model's speed as a fraction of the floor. */
  ratio_to_bare_loop: number;
  /** The measured window in SLICES equal parts: each part's rate, and their median. */
  median_slice_accesses_per_sec: number;
  slice_accesses_per_sec: number[];
  measured_accesses: number;
  measured_wall_sec: number;
  warmup_accesses: number;
  bytes_per_page: number;
  page_table_bytes_per_virtual_page: number;
  simulated_pages: number;
  virtual_pages: number;
  peak_rss_bytes: number;
  /** Kernel activity in the measured window. */
  pgfault: number;
  pswpin: number;
  pgscan_kswapd: number;
  pgdemote_kswapd: number;
  pgpromote_success: number;
  numa_pte_updates: number;
  numa_hint_faults: number;
  node: string;
}

const FOOTPRINT_PAGES = (16 * 2 ** 30) / 4096;
const ZIPF_THETA = 0.99;
const WRITE_RATIO = 0.25;
/** The bare loop's stream: the bench's steady-state phase alone. */
const BARE_WORKLOAD = {
  footprint: '16GiB',
  pattern: 'zipfian',
  theta: ZIPF_THETA,
  write_ratio: WRITE_RATIO,
  compute_ns: 0,
} as const;

export function benchScenario(o: BenchOptions): unknown {
  return {
    name: 'bench-zipf-16g',
    seed: o.seed,
    // As long as a run may be: the bench ends on its access counts, long before.
    duration_ms: MAX_DURATION_MS,
    sample_interval_ms: 1e6,
    topology: benchTopology('4GiB', '8GiB'),
    kernel: { demotion_enabled: true, numa_balancing: o.tiering ? 2 : 0, swap: '16GiB' },
    vms: [
      {
        name: 'zipf',
        cpu_node: 0,
        // One sequential pass faults the whole footprint in (DRAM, then the slow node, then
        // swap), so the measured window sees the zipfian steady state, not first touches.
        workload: {
          footprint: '16GiB',
          pattern: 'phases',
          phases: [
            { name: 'populate', accesses: FOOTPRINT_PAGES, pattern: 'sequential' },
            { name: 'zipfian', accesses: 2 ** 40, pattern: 'zipfian', theta: ZIPF_THETA },
          ],
          write_ratio: WRITE_RATIO,
          compute_ns: 0,
        },
      },
    ],
  };
}

export function runBench(o: BenchOptions): BenchResult {
  return withBenchRun(benchScenario(o), o.seed, (run) => measure(run, o));
}

function measure(run: BuiltRun, o: BenchOptions): BenchResult {
  const sim = run.sim;
  // Run in simulated-time steps until the access targets are reached.
  const step = 1e6; // 1 ms of simulated time
  let t = 0;
  while (sim.totalAccesses() < FOOTPRINT_PAGES + o.warmupAccesses) sim.runUntil((t += step));
  // The window's counters are the diff of a snapshot at each end, both outside the timed part.
  const before = takeSnapshot(sim, run.numa, run.tierControl);
  const a0 = totalAccesses(before);
  // The window is timed in SLICES parts too: on a machine shared with other work, the median
  // part says more about the code than the whole window does.
  const sliceRates: number[] = [];
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  let ws = w0;
  for (let k = 1; k <= SLICES; k++) {
    const s0 = sim.totalAccesses();
    while (sim.totalAccesses() - a0 < (o.measureAccesses * k) / SLICES) sim.runUntil((t += step));
    const now = process.hrtime.bigint();
    sliceRates.push(Math.round((sim.totalAccesses() - s0) / (Number(now - ws) / 1e9)));
    ws = now;
  }
  const w1 = ws;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const window = diff(before, takeSnapshot(sim, run.numa, run.tierControl));
  const measured = totalAccesses(window);
  // Last: it sets accessed bits the simulation would otherwise see.
  const bare = runBareLoop(run.host, BARE_WORKLOAD, o.seed, measured);
  const cpuRate = Math.round(measured / cpuSecs);
  const secs = Number(w1 - w0) / 1e9;
  const sorted = [...sliceRates].sort((x, y) => x - y);
  const host = run.host;
  const count = (item: number): number => vmstatGlobal(window, item);
  return {
    accesses_per_sec: Math.round(measured / secs),
    cpu_accesses_per_sec: cpuRate,
    measured_cpu_sec: Math.round(cpuSecs * 1000) / 1000,
    bare_loop: bare,
    ratio_to_bare_loop: Math.round((cpuRate / bare.cpu_accesses_per_sec) * 1000) / 1000,
    median_slice_accesses_per_sec: (sorted[(SLICES - 1) >> 1] + sorted[SLICES >> 1]) / 2,
    slice_accesses_per_sec: sliceRates,
    measured_accesses: measured,
    measured_wall_sec: Math.round(secs * 1000) / 1000,
    warmup_accesses: a0,
    bytes_per_page: BYTES_PER_FRAME,
    page_table_bytes_per_virtual_page: host.pt.BYTES_PER_ELEMENT,
    simulated_pages: host.frames.totalFrames,
    virtual_pages: host.pt.length,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    pgfault: count(VM.pgfault),
    pswpin: count(VM.pswpin),
    pgscan_kswapd: count(VM.pgscan_kswapd),
    pgdemote_kswapd: count(VM.pgdemote_kswapd),
    pgpromote_success: count(VM.pgpromote_success),
    numa_pte_updates: count(VM.numa_pte_updates),
    numa_hint_faults: count(VM.numa_hint_faults),
    node: process.version,
  };
}
