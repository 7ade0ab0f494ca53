/**
 * Event counters with the kernel's /proc/vmstat names (mm/vmstat.c vmstat_text), and only
 * those: numatier's own counters live elsewhere (e.g. Host.kswapdWakeups). They are kept per
 * (memcg, node) — the kernel's lruvec granularity — so that /proc/vmstat (sum of all),
 * nodeN/vmstat (sum over memcgs) and memory.stat / memory.numa_stat (sum over nodes, or per
 * node) are all views of one array. Events the kernel counts per CPU (a page fault) are
 * accounted on the node of the faulting task's CPU.
 *
 * Per-zone events (PGALLOC, ALLOCSTALL: include/linux/vm_event_item.h FOR_ALL_ZONES) print one
 * line per zone type; the simulator has ZONE_NORMAL and ZONE_MOVABLE only (one zone per node,
 * src/topology ZoneKind), so the _dma, _dma32 and _device lines the kernel also prints are left
 * out rather than shown as zeros.
 */
export const VMSTAT_ITEMS = [
  'pgfault',
  'pgmajfault',
  'pgalloc_normal',
  'pgalloc_movable',
  'pgfree',
  'allocstall_normal',
  'allocstall_movable',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgscan_proactive',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_proactive',
  'pgscan_anon',
  'pgscan_file',
  'pgsteal_anon',
  'pgsteal_file',
  'pgrefill',
  'pgactivate',
  'pgdeactivate',
  'pgrotated',
  'pswpin',
  'pswpout',
  'workingset_refault_anon',
  'workingset_refault_file',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_proactive',
  'pgpromote_success',
  'pgpromote_candidate',
  'numa_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgmigrate_success',
  'pgmigrate_fail',
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_local',
  'numa_other',
  'numa_interleave',
  'oom_kill',
] as const;

export type VmstatItem = (typeof VMSTAT_ITEMS)[number];
export const NR_VMSTAT_ITEMS = VMSTAT_ITEMS.length;

/** Index of each counter, e.g. `VM.pgfault`. */
export const VM = Object.fromEntries(VMSTAT_ITEMS.map((name, i) => [name, i])) as {
  readonly [K in VmstatItem]: number;
};

/**
 * __count_zid_vm_events(item, zid): the per-zone copy of a FOR_ALL_ZONES event for a zone of
 * kind `movable` (ZONE_MOVABLE) or not (ZONE_NORMAL). `normalItem` is the _normal index; the
 * _movable one follows it in VMSTAT_ITEMS, as in the kernel's enum.
 */
export function zoneItem(normalItem: number, movable: boolean): number {
  return movable ? normalItem + 1 : normalItem;
}

/**
 * /proc/vmstat's `item` from Vmstat's two arrays (or a snapshot's copies of them): the sum
 * over every (memcg, node) of `counts`, less the memcg-only part.
 */
export function globalEvent(counts: Float64Array, memcgOnly: Float64Array, item: number): number {
  let s = 0;
  for (let i = item; i < counts.length; i += NR_VMSTAT_ITEMS) s += counts[i];
  for (let i = item; i < memcgOnly.length; i += NR_VMSTAT_ITEMS) s -= memcgOnly[i];
  return s;
}

export class Vmstat {
  readonly nodes: number;
  readonly memcgs: number;
  /** counts[(memcg * nodes + node) * NR_VMSTAT_ITEMS + item] */
  readonly counts: Float64Array;
  /**
   * memcgOnly[node * NR_VMSTAT_ITEMS + item]: the part of `counts` the kernel counts in the
   * memcg only (count_memcg_events), not in /proc/vmstat: pgscan_* and pgsteal_* of cgroup
   * reclaim ("if (!cgroup_reclaim(sc)) __count_vm_events(item, ...)" in shrink_inactive_list).
   */
  readonly memcgOnly: Float64Array;

  constructor(memcgs: number, nodes: number) {
    this.memcgs = memcgs;
    this.nodes = nodes;
    this.counts = new Float64Array(memcgs * nodes * NR_VMSTAT_ITEMS);
    this.memcgOnly = new Float64Array(nodes * NR_VMSTAT_ITEMS);
  }

  add(memcg: number, node: number, item: number, n: number): void {
    this.counts[(memcg * this.nodes + node) * NR_VMSTAT_ITEMS + item] += n;
  }

  /** An event memory.stat shows but /proc/vmstat and nodeN/vmstat leave out. */
  addMemcgOnly(memcg: number, node: number, item: number, n: number): void {
    this.counts[(memcg * this.nodes + node) * NR_VMSTAT_ITEMS + item] += n;
    this.memcgOnly[node * NR_VMSTAT_ITEMS + item] += n;
  }

  get(memcg: number, node: number, item: number): number {
    return this.counts[(memcg * this.nodes + node) * NR_VMSTAT_ITEMS + item];
  }

  /** /proc/vmstat: the sum over every memcg and node, less the memcg-only events. */
  global(item: number): number {
    return globalEvent(this.counts, this.memcgOnly, item);
  }

  /** nodeN/vmstat: one node, all memcgs. */
  node(node: number, item: number): number {
    let s = -this.memcgOnly[node * NR_VMSTAT_ITEMS + item];
    for (let m = 0; m < this.memcgs; m++) s += this.get(m, node, item);
    return s;
  }

  /** One memcg (not hierarchical), all nodes. */
  memcg(memcg: number, item: number): number {
    let s = 0;
    for (let n = 0; n < this.nodes; n++) s += this.get(memcg, n, item);
    return s;
  }

  snapshotGlobal(): Record<VmstatItem, number> {
    const out = {} as Record<VmstatItem, number>;
    VMSTAT_ITEMS.forEach((name, i) => (out[name] = this.global(i)));
    return out;
  }
}
