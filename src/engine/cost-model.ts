import type { HostTopology } from '../host/host-topology.js';

/**
 * Per-access latency as seen from a CPU node. A node's HMAT attributes (access0) are what
 * its nearest initiator sees; a farther CPU node pays `remoteNsPerDistance` for every SLIT
 * unit beyond that — the cross-socket penalty — so a CPU-less node is always remote by its own
 * attributes and remote DRAM costs more than local DRAM. Bandwidth contention multiplies a
 * node's latency by 1 / (1 - utilisation) (an M/M/1 queue), utilisation measured over the
 * previous epoch and capped so that latency stays finite. Sources: docs/cost-model.md.
 */
export interface LatencyModelOptions {
  remoteNsPerDistance: number;
  /** Bytes moved per access: one cache line. */
  bytesPerAccess: number;
  /** Highest utilisation used in the queueing factor. */
  maxUtilisation: number;
}

export const DEFAULT_LATENCY_MODEL: LatencyModelOptions = {
  remoteNsPerDistance: 6,
  bytesPerAccess: 64,
  maxUtilisation: 0.95,
};

/** Latency tables are kept in eighths of a nanosecond so per-chunk sums stay small integers. */
export const LAT_SHIFT = 3;
export const LAT_SCALE = 1 << LAT_SHIFT;

export class LatencyModel {
  readonly nodes: number;
  /** [cpuNode][memNode] base read / write latency, ns. */
  readonly baseRead: Float64Array[];
  readonly baseWrite: Float64Array[];
  /** Contention factor per memory node for the current epoch. */
  readonly factor: Float64Array;
  /**
   * Scaled integer table the hot path reads: [cpuNode] → Int32Array indexed
   * (memNode << 1) | isWrite. A node with a memory-side cache has -1 there: the access loop
   * then asks the cache (sideTable holds hit latencies; a miss costs baseRead/baseWrite).
   */
  readonly table: Int32Array[];
  /** Hit latencies of memory-side caches, same layout as `table` (0 where no cache). */
  readonly sideTable: Int32Array[];
  /** Miss latencies of memory-side-cached nodes (the backing memory), same layout. */
  readonly missTable: Int32Array[];
  /** Whether each node has a memory-side cache. */
  readonly cached: Uint8Array;
  private readonly readBytesPerSec: Float64Array;
  private readonly sideRead: number[];
  private readonly sideWrite: number[];
  /** [cpu][mem] the remote-distance penalty included in baseRead/baseWrite. */
  private readonly extra: Float64Array[];
  private readonly writeBytesPerSec: Float64Array;

  constructor(
    topo: HostTopology,
    readonly opts: LatencyModelOptions = DEFAULT_LATENCY_MODEL,
  ) {
    const n = topo.nodes.length;
    this.nodes = n;
    const cpuNodes = topo.nodes.map((x, i) => (x.hasCpu ? i : -1)).filter((i) => i >= 0);
    const initiatorDistance = topo.nodes.map((_, m) => {
      let best = Infinity;
      for (const c of cpuNodes) best = Math.min(best, topo.distance[c][m]);
      return Number.isFinite(best) ? best : 10;
    });
    this.baseRead = [];
    this.baseWrite = [];
    for (let c = 0; c < n; c++) {
      const r = new Float64Array(n);
      const w = new Float64Array(n);
      for (let m = 0; m < n; m++) {
        const extra = Math.max(0, topo.distance[c][m] - initiatorDistance[m]) * opts.remoteNsPerDistance;
        r[m] = topo.nodes[m].perf.readLatencyNs + extra;
        w[m] = topo.nodes[m].perf.writeLatencyNs + extra;
      }
      this.baseRead.push(r);
      this.baseWrite.push(w);
    }
    this.factor = new Float64Array(n).fill(1);
    this.table = this.baseRead.map(() => new Int32Array(2 * n));
    this.sideTable = this.baseRead.map(() => new Int32Array(2 * n));
    this.missTable = this.baseRead.map(() => new Int32Array(2 * n));
    this.cached = Uint8Array.from(topo.nodes, (x) => (x.sideCache ? 1 : 0));
    this.sideRead = topo.nodes.map((x) => (x.sideCache ? x.sideCache.hitReadNs : 0));
    this.sideWrite = topo.nodes.map((x) => (x.sideCache ? x.sideCache.hitWriteNs : 0));
    this.extra = this.baseRead.map((r) =>
      Float64Array.from(r, (v, m) => v - topo.nodes[m].perf.readLatencyNs),
    );
    this.readBytesPerSec = Float64Array.from(topo.nodes, (x) => x.perf.readBandwidthMBps * 1e6);
    this.writeBytesPerSec = Float64Array.from(topo.nodes, (x) => x.perf.writeBandwidthMBps * 1e6);
    this.rebuild();
  }

  private rebuild(): void {
    for (let c = 0; c < this.nodes; c++) {
      for (let m = 0; m < this.nodes; m++) {
        const r = Math.round(this.baseRead[c][m] * this.factor[m] * LAT_SCALE);
        const w = Math.round(this.baseWrite[c][m] * this.factor[m] * LAT_SCALE);
        if (this.cached[m]) {
          this.table[c][m << 1] = -1;
          this.table[c][(m << 1) | 1] = -1;
          this.missTable[c][m << 1] = r;
          this.missTable[c][(m << 1) | 1] = w;
          this.sideTable[c][m << 1] = Math.round((this.sideRead[m] + this.extra[c][m]) * LAT_SCALE);
          this.sideTable[c][(m << 1) | 1] = Math.round((this.sideWrite[m] + this.extra[c][m]) * LAT_SCALE);
        } else {
          this.table[c][m << 1] = r;
          this.table[c][(m << 1) | 1] = w;
        }
      }
    }
  }

  /**
   * Sets next epoch's contention factors from the traffic of the one that ended: reads and
   * writes in accesses, extra bytes from page migrations, over `epochNs`.
   */
  updateContention(
    reads: Float64Array,
    writes: Float64Array,
    migratedBytes: Float64Array,
    epochNs: number,
  ): void {
    const secs = epochNs / 1e9;
    for (let m = 0; m < this.nodes; m++) {
      const rb = reads[m] * this.opts.bytesPerAccess + migratedBytes[m] / 2;
      const wb = writes[m] * this.opts.bytesPerAccess + migratedBytes[m] / 2;
      const util = rb / (this.readBytesPerSec[m] * secs) + wb / (this.writeBytesPerSec[m] * secs);
      const u = Math.min(util, this.opts.maxUtilisation);
      this.factor[m] = 1 / (1 - u);
    }
    this.rebuild();
  }

  /**
   * The "all fast" ideal of the slowdown: an uncontended access from `cpuNode` to its own node
   * — or to the node's memory-side cache when it has one (memory mode's DRAM).
   */
  idealLatency(cpuNode: number, write: boolean): number {
    if (this.cached[cpuNode]) return write ? this.sideWrite[cpuNode] : this.sideRead[cpuNode];
    return write ? this.baseWrite[cpuNode][cpuNode] : this.baseRead[cpuNode][cpuNode];
  }
}
