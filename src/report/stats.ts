import type { Host } from '../host/host.js';
import { VM, VMSTAT_ITEMS } from '../host/vmstat.js';
import { PAGE_SIZE } from '../util/units.js';

/**
 * cgroup statistics views over the host state: memory.numa_stat and memory.stat, hierarchical
 * as the kernel's (a group's numbers include its descendants).
 */

/** memory.numa_stat keys in the kernel's order (mm/memcontrol.c memory_stats[], SPEC §5.1). */
export const NUMA_STAT_KEYS = [
  'anon',
  'file',
  'kernel_stack',
  'pagetables',
  'sec_pagetables',
  'shmem',
  'file_mapped',
  'file_dirty',
  'file_writeback',
  'swapcached',
  'anon_thp',
  'file_thp',
  'shmem_thp',
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
  'slab_reclaimable',
  'slab_unreclaimable',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_restore_anon',
  'workingset_restore_file',
  'workingset_nodereclaim',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
  'pgdemote_proactive',
  'pgpromote_success',
] as const;

/**
 * Event-type items print counts; every other item prints bytes (memcg_page_state_output_unit):
 * the workingset_*, pgdemote_* and pgpromote_* items.
 */
const EVENT_KEYS = new Set<string>(NUMA_STAT_KEYS.filter((k) => /^(workingset|pgdemote|pgpromote)_/.test(k)));

const VMSTAT_FOR_KEY: Record<string, number | undefined> = {
  workingset_refault_anon: VM.workingset_refault_anon,
  workingset_refault_file: VM.workingset_refault_file,
  pgdemote_kswapd: VM.pgdemote_kswapd,
  pgdemote_direct: VM.pgdemote_direct,
  pgdemote_proactive: VM.pgdemote_proactive,
  pgpromote_success: VM.pgpromote_success,
};

/** Per node values (pages or counts) of one memcg itself, not its descendants. */
function ownNumaStat(host: Host, memcg: number, key: string, node: number): number {
  const fr = host.frames;
  const lru = (l: number): number => fr.lruSize[fr.listId(memcg, node, l)];
  switch (key) {
    case 'anon':
      return lru(0) + lru(1);
    case 'file':
    case 'file_mapped':
      return lru(2) + lru(3);
    case 'inactive_anon':
      return lru(0);
    case 'active_anon':
      return lru(1);
    case 'inactive_file':
      return lru(2);
    case 'active_file':
      return lru(3);
    case 'unevictable':
      return lru(4);
    case 'slab_unreclaimable':
      return host.cgroups.kernelPages[memcg * host.nodes + node];
    default: {
      const item = VMSTAT_FOR_KEY[key];
      return item === undefined ? 0 : host.vmstat.get(memcg, node, item);
    }
  }
}

/** memory.numa_stat of a memcg (hierarchical): key → per node id → bytes (or count for events). */
export function numaStat(host: Host, memcg: number): Record<string, Record<string, number>> {
  const groups = host.cgroups.subtree(memcg);
  const out: Record<string, Record<string, number>> = {};
  for (const key of NUMA_STAT_KEYS) {
    const unit = EVENT_KEYS.has(key) ? 1 : PAGE_SIZE;
    const row: Record<string, number> = {};
    for (let n = 0; n < host.nodes; n++) {
      let v = 0;
      for (const g of groups) v += ownNumaStat(host, g, key, n);
      row[`N${host.topo.nodes[n].id}`] = v * unit;
    }
    out[key] = row;
  }
  return out;
}

/** The memory.numa_stat file text: `type N0=<bytes> N1=<bytes> …`, one line per key. */
export function formatNumaStat(stat: Record<string, Record<string, number>>): string {
  return Object.entries(stat)
    .map(
      ([key, row]) =>
        `${key} ${Object.entries(row)
          .map(([n, v]) => `${n}=${v}`)
          .join(' ')}`,
    )
    .join('\n')
    .concat('\n');
}

/** memory.stat of a memcg (hierarchical): sizes in bytes, then events as counts. */
export function memoryStat(
  host: Host,
  memcg: number,
  ns: Record<string, Record<string, number>> = numaStat(host, memcg),
): Record<string, number> {
  const sum = (key: string): number => Object.values(ns[key] ?? {}).reduce((a, b) => a + b, 0);
  const groups = host.cgroups.subtree(memcg);
  const out: Record<string, number> = {};
  for (const key of [
    'anon',
    'file',
    'file_mapped',
    'inactive_anon',
    'active_anon',
    'inactive_file',
    'active_file',
    'unevictable',
    'slab_unreclaimable',
  ]) {
    out[key] = sum(key);
  }
  out.kernel = out.slab_unreclaimable;
  out.slab = out.slab_unreclaimable;
  for (const name of VMSTAT_ITEMS) {
    if (name.startsWith('numa_hit') || name.startsWith('numa_miss') || name.startsWith('numa_foreign'))
      continue;
    // Node-only counters: memory.stat has no per-memcg copy of these (pgpromote_candidate
    // drives the per-node rate limit and threshold; memory.stat lists pgpromote_success only),
    // nor of the per-zone pgalloc_* and allocstall_* events (mm/memcontrol.c memcg_vm_event_stat).
    if (
      name === 'numa_local' ||
      name === 'numa_other' ||
      name === 'numa_interleave' ||
      name === 'pgpromote_candidate' ||
      name.startsWith('pgalloc_') ||
      name.startsWith('allocstall_')
    )
      continue;
    let v = 0;
    for (const g of groups) v += host.vmstat.memcg(g, VM[name]);
    out[name] = v;
  }
  return out;
}

/**
 * Pages a memcg subtree holds on each node (user + kernel): from the live counts, or from a
 * snapshot's copy of them (`nodePages`, CgroupTree.nodePages' layout).
 */
export function memcgPagesByNode(
  host: Host,
  memcg: number,
  nodePages: Float64Array = host.cgroups.nodePages,
): Float64Array {
  const out = new Float64Array(host.nodes);
  for (const g of host.cgroups.subtree(memcg)) {
    for (let n = 0; n < host.nodes; n++) out[n] += nodePages[g * host.nodes + n];
  }
  return out;
}
