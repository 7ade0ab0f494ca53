import { KW } from './kernel-work.js';
import { NODE_CHUNK_SHIFT } from './frames.js';
import { PTE_PFN_MASK, PTE_PROTNONE } from './pte.js';
import type { Host } from './host.js';
import type { Mempolicy } from './mempolicy.js';
import { mpolMigrateOnFault } from './mempolicy.js';
import { MR } from './migration-ledger.js';
import { type ClassicFaultInput, shouldNumaMigrateMemoryClassicAt } from './numa-balancing/classic.js';
import {
  NUMA_BALANCING_MEMORY_TIERING,
  NUMA_BALANCING_NORMAL,
  NUMA_NO_NODE,
  type NumaBalancingTunables,
} from './numa-balancing/constants.js';
import { cpuPidToCpupid } from './numa-balancing/cpupid.js';
import {
  migrateBalancedPgdat,
  newNumaBalancingNodeState,
  type NumaBalancingNodeState,
} from './numa-balancing/promotion.js';
import {
  taskScanMax,
  taskScanMin,
  taskScanStart,
  updateTaskScanPeriod,
  type TaskScanState,
} from './numa-balancing/scan.js';
import { migratePage } from './migrate.js';
import { PROMOTE_KEEP_FLAGS, PROMOTE_KEEP_PTE } from './reclaim.js';
import { VM } from './vmstat.js';
import {
  ACCESS_TIME_MASK,
  NOT_HOT,
  PROMOTE,
  PROMOTE_FREE_SPACE,
  RATE_LIMITED,
  type PromotionFault,
  type PromotionFilter,
} from '../policies/promotion/types.js';
import type { Daemon, HintFaultHandler, Simulation, Task } from '../engine/simulation.js';

/**
 * NUMA balancing on the simulated host: the per-task scanner (task_numa_work marking PTEs
 * PROT_NONE) and the hint-fault path (do_numa_page → mpol_misplaced → the promotion filter →
 * migrate_misplaced_folio). Which pages the scanner marks follows kernel.numa_balancing: with
 * MEMORY_TIERING alone only slow-tier pages; with NORMAL every page off the task's node.
 */
export interface NumaTieringOptions {
  mode: number;
  tunables: NumaBalancingTunables;
  filter: PromotionFilter;
  states: NumaBalancingNodeState[];
  /** Per task: its memory policy (only migrate-on-fault policies are scanned). */
  policies: readonly Mempolicy[];
  /** ns a task pays per PTE the scanner changes (change_prot_numa + TLB flush share). */
  scanPteNs: number;
}

/** Counters of the mechanism itself, beside the kernel's vmstat names. */
export class NumaTieringStats {
  notHot = 0;
  rateLimited = 0;
  promoteFreeSpace = 0;
  /** Promotions refused by migrate_balanced_pgdat (destination not above HIGH + nr). */
  failedWatermark = 0;
  /** Promotions refused by the group's fast-memory quota (host.promotionGate). */
  refusedByQuota = 0;
}

export class NumaTiering implements HintFaultHandler {
  readonly stats = new NumaTieringStats();
  private readonly fault: PromotionFault;
  private readonly classic: ClassicFaultInput;
  private readonly mof: boolean[];
  /** Per task: its memory policy now (mbind or set_mempolicy may change it: setPolicy). */
  private readonly policies: Mempolicy[];
  /**
   * Per task: cpu_pid_to_cpupid(cpu, pid), its cpu being the first CPU of its node (a task is
   * one thread that stays on its node) and its pid the address-space id.
   */
  private readonly cpupid: Int32Array;

  /** Per task: p->numa_faults_locality[] and the private faults since the last placement. */
  readonly locality: [number, number, number][];
  readonly privateFaults: Float64Array;

  constructor(
    private readonly host: Host,
    readonly o: NumaTieringOptions,
  ) {
    this.fault = { host, nowMs: 0, p: 0, src: 0, dst: 0, task: 0, cpupid: 0 };
    this.classic = {
      numaBalancingMode: o.mode,
      srcNid: 0,
      srcIsToptier: true,
      dstNid: 0,
      dstHasMemory: true,
      lastCpupid: 0,
      nrCpuIds: host.nrCpuIds,
      cpuToNode: host.cpuToNode,
      pid: 0,
      // task_numa_placement() is not modelled: p->numa_preferred_nid stays unset, so the rule's
      // early exception holds. For a page only its owner task faults on, which is every page
      // here, the verdict is the same either way (rules 3 and 5 both pass a private fault).
      numaPreferredNid: NUMA_NO_NODE,
      numaScanSeq: 0,
      group: null,
    };
    this.cpupid = Int32Array.from(host.spaces, (as) =>
      cpuPidToCpupid(host.topo.nodes[as.cpuNode].cpus[0] ?? 0, as.id),
    );
    this.policies = [...o.policies];
    this.mof = o.policies.map((p) => mpolMigrateOnFault(p));
    this.locality = o.policies.map(() => [0, 0, 0]);
    this.privateFaults = new Float64Array(o.policies.length);
  }

