import type { InspectedCgroup, InspectedHost, InspectedNode } from './read-host.js';

const MiB = 1 << 20;
/** Footprint given to a tenant whose memory.current is unknown or tiny. */
const MIN_FOOTPRINT_MIB = 16;
const SCENARIO_CGROUP_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;

function sizeText(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB}MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024}KiB` : `${bytes}B`;
}

function vmName(path: string): string {
  return path === '/' ? 'host' : path.slice(1).replace(/\//g, '-');
}

/** memory_tierN holds abstract distances [N << MEMTIER_CHUNK_BITS, (N + 1) << MEMTIER_CHUNK_BITS). */
const MEMTIER_CHUNK_BITS = 7;

/**
 * What a CPU-less node without HMAT data needs so that numatier's model puts it where the kernel
 * did. Numatier takes such a node for dax/kmem memory (class pmem, a lower tier); the kernel
 * gives boot memory default_dram_type whatever its CPUs, so in a guest or on a host without HMAT
 * it shares the DRAM nodes' tier. Otherwise the tier read from sysfs is given as its distance.
 */
function tierWithoutPerf(n: InspectedNode, dramTier: number | null): Record<string, unknown> {
  if (n.cpus.length > 0 || n.hmat !== null || n.tier === null) return {};
  if (n.tier === dramTier) return { class: 'dram' };
  return { adist: n.tier << MEMTIER_CHUNK_BITS };
}

/**
 * A numatier scenario of an inspected host, for what-if runs on a model of one's own machine:
 * its nodes (size, CPUs, HMAT performance, SLIT distances), its tiering knobs, its cgroup tree
 * with limits, and one tenant per cgroup that holds processes, its footprint the group's
 * memory.current. Access patterns cannot be read from /proc; tenants get the default zipfian
 * workload, to be replaced by a trace (`numatier trace record`) or a pattern that fits.
 */
export function scenarioOfHost(h: InspectedHost): Record<string, unknown> {
  const dramTier = h.nodes.find((n) => n.cpus.length > 0 && n.tier !== null)?.tier ?? null;
  const nodes = h.nodes
    .filter((n) => (n.mem_total_kib ?? 0) > 0)
    .map((n) => ({
      id: n.id,
      cpus: n.cpus,
      size: sizeText(Math.floor((n.mem_total_kib as number) / 1024) * MiB),
      ...(n.hmat ?? {}),
      ...tierWithoutPerf(n, dramTier),
    }));
  const ids = nodes.map((n) => n.id);
  const all = h.nodes.map((n) => n.id);
  // The distance rows list every online node; nodes without memory are left out with their columns.
  const full = h.nodes.every((n) => n.distances !== null && n.distances.length === all.length);
  const distance = full
    ? h.nodes
        .filter((n) => ids.includes(n.id))
        .map((n) => (n.distances as number[]).filter((_, j) => ids.includes(all[j])))
    : undefined;
  const kernel: Record<string, unknown> = {};
  if (h.demotion_enabled !== null) kernel.demotion_enabled = h.demotion_enabled;
  const nb = h.numa_balancing;
  if (nb.mode !== null) kernel.numa_balancing = nb.mode & 3;
  if (nb.promote_rate_limit_MBps !== null)
    kernel.numa_balancing_promote_rate_limit_MBps = nb.promote_rate_limit_MBps;
  if (nb.hot_threshold_ms !== null) kernel.numa_balancing_hot_threshold_ms = nb.hot_threshold_ms;
  if (nb.scan_delay_ms !== null) kernel.numa_balancing_scan_delay_ms = nb.scan_delay_ms;
  if (nb.scan_period_min_ms !== null) kernel.numa_balancing_scan_period_min_ms = nb.scan_period_min_ms;
  if (nb.scan_period_max_ms !== null) kernel.numa_balancing_scan_period_max_ms = nb.scan_period_max_ms;
  if (nb.scan_size_mb !== null) kernel.numa_balancing_scan_size_mb = nb.scan_size_mb;

  // Paths a scenario accepts (systemd's "user@1000.service" has an '@'): the others and their
  // subtrees are left out.
  const groups = h.cgroups.filter((g) => g.path !== '/' && SCENARIO_CGROUP_PATH.test(g.path));
  const cgroups = groups.map((g) => {
    const c: Record<string, unknown> = { path: g.path };
    const lim = (v: number | 'max' | null): string | undefined =>
      v === null || v === 'max' ? undefined : sizeText(v);
    if (lim(g.memory_max) !== undefined) c['memory.max'] = lim(g.memory_max);
    if (lim(g.memory_high) !== undefined) c['memory.high'] = lim(g.memory_high);
    if ((g.memory_low ?? 0) > 0) c['memory.low'] = sizeText(g.memory_low as number);
    if ((g.memory_min ?? 0) > 0) c['memory.min'] = sizeText(g.memory_min as number);
    return c;
  });
  const cpuNode = nodes.find((n) => n.cpus.length > 0)?.id ?? 0;
  const tenant = (g: InspectedCgroup | null, bytes: number): Record<string, unknown> => ({
    name: vmName(g?.path ?? '/'),
    ...(g !== null ? { cgroup: g.path } : {}),
    cpu_node: cpuNode,
    workload: {
      pattern: 'zipfian',
      footprint: `${Math.max(MIN_FOOTPRINT_MIB, Math.ceil(bytes / MiB))}MiB`,
    },
  });
  const vms = groups.filter((g) => g.procs.length > 0).map((g) => tenant(g, g.memory_current ?? 0));
  if (vms.length === 0) {
    // No tenant cgroup: one tenant of the size of everything the processes hold.
    const resident = h.processes.reduce(
      (s, p) => s + Object.values(p.node_bytes).reduce((a, b) => a + b, 0),
      0,
    );
    vms.push(tenant(null, resident));
  }
  return {
    name: 'inspected-host',
    description: `Generated by numatier inspect${h.kernel ? ` from a ${h.kernel} kernel` : ''}; tenants' workloads are placeholders.`,
    duration_ms: 3000,
    topology: { nodes, ...(distance !== undefined ? { distance } : {}) },
    ...(Object.keys(kernel).length > 0 ? { kernel } : {}),
    ...(cgroups.length > 0 ? { cgroups } : {}),
    vms,
  };
}
