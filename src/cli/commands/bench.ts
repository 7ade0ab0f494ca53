import type { Command } from 'commander';
import { DEFAULT_MEASURED_ACCESSES, DEFAULT_WARMUP_ACCESSES, runBench } from '../../bench/standard.js';
import { runTenantsBench } from '../../bench/tenants.js';
import { parseSeed } from '../options.js';
import { InputError } from '../../util/errors.js';

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InputError(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

interface BenchCliOptions {
  json?: boolean;
  warmup: string;
  accesses: string;
  tiering?: boolean;
  seed: string;
  tenants?: string;
  nested?: boolean;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'the standard benchmark: zipfian θ 0.99 over 16 GiB on 4 GiB DRAM + a CPU-less slow node, reclaim active',
    )
    .option('--json', 'print the result as JSON')
    .option(
      '--warmup <accesses>',
      'zipfian accesses before the measured window (after the populate pass)',
      String(DEFAULT_WARMUP_ACCESSES),
    )
    .option('--accesses <n>', 'accesses in the measured window', String(DEFAULT_MEASURED_ACCESSES))
    .option('--tiering', 'also run NUMA-balancing promotion (numa_balancing=2)')
    .option('--seed <n>', 'random seed', '1')
    .option('--tenants <n>', 'instead: the tenants benchmark, N small VMs each in its own cgroup')
    .option('--nested', 'with --tenants: the tenant groups under one /tenants group instead of the root')
    .action((o: BenchCliOptions) => {
      if (o.tenants !== undefined) {
        const r = runTenantsBench({
          tenants: positiveInt('--tenants', o.tenants),
          nested: o.nested === true,
          measureAccesses: positiveInt(
            '--accesses',
            o.accesses === String(DEFAULT_MEASURED_ACCESSES) ? '5000000' : o.accesses,
          ),
          seed: parseSeed(o.seed),
        });
        if (o.json) {
          process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          [
            `${r.tenants} tenants, ${r.nested ? 'nested under /tenants' : 'flat under the root'}`,
            `fault-in of ${r.pages_faulted} pages: ${r.fault_in_wall_sec.toFixed(3)} s wall, ${r.fault_in_cpu_sec.toFixed(3)} s CPU`,
            `steady state, per access:  ${r.access_wall_ns.toFixed(1)} ns wall, ${r.access_cpu_ns.toFixed(1)} ns CPU (${r.measured_accesses} accesses)`,
            `node ${r.node}`,
          ].join('\n') + '\n',
        );
        return;
      }
      const r = runBench({
        warmupAccesses: positiveInt('--warmup', o.warmup),
        measureAccesses: positiveInt('--accesses', o.accesses),
        tiering: o.tiering === true,
        seed: parseSeed(o.seed),
      });
      if (o.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
      const m = (rate: number): string => (rate / 1e6).toFixed(1);
      process.stdout.write(
        [
          `accesses/s (wall, steady state): ${m(r.accesses_per_sec)} M  (${r.measured_accesses} accesses in ${r.measured_wall_sec} s after ${r.warmup_accesses} warm-up)`,
          `${`in ${r.slice_accesses_per_sec.length} equal slices:`.padEnd(33)}median ${m(r.median_slice_accesses_per_sec)} M, from ${m(Math.min(...r.slice_accesses_per_sec))} to ${m(Math.max(...r.slice_accesses_per_sec))} M`,
          `accesses/s of CPU time:          ${m(r.cpu_accesses_per_sec)} M  (${r.measured_cpu_sec} s CPU, user + system)`,
          `bare loop, same page table:      ${m(r.bare_loop.cpu_accesses_per_sec)} M per CPU second; the model runs at ${r.ratio_to_bare_loop.toFixed(2)}× it`,
          `state per simulated page:        ${r.bytes_per_page} bytes per frame (+${r.page_table_bytes_per_virtual_page} per virtual page of page table)`,
          `simulated frames / virtual pages: ${r.simulated_pages} / ${r.virtual_pages}`,
          `peak RSS:                        ${mib(r.peak_rss_bytes)} MiB`,
          `in the measured window:          pgfault ${r.pgfault}, pswpin ${r.pswpin}, pgscan_kswapd ${r.pgscan_kswapd}, pgdemote_kswapd ${r.pgdemote_kswapd}`,
          ...(r.numa_pte_updates > 0
            ? [
                `                                 numa_pte_updates ${r.numa_pte_updates}, numa_hint_faults ${r.numa_hint_faults}, pgpromote_success ${r.pgpromote_success}`,
              ]
            : []),
          `node ${r.node}`,
        ].join('\n') + '\n',
      );
    });
}