  /**
   * task_numa_fault(): the statistics task_numa_placement() adapts the scan period from. Slow-tier
   * faults are skipped in tiering mode ("unnecessary for the slow memory node"); each VM is one
   * task, so every fault is private (its last_cpupid is its own).
   */
  private noteFault(t: Task, memNode: number, failed: boolean): void {
    if ((this.o.mode & NUMA_BALANCING_MEMORY_TIERING) !== 0 && !this.host.toptier[memNode]) return;
    const loc = this.locality[t.as.id];
    loc[memNode === t.as.cpuNode ? 1 : 0]++;
    if (failed) loc[2]++;
    this.privateFaults[t.as.id]++;
  }

  /**
   * A new policy for task `task`'s memory (dense node ids), as mbind(2) over its whole range
   * without MPOL_MF_MOVE: pages stay where they are, and hint faults judge them by the new one.
   */
  setPolicy(task: number, pol: Mempolicy): void {
    this.policies[task] = pol;
    this.mof[task] = mpolMigrateOnFault(pol);
  }

  static nodeStates(nodes: number): NumaBalancingNodeState[] {
    return Array.from({ length: nodes }, () => newNumaBalancingNodeState());
  }

  /** One scanner per task. */
  scanners(sim: Simulation): Daemon[] {
    return sim.tasks.map((t) => new NumaScanner(this, t));
  }

  /** The target node of a misplaced page (mpol_misplaced with MPOL_F_MORON), or -1. */
  private target(t: Task): number {
    const pol = this.policies[t.as.id];
    if (!this.mof[t.as.id]) return -1;
    if (pol.mode === 'default') return t.as.cpuNode;
    // bind / preferred_many with MPOL_F_NUMA_BALANCING: only toward a node in the mask.
    return pol.nodes.includes(t.as.cpuNode) ? t.as.cpuNode : -1;
  }

  hintFault(_sim: Simulation, t: Task, p: number): number {
    const host = this.host;
    const fr = host.frames;
    const src = fr.nodeOf(p);
    const memcg = t.as.memcg;
    let cost = host.costs.hintFaultNs;
    t.as.kernelNsBy[KW.hint_faults] += cost;
    host.vmstat.add(memcg, src, VM.numa_hint_faults, 1);
    if (src === t.as.cpuNode) host.vmstat.add(memcg, src, VM.numa_hint_faults_local, 1);
    const dst = this.target(t);
    if (dst < 0) {
      this.noteFault(t, src, false);
      return cost;
    }
    const tiering = (this.o.mode & NUMA_BALANCING_MEMORY_TIERING) !== 0;
    let verdict: number;
    if (!host.toptier[src]) {
      if (dst === src) {
        this.noteFault(t, src, false);
        return cost;
      }
      const f = this.fault;
      f.nowMs = Math.floor(host.now / 1e6);
      f.p = p;
      f.src = src;
      f.dst = dst;
      f.task = t.as.id;
      f.cpupid = this.cpupid[t.as.id];
      const state = this.o.states[dst];
      const candidatesBefore = state.pgpromote_candidate;
      verdict = this.o.filter.decide(f);
      // pgpromote_candidate is the destination node's counter; it is mirrored into vmstat
      // (attributed to the faulting memcg, the kernel keeps it per node only).
      const counted = state.pgpromote_candidate - candidatesBefore;
      if (counted !== 0) host.vmstat.add(memcg, dst, VM.pgpromote_candidate, counted);
    } else {
      // A top-tier page keeps a cpupid in every mode: the kernel's classic rule decides. As in
      // mpol_misplaced(), it runs (and swaps the page's last_cpupid) for a local fault too,
      // which then migrates nowhere.
      const c = this.classic;
      c.srcNid = src;
      c.dstNid = dst;
      c.dstHasMemory = fr.nodePages(dst) > 0;
      c.pid = t.as.id;
      const migrate = shouldNumaMigrateMemoryClassicAt(fr, p, this.cpupid[t.as.id], c);
      if (dst === src) {
        this.noteFault(t, src, false);
        return cost;
      }
      verdict = migrate ? PROMOTE : NOT_HOT;
    }
    if (verdict === NOT_HOT || verdict === RATE_LIMITED) {
      if (verdict === NOT_HOT) this.stats.notHot++;
      else this.stats.rateLimited++;
      this.noteFault(t, src, false);
      return cost;
    }
    if (verdict === PROMOTE_FREE_SPACE) this.stats.promoteFreeSpace++;
    // migrate_misplaced_folio_prepare(): the destination must be above HIGH + nr, else
    // (tiering) kswapd there is woken to make room, and this fault gives up.
    if (!migrateBalancedPgdat(fr.freeCount[dst], host.wmarkHigh[dst], 1)) {
      this.stats.failedWatermark++;
      if (tiering) host.kswapd.wake(dst);
      this.noteFault(t, src, true);
      return cost;
    }
    const promotion = !host.toptier[src] && host.toptier[dst] !== 0;
    const gate = host.promotionGate;
    if (promotion && gate !== null && !gate(memcg, p, dst)) {
      this.stats.refusedByQuota++;
      this.noteFault(t, src, false);
      return cost;
    }
    migratePage(
      host,
      p,
      dst,
      PROMOTE_KEEP_FLAGS,
      promotion ? MR.promote_hint_fault : MR.numa_locality,
      PROMOTE_KEEP_PTE,
    );
    cost += host.costs.migratePageNs;
    t.as.kernelNsBy[KW.hint_migrations] += host.costs.migratePageNs;
    host.vmstat.add(memcg, dst, VM.numa_pages_migrated, 1);
    host.vmstat.add(memcg, dst, VM.pgmigrate_success, 1);
    if (tiering && promotion) host.vmstat.add(memcg, dst, VM.pgpromote_success, 1);
    this.noteFault(t, dst, false);
    return cost;
  }

