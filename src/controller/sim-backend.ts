import { PF_KERNEL, PF_UNEVICTABLE } from '../host/frames.js';
import type { Host } from '../host/host.js';
import { mpolToStr, type Mempolicy } from '../host/mempolicy.js';
import { MR } from '../host/migration-ledger.js';
import { PROMOTE_KEEP_FLAGS, PROMOTE_KEEP_PTE } from '../host/reclaim.js';
import { TIER_RATIO_FILE, type TierRatio } from '../host/tier-ratio.js';
import { VM } from '../host/vmstat.js';
import { formatNumaStat, numaStat } from '../report/stats.js';
import { PAGE_SIZE } from '../util/units.js';
import {
  EACCES,
  EFAULT,
  ENODEV,
  ENOENT,
  ENOMEM,
  type AccessTracking,
  type MappingInfo,
  type Clock,
  type MemoryTierInfo,
  type TieringBackend,
} from './interface.js';

/** The simulated host's clock. */
export function simClock(host: Host): Clock {
  return { nowMs: () => host.now / 1e6 };
}

/** A process of the simulated host: a VM's address space with its policy and cpuset (dense nodes). */
export interface SimProcess {
  asId: number;
  policy: Mempolicy;
  cpuset: readonly number[] | null;
}

export interface SimBackendOptions {
  processes: readonly SimProcess[];
  ratio: TierRatio | null;
  /** Hinted-fast ranges [from, to) of an address space, in its pages (tenant madvise hints). */
  hintedRanges?: (asId: number) => readonly (readonly [number, number])[];
}

/** migrate_pages keeps a page's LRU state and its PTE's accessed and dirty bits (folio_migrate_flags). */
const MOVE_KEEP_FLAGS = PROMOTE_KEEP_FLAGS | PF_UNEVICTABLE;

/**
 * The controller interface on the simulated host. pid = address-space id + 1. What the kernel
 * keeps per page for idle tracking (PG_idle, PG_young) is kept here per frame, tagged with the
 * owner so a reused frame reads as never marked.
 *
 * One deliberate difference: marking a page idle clears its PTE accessed bit, and the kernel
 * saves that reference in PG_young for reclaim (page_idle_clear_pte_refs_one). The modelled
 * reclaim reads only the PTE bit, so between two controller periods it sees the pages the
 * controller marked as unreferenced.
 */
export class SimTieringBackend implements TieringBackend {
  private readonly idleOwner: Int32Array;
  private readonly pgYoung: Uint8Array;
  private readonly byPid = new Map<number, SimProcess>();
  private readonly denseOf: Map<number, number>;
  private readonly scratchNode = new Int32Array(1);
  /** Pages moved and move_pages failures, for the record. */
  moved = 0;
  failed = 0;

  constructor(
    private readonly host: Host,
    private readonly o: SimBackendOptions,
  ) {
    const total = host.frames.totalFrames;
    this.idleOwner = new Int32Array(total).fill(-1);
    this.pgYoung = new Uint8Array(total);
    for (const p of o.processes) this.byPid.set(p.asId + 1, p);
    this.denseOf = new Map(host.topo.nodes.map((n, i) => [n.id, i]));
  }

  private proc(pid: number): SimProcess {
    const p = this.byPid.get(pid);
    if (p === undefined) throw new Error(`no process ${pid}`);
    return p;
  }

  private nodeId(dense: number): number {
    return this.host.topo.nodes[dense].id;
  }

  /** The model keeps accessed bits and page_idle state per frame; it has no soft-dirty bits. */
  accessTracking(): AccessTracking {
    return 'page_idle';
  }

  clearSoftDirty(pid: number): void {
    throw new Error(`clear_refs of ${pid}: the simulated host tracks accesses with page_idle only`);
  }

  damonSnapshot(): void {
    throw new Error('DAMON: the simulated host tracks accesses with page_idle only');
  }

  damonWatched(): boolean {
    return false;
  }

  damonIdle(pid: number): void {
    throw new Error(`DAMON regions of ${pid}: the simulated host tracks accesses with page_idle only`);
  }

