import { InputError } from '../util/errors.js';
import {
  type AccessCoordinate,
  type MemoryClass,
  type NodeSpec,
  type Topology,
  nodeHasCpus,
} from './types.js';

/**
 * Abstract distance of each node, chosen the way the kernel chooses it:
 * explicit value > performance-based (mt_perf_to_adistance via the HMAT/CDAT notifiers) > the
 * default of the driver that onlined the memory.
 */

/** include/linux/memory-tiers.h */
export const MEMTIER_CHUNK_BITS = 7;
export const MEMTIER_CHUNK_SIZE = 1 << MEMTIER_CHUNK_BITS;
export const MEMTIER_ADISTANCE_DRAM = 4 * MEMTIER_CHUNK_SIZE + (MEMTIER_CHUNK_SIZE >> 1);
/** drivers/dax/kmem.c: fallback for memory onlined through dax/kmem (PMEM, CXL). */
export const MEMTIER_DEFAULT_DAX_ADISTANCE = MEMTIER_ADISTANCE_DRAM * 5;

export type AdistanceSource = 'explicit' | 'perf' | 'class-default';

export interface NodeAdistance {
  readonly adistance: number;
  readonly source: AdistanceSource;
}

/** What mt_set_default_dram_perf() ends up with (mm/memory-tiers.c). */
export interface DramPerfReference {
  /** default_dram_perf_ref_nid: the first CPU+DRAM node with performance data, or null. */
  readonly referenceNode: number | null;
  readonly perf: AccessCoordinate | null;
  /** A later DRAM node more than 10 % off the reference: default_dram_perf_error is set. */
  readonly mismatchNode: number | null;
  /** True when performance-based abstract distance can be computed at all. */
  readonly usable: boolean;
}

const U32 = 2n ** 32n;
const u32 = (x: bigint): bigint => ((x % U32) + U32) % U32;
const toInt32 = (x: bigint): number => Number(BigInt.asIntN(32, x));

/**
 * mt_perf_to_adistance(): MEMTIER_ADISTANCE_DRAM * (rl + wl) / (dram rl + wl) * (dram rb + wb) /
 * (rb + wb), evaluated left to right in C unsigned int arithmetic (the access_coordinate fields are
 * unsigned int, so every step wraps modulo 2^32) and stored into an int. Returns null where the
 * kernel returns -EINVAL (a latency or bandwidth sum of zero).
 */
export function mtPerfToAdistance(perf: AccessCoordinate, dram: AccessCoordinate): number | null {
  const lat = u32(BigInt(perf.read_latency) + BigInt(perf.write_latency));
  const bw = u32(BigInt(perf.read_bandwidth) + BigInt(perf.write_bandwidth));
  const dramLat = u32(BigInt(dram.read_latency) + BigInt(dram.write_latency));
  const dramBw = u32(BigInt(dram.read_bandwidth) + BigInt(dram.write_bandwidth));
  if (lat === 0n || bw === 0n || dramLat === 0n) return null;
  let v = u32(BigInt(MEMTIER_ADISTANCE_DRAM) * lat);
  v = v / dramLat;
  v = u32(v * dramBw);
  v = v / bw;
  return toInt32(v);
}

/**
 * The mismatch test of mt_set_default_dram_perf(): abs(perf - ref) * 10 > ref. abs() of an unsigned
 * difference goes through a signed int, and the comparison is done as unsigned.
 */
function differsByMoreThanTenPercent(value: number, ref: number): boolean {
  const diff = (value - ref) | 0;
  const abs = diff < 0 ? -diff | 0 : diff;
  return Math.imul(abs, 10) >>> 0 > ref;
}

/**
 * Memory present at boot (not hot-added through dax/kmem) on a node with CPUs: the kernel's
 * default_dram_nodes = N_MEMORY & N_CPU at memory_tier_init() time.
 */
function isDefaultDramNode(n: NodeSpec): boolean {
  return nodeHasCpus(n) && (n.memoryClass === 'dram' || n.memoryClass === 'hbm');
}