  /**
   * One task_numa_work() pass over task `t`'s address space; returns PTEs changed. As the
   * kernel: from the saved offset, VMA by VMA (an address space here has two, its anon part
   * and its file tail), change_prot_numa() on ranges of `pages` pages rounded up to a 2 MB
   * boundary; `pages` (scan_size) goes down by a range's whole length when the range had at
   * least one update, `virtpages` (8 × scan_size) by every range's length; the pass stops when
   * either runs out, or at the end of the address space, which resets the offset to 0
   * (reset_ptenuma_scan). So a pass marks every eligible page of about scan_size of address
   * space, after skipping up to 8 × scan_size of ranges with nothing to mark.
   */
  scanOnce(t: Task, nowMs: number, state: { offset: number }): number {
    const host = this.host;
    const fr = host.frames;
    const as = t.as;
    const mode = this.o.mode;
    const record = this.o.filter.recordsScanTime && (mode & NUMA_BALANCING_MEMORY_TIERING) !== 0;
    const skipTopTier = (mode & NUMA_BALANCING_NORMAL) === 0; // tiering only: slow tiers
    // Locals, and PTE updates counted per node and added to vmstat once.
    const pt = host.pt;
    const nodeOfChunk = fr.nodeOfChunk;
    const toptier = host.toptier;
    const cpuNode = as.cpuNode;
    const base = as.base;
    const perNode = this.scanCounts;
    perNode.fill(0);
    const marks = this.marks;
    const time = nowMs & ACCESS_TIME_MASK;
    let pages = this.o.tunables.scan_size * 256; // MB → 4 KiB pages
    let virtpages = pages * 8;
    let start = state.offset;
    let updated = 0;
    let stopped = false;
    for (let vma = 0; vma < 2 && !stopped; vma++) {
      const vmStart = vma === 0 ? 0 : as.anonPages;
      const vmEnd = vma === 0 ? as.anonPages : as.pages;
      if (vmEnd <= vmStart || vmEnd <= start) continue;
      let end: number;
      do {
        start = Math.max(start, vmStart);
        end = Math.min(Math.ceil((start + pages) / HPAGE_PAGES) * HPAGE_PAGES, vmEnd);
        markRange(
          marks,
          pt,
          nodeOfChunk,
          toptier,
          perNode,
          base + start,
          base + end,
          vma,
          cpuNode,
          skipTopTier ? 1 : 0,
        );
        const marked = marks.out[0];
        // numa_hint_fault_latency() needs the scan time in each marked slow-tier frame. The
        // frames are random, so their writes are done together, where their misses overlap.
        if (record) {
          const frames = marks.frames;
          for (let i = 0; i < marks.out[1]; i++) fr.setStamp(frames[i], time);
        }
        updated += marked;
        if (marked > 0) pages -= end - start;
        virtpages -= end - start;
        start = end;
        if (pages <= 0 || virtpages <= 0) {
          stopped = true;
          break;
        }
      } while (end !== vmEnd);
    }
    for (let n = 0; n < perNode.length; n++)
      if (perNode[n] !== 0) host.vmstat.add(as.memcg, n, VM.numa_pte_updates, perNode[n]);
    state.offset = stopped ? start : 0;
    return updated;
  }

  private readonly scanCounts: Int32Array = new Int32Array(256);
  /** markRange()'s results, this host's own. */
  private readonly marks = new MarkScratch();
}

