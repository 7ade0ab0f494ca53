import type { Host } from '../host/host.js';
import type { KernelMemoryAccesses, Daemon, Simulation, Task } from './simulation.js';
import { LAT_SCALE, type LatencyModel } from './cost-model.js';

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
      const node = this.host.allocKernelPage(t.as.memcg, this.o.order);
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