/**
 * hmat_set_default_dram_perf() (drivers/acpi/numa/hmat.c) walks default_dram_nodes in ascending
 * order and calls mt_set_default_dram_perf() for each node that has performance data: the first
 * becomes the reference; any later one off by more than 10 % in one of the four values disables
 * performance-based abstract distance for the whole host.
 */
export function collectDefaultDramPerf(topo: Topology): DramPerfReference {
  let referenceNode: number | null = null;
  let perf: AccessCoordinate | null = null;
  for (const n of topo.nodes) {
    if (!isDefaultDramNode(n) || !n.perf) continue;
    const p = n.perf;
    // Sums are unsigned int; a zero sum is -EINVAL and stops the walk (hmat returns rc).
    if (
      u32(BigInt(p.read_latency) + BigInt(p.write_latency)) === 0n ||
      u32(BigInt(p.read_bandwidth) + BigInt(p.write_bandwidth)) === 0n
    ) {
      break;
    }
    if (perf === null) {
      referenceNode = n.id;
      perf = p;
      continue;
    }
    if (
      differsByMoreThanTenPercent(p.read_latency, perf.read_latency) ||
      differsByMoreThanTenPercent(p.write_latency, perf.write_latency) ||
      differsByMoreThanTenPercent(p.read_bandwidth, perf.read_bandwidth) ||
      differsByMoreThanTenPercent(p.write_bandwidth, perf.write_bandwidth)
    ) {
      return { referenceNode, perf, mismatchNode: n.id, usable: false };
    }
  }
  return { referenceNode, perf, mismatchNode: null, usable: perf !== null };
}

/**
 * Default when no algorithm answers: set_node_memory_tier() uses default_dram_type for boot memory,
 * dev_dax_kmem_probe() uses MEMTIER_DEFAULT_DAX_ADISTANCE for what it onlines. HBM has no default.
 */
export function classDefaultAdistance(memoryClass: MemoryClass): number | null {
  switch (memoryClass) {
    case 'dram':
      return MEMTIER_ADISTANCE_DRAM;
    case 'pmem':
    case 'cxl':
      return MEMTIER_DEFAULT_DAX_ADISTANCE;
    case 'hbm':
      return null;
  }
}

/**
 * Abstract distance of every node. Every node with performance data gets the performance-based
 * value when it can be computed: the HMAT notifier answers mt_calc_adistance() for any memory
 * target, and both set_node_memory_tier() (boot memory, CPU nodes included) and dax/kmem ask it.
 */
export function computeAdistances(topo: Topology): {
  adistances: Map<number, NodeAdistance>;
  dramPerf: DramPerfReference;
} {
  const dramPerf = collectDefaultDramPerf(topo);
  const adistances = new Map<number, NodeAdistance>();
  for (const n of topo.nodes) {
    if (n.adist !== undefined) {
      adistances.set(n.id, { adistance: n.adist, source: 'explicit' });
      continue;
    }
    let why = 'no performance attributes were given';
    if (n.perf) {
      if (!dramPerf.usable || !dramPerf.perf) {
        why =
          dramPerf.mismatchNode !== null
            ? `performance-based abstract distance is disabled (DRAM node ${dramPerf.mismatchNode} differs by more than 10 % from reference node ${dramPerf.referenceNode})`
            : 'there is no reference DRAM performance (no node with CPUs and class "dram" or "hbm" has performance attributes)';
      } else {
        const a = mtPerfToAdistance(n.perf, dramPerf.perf);
        if (a !== null && a < 0) {
          throw new InputError(
            `node ${n.id}: its performance attributes give an abstract distance of ${a} in the kernel's 32-bit arithmetic (mt_perf_to_adistance overflows); give "adist" instead`,
          );
        }
        if (a !== null) {
          adistances.set(n.id, { adistance: a, source: 'perf' });
          continue;
        }
        why = 'the performance-based computation failed';
      }
    }
    const d = classDefaultAdistance(n.memoryClass);
    if (d === null) {
      throw new InputError(
        `node ${n.id}.adist: class "${n.memoryClass}" has no kernel default abstract distance and ${why}; give "adist" or usable read/write latency and bandwidth`,
      );
    }
    adistances.set(n.id, { adistance: d, source: 'class-default' });
  }
  return { adistances, dramPerf };
}