/** task_numa_work() for one task, paced by its scan period. */
class NumaScanner implements Daemon {
  readonly name: string;
  private readonly state = { offset: 0 };
  /** p->numa_scan_period and its bound, as update_task_scan_period() keeps them. */
  private readonly scan: TaskScanState;
  constructor(
    private readonly nt: NumaTiering,
    private readonly task: Task,
  ) {
    this.name = `numa-scan:${task.as.name}`;
    const delay = nt.o.tunables.scan_delay;
    this.scan = {
      numa_scan_period: delay,
      numa_scan_period_max: delay,
      numa_faults_locality: nt.locality[task.as.id],
    };
  }

  start(): number {
    return this.task.clockNs + this.nt.o.tunables.scan_delay * 1e6;
  }

  run(_sim: Simulation, now: number): number {
    const t = this.task;
    if (t.finished || !t.as.alive) return Infinity;
    const before = this.state.offset;
    const updated = this.nt.scanOnce(t, Math.floor(now / 1e6), this.state);
    // The scan runs in the task's context: it pays for the PTE updates.
    const cost = updated * this.nt.o.scanPteNs;
    t.clockNs = Math.max(t.clockNs, now) + cost;
    t.stats.kernelNs += cost;
    t.as.kernelNsBy[KW.numa_scan] += cost;
    const tun = this.nt.o.tunables;
    const rss = t.as.rss();
    if ((this.nt.o.mode & NUMA_BALANCING_NORMAL) === 0) {
      // In pure tiering mode slow-tier faults never reach task_numa_placement(), so the period
      // keeps its start value (SPEC §3.3, derived from task_numa_fault); docs/numa-balancing.md.
      return now + taskScanStart(rss, tun) * 1e6;
    }
    // A pass that wrapped around the address space is a new numa_scan_seq: task_numa_placement()
    // then adapts the period from the faults seen since (update_task_scan_period()).
    if (this.state.offset <= before) {
      const id = t.as.id;
      this.scan.numa_scan_period_max = taskScanMax(rss, tun);
      updateTaskScanPeriod(
        this.scan,
        0,
        this.nt.privateFaults[id],
        taskScanMin(rss, tun),
        this.scan.numa_scan_period_max,
      );
      this.nt.privateFaults[id] = 0;
    }
    return now + this.scan.numa_scan_period * 1e6;
  }
}

/** HPAGE_SIZE in 4 KiB pages: task_numa_work() rounds its ranges up to this boundary. */
const HPAGE_PAGES = 512;
/** Where markRange() leaves what it marked. */
class MarkScratch {
  /** Pages marked by the last markRange() call, and how many of them are on slow tiers. */
  readonly out = new Int32Array(2);
  /** The slow-tier frames the last markRange() call marked (grown on demand). */
  frames = new Int32Array(1 << 16);
}

/**
 * change_prot_numa() on global virtual pages [from, to), all anon or all file pages
 * (`filePart`): marks PROT_NONE every present, unmarked page on a node other than the task's
 * (only slow-tier nodes when `skipTop`), skipping dirty file pages. marks.out[0] = pages marked;
 * the slow-tier ones among them are listed in marks.frames (marks.out[1] of them).
 * Branch-free per PTE: most PTEs walked are left alone, for reasons (not present, already
 * marked, local, top tier) that vary page by page, so branches on them would mispredict.
 */
function markRange(
  marks: MarkScratch,
  pt: Int32Array,
  nodeOfChunk: Uint8Array,
  toptier: Uint8Array,
  perNode: Int32Array,
  from: number,
  to: number,
  filePart: number,
  cpuNode: number,
  skipTop: number,
): void {
  if (marks.frames.length < to - from) marks.frames = new Int32Array(to - from);
  const slowMarked = marks.frames;
  let slow = 0;
  let marked = 0;
  for (let g = from; g < to; g++) {
    const e = pt[g];
    const present = ~e >>> 31;
    // Not present: look up frame 0's node, whatever the PTE's low bits say.
    const p = e & PTE_PFN_MASK & -present;
    const n = nodeOfChunk[p >>> NODE_CHUNK_SHIFT];
    const top = toptier[n];
    const unmarked = ((e >>> 30) & 1) ^ 1; // PTE_PROTNONE is bit 30
    const dirtyFile = (e >>> 29) & filePart; // PTE_DIRTY is bit 29
    const remote = ((n ^ cpuNode) + 255) >>> 8; // n ≠ the (single-threaded) task's node
    const mark = present & unmarked & (dirtyFile ^ 1) & remote & ((skipTop & top) ^ 1);
    if (mark !== 0) {
      pt[g] = e | PTE_PROTNONE;
      slowMarked[slow] = p;
      slow += top ^ 1;
      perNode[n]++;
      marked++;
    }
  }
  marks.out[0] = marked;
  marks.out[1] = slow;
}
