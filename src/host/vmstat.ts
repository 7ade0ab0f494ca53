/**
 * Event counters with the kernel's names. They are kept per (memcg, node) — the kernel's lruvec
 * granularity — so that /proc/vmstat (sum of all), nodeN/vmstat (sum over memcgs) and
 * memory.stat / memory.numa_stat (sum over nodes, or per node) are all views of one array.
 * Events that have no node of their own (a page fault) are accounted on the node of the page
 * involved, or on the faulting task's CPU node when there is no page.
 */
export const VMSTAT_ITEMS = [
  'pgfault',
  'pgmajfault',
  'pgalloc',
  'pgfree',
  'allocstall',
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
  'kswapd_wakeup',
  'oom_kill',
] as const;

export type VmstatItem = (typeof VMSTAT_ITEMS)[number];
export const NR_VMSTAT_ITEMS = VMSTAT_ITEMS.length;

/** Index of each counter, e.g. `VM.pgfault`. */
export const VM = Object.fromEntries(VMSTAT_ITEMS.map((name, i) => [name, i])) as {
  readonly [K in VmstatItem]: number;
};

export class Vmstat {
  readonly nodes: number;
  readonly memcgs: number;
  /** counts[(memcg * nodes + node) * NR_VMSTAT_ITEMS + item] */
  readonly counts: Float64Array;

  constructor(memcgs: number, nodes: number) {
    this.memcgs = memcgs;
    this.nodes = nodes;
    this.counts = new Float64Array(memcgs * nodes * NR_VMSTAT_ITEMS);
  }

  add(memcg: number, node: number, item: number, n: number): void {
    this.counts[(memcg * this.nodes + node) * NR_VMSTAT_ITEMS + item] += n;
  }

  get(memcg: number, node: number, item: number): number {
    return this.counts[(memcg * this.nodes + node) * NR_VMSTAT_ITEMS + item];
  }

  /** /proc/vmstat: the sum over every memcg and node. */
  global(item: number): number {
    let s = 0;
    for (let i = item; i < this.counts.length; i += NR_VMSTAT_ITEMS) s += this.counts[i];
    return s;
  }

  /** nodeN/vmstat: one node, all memcgs. */
  node(node: number, item: number): number {
    let s = 0;
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
