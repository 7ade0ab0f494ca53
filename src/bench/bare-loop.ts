import { NODE_CHUNK_SHIFT } from '../host/frames.js';
import type { Host } from '../host/host.js';
import { PTE_DIRTY, PTE_PFN_MASK, PTE_PROTNONE, PTE_YOUNG } from '../host/pte.js';
import { createAccessStream } from '../workloads/create.js';
import type { WorkloadSpec } from '../workloads/schema.js';
import { Rng } from '../util/rng.js';

/**
 * The floor under `numatier bench`: in the same process and over the same page table, only the
 * work every simulated access must do — translate the virtual page to its frame, set the
 * accessed (and, on a write, dirty) bit, test the hinting-fault bit, charge the frame's node its
 * latency — over a pre-generated stream of the bench's own access pattern, reused as a ring.
 * No faults, reclaim, scanning or time: a non-resident page is counted and skipped. The
 * bench's rate over this loop's, both in CPU time, is the model's overhead as a ratio, which a
 * loaded machine moves far less than either rate.
 */

/** Pre-generated accesses, reused: 16 Mi (64 MiB), more than any cache holds. */
const RING = 1 << 24;

export interface BareLoopResult {
  accesses: number;
  wall_sec: number;
  cpu_sec: number;
  cpu_accesses_per_sec: number;
  /** Accesses to pages that were not resident (skipped); a checksum keeps the loop honest. */
  not_resident: number;
  checksum: number;
}

/** The pages of address space 0 of `host`, accessed as `workload` says, `accesses` times. */
export function runBareLoop(
  host: Host,
  workload: WorkloadSpec,
  seed: number,
  accesses: number,
): BareLoopResult {
  const stream = createAccessStream(workload, new Rng(seed).fork('bare-loop'));
  const ring = new Int32Array(RING);
  for (let n = 0; n < RING;) {
    const got = stream.fill(ring.subarray(n), RING - n);
    if (got === 0) throw new Error('bare loop: the access stream ended');
    n += got;
  }
  stream.close();
  // Latency of a read and of a write on each node, as the cost model's per-node figures.
  const lat = new Float64Array(host.nodes * 2);
  host.topo.nodes.forEach((n, i) => {
    lat[2 * i] = n.perf.readLatencyNs;
    lat[2 * i + 1] = n.perf.writeLatencyNs;
  });
  const pt = host.pt;
  const nodeOfChunk = host.frames.nodeOfChunk;
  const base = host.spaces[0].base;
  const mask = RING - 1;
  let time = 0;
  let hints = 0;
  let missing = 0;
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < accesses; i++) {
    const a = ring[i & mask];
    const g = base + (a >>> 1);
    const pte = pt[g];
    if (pte < 0) {
      missing++;
      continue;
    }
    const write = a & 1;
    if ((pte & PTE_PROTNONE) !== 0) hints++;
    pt[g] = pte | PTE_YOUNG | (write !== 0 ? PTE_DIRTY : 0);
    time += lat[(nodeOfChunk[(pte & PTE_PFN_MASK) >>> NODE_CHUNK_SHIFT] << 1) | write];
  }
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  return {
    accesses,
    wall_sec: Math.round(wall * 1000) / 1000,
    cpu_sec: Math.round(cpu * 1000) / 1000,
    cpu_accesses_per_sec: Math.round(accesses / cpu),
    not_resident: missing,
    checksum: time + hints,
  };
}
