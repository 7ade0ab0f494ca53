import type { Host } from './host.js';
import type { KernelMemoryAccesses, Daemon, Simulation, Task } from '../engine/simulation.js';
import { LAT_SCALE, type LatencyModel } from '../engine/cost-model.js';
import { PF_KERNEL } from './frames.js';
import { SWAP_CLUSTER_MAX } from './mm-constants.js';
import { pickNode } from './page-alloc.js';
import { directReclaim, memcgReclaim } from './reclaim.js';
import { VM } from './vmstat.js';

/**
 * Unmovable kernel memory (slab, mm/slub.c's page allocations with __GFP_ACCOUNT): the pages
 * themselves, and a VM's dentry/inode cache that grows into them.
 */

/**
 * Allocates `nr` unmovable kernel pages (slab) charged to `memcg`, trying `nodes` in order
 * at the MIN watermark (kernel allocations may dip below LOW). Returns how many were placed.
 */
export function allocKernelPages(host: Host, memcg: number, nodes: Int32Array, nr: number): number {
  let placed = 0;
  while (placed < nr && allocKernelPage(host, memcg, nodes) >= 0) placed++;
  return placed;
}

/** How many times a kernel allocation enters direct reclaim before it fails. */
const KERNEL_ALLOC_RECLAIM_TRIES = 4;

/** One unmovable kernel page charged to `memcg`; returns the node it landed on, or -1. */
export function allocKernelPage(host: Host, memcg: number, nodes: Int32Array): number {
  const fr = host.frames;
  const cg = host.cgroups;
  // __GFP_ACCOUNT: charged like user memory; one round of memcg reclaim, then failure. The
  // reclaim's cost is nobody's: the cache grows in the background.
  let over = cg.tryCharge(memcg, 1);
  if (over >= 0) {
    cg.event(over, 'max');
    memcgReclaim(host, over, SWAP_CLUSTER_MAX, nodes.length > 0 ? nodes[0] : 0);
    over = cg.tryCharge(memcg, 1);
    if (over >= 0) return -1;
  }
  let n = pickNode(host, nodes, memcg);
  // GFP_KERNEL may enter direct reclaim (which demotes or swaps user pages) before failing;
  // do_try_to_free_pages() counts it in gfp_zone(GFP_KERNEL) = ZONE_NORMAL.
  for (let tries = 0; n < 0 && tries < KERNEL_ALLOC_RECLAIM_TRIES; tries++) {
    if (nodes.length > 0) host.vmstat.add(memcg, nodes[0], VM.allocstall_normal, 1);
    if (directReclaim(host, nodes, -1) === 0) break;
    n = pickNode(host, nodes, memcg);
  }
  if (n < 0) {
    cg.uncharge(memcg, 1);
    return -1;
  }
  const p = fr.takeFree(n);
  fr.setFlags(p, PF_KERNEL);
  fr.setRmap(p, memcg);
  cg.kernelPages[memcg * host.nodes + n]++;
  cg.nodePages[memcg * host.nodes + n]++;
  return n;
}

/**
 * A VM's unmovable kernel memory (idea S13): a dentry/inode cache that grows to `pages` over
 * `growMs` from the VM's start, allocated by the kernel in `order` (a kmem placement policy),
 * never reclaimed or migrated. A fixed share of the VM's memory accesses are metadata accesses
 * that land on these pages; they are charged at the latency of the nodes the pages sit on, so
 * where the kernel put them shows in the VM's AMAT and slowdown.
 */
export interface KernelMemoryOptions {
  pages: number;
  /** Share of all the VM's accesses that go to kernel memory, in [0, 1). */
  accessShare: number;
  growMs: number;
  order: Int32Array;
}

export class KernelMemory implements Daemon, KernelMemoryAccesses {
  readonly name: string;
  /** Kernel pages of this VM per node (dense index). */
  readonly pagesByNode: Float64Array;
  placed = 0;
  /** Pages the kernel could not place (every allowed node at MIN). */
  failed = 0;
  private carry = 0;
  private readonly perAccess: number;

  constructor(
    private readonly host: Host,
    private readonly lat: LatencyModel,
    private readonly task: Task,
    readonly o: KernelMemoryOptions,
  ) {
    this.name = `kmem:${task.as.name}`;
    this.pagesByNode = new Float64Array(host.nodes);
    this.perAccess = o.accessShare / (1 - o.accessShare);
    task.kernelMemory = this;
  }

  start(): number {
    return this.task.clockNs;
  }

  run(_sim: Simulation, now: number): number {
    const t = this.task;
    if (!t.as.alive) return Infinity;
    const step = this.o.growMs > 0 ? Math.ceil(this.o.pages / 20) : this.o.pages;
    const want = Math.min(step, this.o.pages - this.placed - this.failed);
    for (let k = 0; k < want; k++) {
      const node = allocKernelPage(this.host, t.as.memcg, this.o.order);
      if (node < 0) {
        this.failed++;
        continue;
      }
      this.pagesByNode[node]++;
      this.placed++;
    }
    if (this.placed + this.failed >= this.o.pages) return Infinity;
    return now + (this.o.growMs * 1e6) / 20;
  }

  accountChunk(t: Task, n: number): number {
    if (this.placed === 0 || n === 0) return 0;
    const x = n * this.perAccess + this.carry;
    const k = Math.floor(x);
    this.carry = x - k;
    if (k === 0) return 0;
    // Metadata accesses are reads spread over the cache's pages in proportion to where they are.
    const table = this.lat.table[t.as.cpuNode];
    let latency = 0;
    const s = t.stats;
    for (let node = 0; node < this.host.nodes; node++) {
      const share = this.pagesByNode[node] / this.placed;
      if (share === 0) continue;
      const accesses = k * share;
      latency += (accesses * table[node << 1]) / LAT_SCALE;
      s.hitsByNode[node] += accesses;
    }
    s.accesses += k;
    s.reads += k;
    s.latencyNs += latency;
    const wait = latency / t.mlp;
    s.memoryNs += wait;
    s.idealNs += (k * t.idealRead) / t.mlp;
    return wait;
  }
}
