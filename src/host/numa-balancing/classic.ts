/**
 * Classic NUMA balancing (kernel.numa_balancing bit 0): should a hint-faulted page move toward
 * the faulting CPU's node? The "two-reference rule" with its exceptions.
 *
 * Kernel source: torvalds/linux kernel/sched/fair.c should_numa_migrate_memory() (after the
 * tiering branch), cpupid_valid(), group_faults(), group_faults_cpu(); include/linux/mm.h cpupid
 * helpers. Runs per hint fault: takes one reused input object and does not allocate.
 * Used by the engine for hint faults on top-tier pages (host/numa-tiering.ts) and by the
 * two-reference promotion filter (policies/promotion/two-reference.ts).
 */
import { ACTIVE_NODE_FRACTION, NUMA_BALANCING_MEMORY_TIERING, NUMA_NO_NODE } from './constants.js';
import {
  type CpupidLayout,
  DEFAULT_CPUPID_LAYOUT,
  cpupidMatchPid,
  cpupidPidUnset,
  cpupidToCpu,
  cpupidValid,
} from './cpupid.js';

/** The group fault statistics should_numa_migrate_memory() compares (numa_group ng). */
export interface NumaGroupFaults {
  /** group_faults_cpu(ng, dst_nid) */
  faultsCpuDst: number;
  /** group_faults_cpu(ng, src_nid) */
  faultsCpuSrc: number;
  /** group_faults(p, dst_nid): the group's memory faults on dst */
  faultsMemDst: number;
  /** group_faults(p, src_nid) */
  faultsMemSrc: number;
}

export interface ClassicFaultInput {
  /** kernel.numa_balancing value (bits NORMAL=1, MEMORY_TIERING=2). */
  numaBalancingMode: number;
  /** Node the page is on. */
  srcNid: number;
  /** node_is_toptier(src_nid). */
  srcIsToptier: boolean;
  /** cpu_to_node(dst_cpu): the faulting CPU's node. */
  dstNid: number;
  /** node_state(dst_nid, N_MEMORY). */
  dstHasMemory: boolean;
  /**
   * The page's previous last_cpupid, as returned by folio_xchg_last_cpupid(): the caller
   * stores cpuPidToCpupid(dst_cpu, pid) in the page and passes the value it replaced.
   */
  lastCpupid: number;
  /** nr_cpu_ids. */
  nrCpuIds: number;
  /** cpu_to_node() for every possible CPU. */
  cpuToNode: ArrayLike<number>;
  /** The faulting task p. */
  pid: number;
  /** p->numa_preferred_nid (NUMA_NO_NODE = -1 while unset). */
  numaPreferredNid: number;
  /** p->numa_scan_seq. */
  numaScanSeq: number;
  /** The task's numa_group statistics, or null when it has no group. */
  group: NumaGroupFaults | null;
}

/** cpupid_to_nid(); NUMA_NO_NODE for a cpu field outside the possible CPUs. */
export function cpupidToNid(
  cpupid: number,
  cpuToNode: ArrayLike<number>,
  nrCpuIds: number,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): number {
  const cpu = cpupidToCpu(cpupid, layout);
  return cpu < nrCpuIds && cpu < cpuToNode.length ? cpuToNode[cpu] : NUMA_NO_NODE;
}

/**
 * The non-tiering part of should_numa_migrate_memory(). Also used in tiering mode for faults
 * on top-tier pages. In order:
 * 1. a memoryless destination never gets pages;
 * 2. tiering off, slow-tier page, and a last_cpupid whose cpu field is invalid (a stale scan
 *    time): refuse;
 * 3. early in the task's life (no preferred node yet, or numa_scan_seq <= 4) a first fault
 *    (pid unset) or a fault by the same task migrates at once;
 * 4. two-reference rule: if the previous fault came from a CPU on another node, refuse
 *    (wait for a second fault from the same node);
 * 5. a private fault (same task as last time) migrates;
 * 6. a shared fault with no numa_group migrates;
 * 7. with a group: migrate if group_faults_cpu(dst) > 3 × group_faults_cpu(src), else if
 *    faults_cpu(dst)·faults_mem(src)·3 > faults_cpu(src)·faults_mem(dst)·4.
 */
export function shouldNumaMigrateMemoryClassic(
  input: ClassicFaultInput,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): boolean {
  if (!input.dstHasMemory) return false;
  const last = input.lastCpupid;
  if (
    !(input.numaBalancingMode & NUMA_BALANCING_MEMORY_TIERING) &&
    !input.srcIsToptier &&
    !cpupidValid(last, input.nrCpuIds, layout)
  ) {
    return false;
  }
  const pidUnset = cpupidPidUnset(last, layout);
  const samePid = cpupidMatchPid(input.pid, last, layout);
  if ((input.numaPreferredNid === NUMA_NO_NODE || input.numaScanSeq <= 4) && (pidUnset || samePid))
    return true;
  if (!pidUnset && cpupidToNid(last, input.cpuToNode, input.nrCpuIds, layout) !== input.dstNid) return false;
  if (samePid) return true;
  const ng = input.group;
  if (!ng) return true;
  if (ng.faultsCpuDst > ng.faultsCpuSrc * ACTIVE_NODE_FRACTION) return true;
  return ng.faultsCpuDst * ng.faultsMemSrc * 3 > ng.faultsCpuSrc * ng.faultsMemDst * 4;
}

/** Where pages keep their last_cpupid field (FrameTable's stamp). */
export interface LastCpupidStore {
  stampOf(p: number): number;
  setStamp(p: number, s: number): void;
}

/**
 * should_numa_migrate_memory() for a page that uses last_cpupid (not a slow-tier page in
 * tiering mode), with the field's exchange done where the kernel does it: after the
 * memoryless-destination check, folio_xchg_last_cpupid(folio, this_cpupid) stores the faulting
 * task's cpupid and the value it replaced becomes input.lastCpupid. `thisCpupid` is
 * cpuPidToCpupid(dst_cpu, pid). Every caller of the classic rule goes through this function,
 * so the page's field always holds the kernel's encoding.
 */
export function shouldNumaMigrateMemoryClassicAt(
  store: LastCpupidStore,
  p: number,
  thisCpupid: number,
  input: ClassicFaultInput,
  layout: CpupidLayout = DEFAULT_CPUPID_LAYOUT,
): boolean {
  if (!input.dstHasMemory) return false;
  input.lastCpupid = store.stampOf(p);
  store.setStamp(p, thisCpupid);
  return shouldNumaMigrateMemoryClassic(input, layout);
}