  memoryTiers(): MemoryTierInfo[] {
    const byTier = new Map<number, number[]>();
    for (const n of this.host.topo.nodes) {
      const list = byTier.get(n.tier) ?? [];
      list.push(n.id);
      byTier.set(n.tier, list);
    }
    return [...byTier.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, nodes]) => ({ id, nodes: nodes.sort((a, b) => a - b) }));
  }

  cpuNodes(): number[] {
    return this.host.topo.nodes.filter((n) => n.hasCpu).map((n) => n.id);
  }

  nodeDistance(a: number, b: number): number {
    const da = this.denseOf.get(a);
    const db = this.denseOf.get(b);
    if (da === undefined || db === undefined) throw new Error(`no node ${da === undefined ? a : b}`);
    return this.host.topo.distance[da][db];
  }

  cgroups(): string[] {
    return [...this.host.cgroups.paths];
  }

  readCgroupFile(cgroup: string, file: string): string {
    const host = this.host;
    const c = host.cgroups.idOf(cgroup);
    if (c === undefined) throw new Error(`${cgroup}: no such cgroup`);
    switch (file) {
      case 'memory.current':
        return `${host.cgroups.usage[c] * PAGE_SIZE}\n`;
      case 'memory.numa_stat':
        return formatNumaStat(numaStat(host, c));
      case TIER_RATIO_FILE:
        return `${this.o.ratio?.read(c) ?? 'max'}\n`;
      case 'cgroup.procs':
        return this.o.processes
          .filter((p) => host.spaces[p.asId].alive && host.spaces[p.asId].memcg === c)
          .map((p) => `${p.asId + 1}\n`)
          .join('');
      default:
        throw new Error(`${cgroup}/${file}: no such file`);
    }
  }

  mappings(pid: number): MappingInfo[] {
    const p = this.proc(pid);
    const pages = this.host.spaces[p.asId].pages;
    const hinted = [...(this.o.hintedRanges?.(p.asId) ?? [])].sort((a, b) => a[0] - b[0]);
    const out: MappingInfo[] = [];
    let at = 0;
    for (const [from, to] of hinted) {
      if (from > at) out.push({ startPage: at, pages: from - at, fastHint: false });
      if (to > from) out.push({ startPage: from, pages: to - from, fastHint: true });
      at = Math.max(at, to);
    }
    if (at < pages) out.push({ startPage: at, pages: pages - at, fastHint: false });
    return out;
  }

  numaMapsPolicy(pid: number): string {
    const p = this.proc(pid);
    return mpolToStr({ ...p.policy, nodes: p.policy.nodes.map((n) => this.nodeId(n)) });
  }

  pagemap(pid: number, start: number, count: number, pfns: Float64Array, softDirty?: Uint8Array): void {
    if (softDirty !== undefined)
      throw new Error(`pagemap of ${pid}: the simulated host has no soft-dirty bits`);
    const as = this.host.spaces[this.proc(pid).asId];
    for (let i = 0; i < count; i++) {
      const v = start + i;
      pfns[i] = v >= 0 && v < as.pages ? this.host.pfnAt(as.base + v) : -1;
    }
  }

  /** page_idle_get_page(): only user pages on an LRU list take part in idle tracking. */
  private userPage(p: number): boolean {
    const fr = this.host.frames;
    return p >= 0 && p < fr.totalFrames && fr.rmapOf(p) >= 0 && (fr.flagsOf(p) & PF_KERNEL) === 0;
  }

  pageIdleRead(pfns: Float64Array, count: number, idle: Uint8Array): void {
    const fr = this.host.frames;
    for (let i = 0; i < count; i++) {
      const p = pfns[i];
      idle[i] = 0;
      if (!this.userPage(p) || this.idleOwner[p] !== fr.rmapOf(p)) continue;
      // page_idle_clear_pte_refs(): an accessed mapping clears PG_idle and sets PG_young.
      if (this.host.testAndClearYoung(p)) {
        this.idleOwner[p] = -1;
        this.pgYoung[p] = 1;
        continue;
      }
      idle[i] = 1;
    }
  }

  pageIdleMark(pfns: Float64Array, count: number): void {
    const fr = this.host.frames;
    for (let i = 0; i < count; i++) {
      const p = pfns[i];
      if (!this.userPage(p)) continue;
      if (this.host.testAndClearYoung(p)) this.pgYoung[p] = 1;
      this.idleOwner[p] = fr.rmapOf(p);
    }
  }

  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number {
    const host = this.host;
    const fr = host.frames;
    const proc = this.proc(pid);
    const as = host.spaces[proc.asId];
    const allowed = proc.cpuset === null ? null : new Set(proc.cpuset);
    let notMoved = 0;
    for (let i = 0; i < count; i++) {
      let dst = -1;
      if (nodes !== null) {
        // do_pages_move(): the node is checked before the page, and a bad one ends the call
        // (-ENODEV: not a memory node; -EACCES: outside the task's cpuset mems_allowed).
        const d = this.denseOf.get(nodes[i]);
        if (d === undefined) return -ENODEV;
        if (allowed !== null && !allowed.has(d)) return -EACCES;
        dst = d;
      }
      const v = pages[i];
      const p = v >= 0 && v < as.pages ? host.pfnAt(as.base + v) : -1;
      if (p < 0) {
        status[i] = v >= 0 && v < as.pages ? -ENOENT : -EFAULT;
        if (nodes !== null) notMoved++;
        continue;
      }
      const src = fr.nodeOf(p);
      if (nodes === null || dst === src) {
        status[i] = this.nodeId(src);
        continue;
      }
      // alloc_migration_target() with __GFP_THISNODE: that node or nothing. (The kernel stops
      // at the first batch that fails and returns the pages not moved; here the call goes on.)
      this.scratchNode[0] = dst;
      if (host.pickNode(this.scratchNode, as.memcg) < 0) {
        status[i] = -ENOMEM;
        host.vmstat.add(as.memcg, src, VM.pgmigrate_fail, 1);
        this.failed++;
        notMoved++;
        continue;
      }
      const q = host.migratePage(p, dst, MOVE_KEEP_FLAGS, MR.userspace, PROMOTE_KEEP_PTE);
      // folio_migrate_flags() carries PG_idle and PG_young over to the new folio.
      this.idleOwner[q] = this.idleOwner[p] === fr.rmapOf(q) ? fr.rmapOf(q) : -1;
      this.pgYoung[q] = this.pgYoung[p];
      this.idleOwner[p] = -1;
      this.pgYoung[p] = 0;
      host.vmstat.add(as.memcg, dst, VM.pgmigrate_success, 1);
      this.moved++;
      status[i] = nodes[i];
    }
    return notMoved;
  }
}
