import type { BuiltRun } from '../scenario/build.js';
import { benchTopology } from './topology.js';
import { withBenchRun } from './with-run.js';
import { MAX_DURATION_MS } from '../scenario/limits.js';

/**
 * The tenants benchmark (`numatier bench --tenants N [--nested]`): N small VMs, each in its own
 * cgroup with a memory.low, on a host whose DRAM holds half of them, so that kswapd walks every
 * group with their protection on each pass. Flat, the groups are children of the root; nested,
 * they are children of one /tenants group, where each group's effective protection depends on
 * its siblings' protected usage (the case that was quadratic before the running sums of
 * propagate_protected_usage()). Measures the fault-in of every footprint and the steady state
 * after it, each in wall and CPU time.
 */
export interface TenantsBenchOptions {
  tenants: number;
  nested: boolean;
  /** Accesses in the measured steady-state window, after the fault-in. */
  measureAccesses: number;
  seed: number;
}

export interface TenantsBenchResult {
  tenants: number;
  nested: boolean;
  pages_faulted: number;
  fault_in_wall_sec: number;
  fault_in_cpu_sec: number;
  /** Wall and CPU time per access in the steady state, ns. */
  access_wall_ns: number;
  access_cpu_ns: number;
  measured_accesses: number;
  node: string;
}

const TENANT_FOOTPRINT_MIB = 4;

export function tenantsScenario(o: TenantsBenchOptions): unknown {
  const totalMiB = o.tenants * TENANT_FOOTPRINT_MIB;
  const parent = o.nested ? '/tenants' : '';
  const cgroups: Record<string, string>[] = o.nested ? [{ path: '/tenants' }] : [];
  const vms: unknown[] = [];
  for (let i = 0; i < o.tenants; i++) {
    const path = `${parent}/t${i}`;
    cgroups.push({ path, 'memory.low': `${TENANT_FOOTPRINT_MIB / 2}MiB` });
    vms.push({
      name: `t${i}`,
      cgroup: path,
      cpu_node: 0,
      workload: {
        footprint: `${TENANT_FOOTPRINT_MIB}MiB`,
        pattern: 'phases',
        phases: [
          { name: 'populate', accesses: (TENANT_FOOTPRINT_MIB * 2 ** 20) / 4096, pattern: 'sequential' },
          { name: 'zipfian', accesses: 2 ** 40, pattern: 'zipfian', theta: 0.99 },
        ],
        write_ratio: 0.25,
        compute_ns: 0,
      },
    });
  }
  return {
    name: `bench-tenants-${o.tenants}-${o.nested ? 'nested' : 'flat'}`,
    seed: o.seed,
    duration_ms: MAX_DURATION_MS,
    sample_interval_ms: 1e6,
    topology: benchTopology(`${Math.ceil(totalMiB / 2)}MiB`, `${Math.ceil(totalMiB / 4)}MiB`),
    kernel: { demotion_enabled: true, numa_balancing: 0, swap: `${totalMiB}MiB` },
    cgroups,
    vms,
  };
}

export function runTenantsBench(o: TenantsBenchOptions): TenantsBenchResult {
  return withBenchRun(tenantsScenario(o), o.seed, (run) => measure(run, o));
}

function measure(run: BuiltRun, o: TenantsBenchOptions): TenantsBenchResult {
  const sim = run.sim;
  const spaces = run.host.spaces;
  const step = 1e6; // 1 ms of simulated time
  let t = 0;
  const faultedIn = (): boolean => spaces.every((as) => !as.alive || as.touchedPages >= as.pages);
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  while (!faultedIn()) sim.runUntil((t += step));
  const w1 = process.hrtime.bigint();
  const c1 = process.cpuUsage();
  const pages = spaces.reduce((s, as) => s + as.touchedPages, 0);
  const a0 = sim.totalAccesses();
  while (sim.totalAccesses() - a0 < o.measureAccesses) sim.runUntil((t += step));
  const w2 = process.hrtime.bigint();
  const c2 = process.cpuUsage();
  const measured = sim.totalAccesses() - a0;
  const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number =>
    (b.user - a.user + b.system - a.system) / 1e6;
  return {
    tenants: o.tenants,
    nested: o.nested,
    pages_faulted: pages,
    fault_in_wall_sec: Number(w1 - w0) / 1e9,
    fault_in_cpu_sec: cpu(c0, c1),
    access_wall_ns: Number(w2 - w1) / measured,
    access_cpu_ns: (cpu(c1, c2) * 1e9) / measured,
    measured_accesses: measured,
    node: process.version,
  };
}
