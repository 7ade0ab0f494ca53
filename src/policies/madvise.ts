import type { Daemon } from '../engine/simulation.js';
import type { Placement, PlacementCandidates } from '../host/address-space.js';
import {
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  PF_ACTIVE,
  PF_FILE,
  PF_REFERENCED,
  PF_UNEVICTABLE,
  lruOfFlags,
} from '../host/frames.js';
import type { HostHookSet } from '../host/hooks.js';
import type { Host } from '../host/host.js';
import { MR } from '../host/migration-ledger.js';
import { PTE_FILE_SHADOW } from '../host/pte.js';
import { PROMOTE_KEEP_FLAGS, PROMOTE_KEEP_PTE, demoteMemcg } from '../host/reclaim.js';
import { tierOrdered, type TierRatio } from '../host/tier-ratio.js';
import { VM } from '../host/vmstat.js';
import { InputError } from '../util/errors.js';
import { PAGE_SIZE, parseSize } from '../util/units.js';

/**
 * Tenant hints (idea S5): madvise-style calls a VM makes on ranges of its own memory.
 *   fast     no upstream equivalent (MADV_HOT was proposed and never merged): the range's pages
 *            are placed on fast nodes and kept there (reclaim's keepPage) as long as the group's
 *            hinted fast pages fit its fast quota; resident pages of the range move up at the
 *            call (reason madvise_hint), making room in the quota by demoting unhinted pages.
 *   cold     MADV_COLD (mm/madvise.c madvise_cold_or_pageout_pte_range + mm/swap.c
 *            lru_deactivate): the PTE accessed bit and PG_referenced are cleared and active pages
 *            move to the head of the inactive list. Nothing moves between nodes.
 *   pageout  MADV_PAGEOUT (mm/vmscan.c reclaim_pages → reclaim_folio_list with no_demotion = 1
 *            and references ignored): anon pages go to swap if there is room (else they are
 *            activated, as when add_to_swap fails), file pages are written back if dirty and
 *            dropped. Never demoted.
 * A later cold or pageout on a range removes the fast hint from it (the last call wins).
 * Offsets are within the VM's footprint; the start must be page-aligned and the end is rounded up
 * to a page, as madvise(2) treats start and len.
 */
export const MADVISE_ADVICE = ['fast', 'cold', 'pageout'] as const;
export type MadviseAdvice = (typeof MADVISE_ADVICE)[number];

export interface MadviseCall {
  atNs: number;
  /** Pages [from, to) of the VM's footprint. */
  from: number;
  to: number;
  advice: MadviseAdvice;
}

export interface MadviseInput {
  at_ms?: number;
  range: { from: string; to: string };
  advice: MadviseAdvice;
}

function offsetBytes(v: string, field: string): number {
  return v.trim() === '0' ? 0 : parseSize(v, field);
}

/** Validates a VM's madvise list against its footprint. `field` is e.g. "vms[0].madvise". */
export function resolveMadvise(
  list: readonly MadviseInput[] | undefined,
  footprintPages: number,
  field: string,
): MadviseCall[] {
  return (list ?? []).map((m, i) => {
    const f = `${field}[${i}]`;
    const from = offsetBytes(m.range.from, `${f}.range.from`);
    const to = offsetBytes(m.range.to, `${f}.range.to`);
    if (from % PAGE_SIZE !== 0)
      throw new InputError(
        `${f}.range.from: must be a multiple of 4KiB (madvise needs a page-aligned start), got ${JSON.stringify(m.range.from)}`,
      );
    if (to <= from)
      throw new InputError(
        `${f}.range.to: must be greater than range.from (${m.range.from}), got ${JSON.stringify(m.range.to)}`,
      );
    const toPage = Math.ceil(to / PAGE_SIZE);
    if (toPage > footprintPages) {
      throw new InputError(
        `${f}.range.to: ${m.range.to} is past the end of the VM's footprint (${footprintPages * (PAGE_SIZE / 1024)}KiB)`,
      );
    }
    return { atNs: (m.at_ms ?? 0) * 1e6, from: from / PAGE_SIZE, to: toPage, advice: m.advice };
  });
}

/** What the hints did, for summary.json. */
export class HintStats {
  /** Pages moved up by fast hints, and unhinted pages demoted to make room for them. */
  promoted = 0;
  madeRoom = 0;
  deactivated = 0;
  pagedOut = 0;
  calls = 0;
}

export interface TenantHintsOptions {
  /** The quota hints are kept within (a TierRatio with every group at "max" means no limit). */
  ratio: TierRatio;
  /** Charges `ns` to the task of address space `asId`: madvise runs in the caller's context. */
  chargeTask(asId: number, ns: number): void;
  /** Told of every fast hint before it acts, with the global virtual pages [from, to) it covers. */
  onHint?: (from: number, to: number) => void;
}

/** Recount of hinted fast pages at most this often (simulated ns): reclaim asks per page. */
const RECOUNT_NS = 10e6;

export class TenantHints {
  readonly stats = new HintStats();
  /** demoteMemcg()'s work when a hinted fault makes room (the fault path: no allocation). */
  private readonly roomCost = new Float64Array(1);
  /** 1 for every global virtual page with a fast hint. */
  readonly hinted: Uint8Array;
  private readonly ranges: [number, number][][];
  private readonly hintedFastCache: Float64Array;
  private readonly cacheAt: Float64Array;

  constructor(
    private readonly host: Host,
    private readonly o: TenantHintsOptions,
  ) {
    this.hinted = new Uint8Array(host.pt.length);
    this.ranges = host.spaces.map(() => []);
    this.hintedFastCache = new Float64Array(host.cgroups.count);
    this.cacheAt = new Float64Array(host.cgroups.count).fill(-Infinity);
    o.ratio.onChange(() => this.cacheAt.fill(-Infinity));
  }

  /** Hinted ranges [from, to) of an address space, in its pages, ascending and disjoint. */
  hintedRanges(asId: number): readonly (readonly [number, number])[] {
    return this.ranges[asId];
  }

  /** Hinted pages of `memcg`'s subtree on top-tier nodes (recounted at most every RECOUNT_NS). */
  hintedFast(memcg: number, fresh = false): number {
    const host = this.host;
    if (!fresh && host.now - this.cacheAt[memcg] < RECOUNT_NS) return this.hintedFastCache[memcg];
    let n = 0;
    for (const as of host.spaces) {
      if (!host.cgroups.isDescendant(as.memcg, memcg)) continue;
      for (const [from, to] of this.ranges[as.id]) {
        for (let v = from; v < to; v++) {
          const p = host.pfnAt(as.base + v);
          if (p >= 0 && host.toptier[host.frames.nodeOf(p)] !== 0) n++;
        }
      }
    }
    this.hintedFastCache[memcg] = n;
    this.cacheAt[memcg] = host.now;
    return n;
  }

  /** Whether the hints of `memcg` are within its quota: hinted fast pages ≤ the governing quota. */
  withinQuota(memcg: number, extra = 0): boolean {
    const r = this.o.ratio;
    if (r.exempt[memcg] !== 0) return true;
    const up = r.constrainedAncestors(memcg);
    for (let i = 0; i < up.length; i++) {
      if (this.hintedFast(up[i]) + extra > r.quota(up[i])) return false;
    }
    return true;
  }

  /**
   * The hints' host hooks (level "hints", composed by host/hooks.ts): reclaim's keepPage, and
   * every VM's placement wrapped so that its hinted ranges are served fast tier first.
   */
  hooks(): HostHookSet {
    const host = this.host;
    const hinted = this.hinted;
    const toptier = host.toptier;
    return {
      keepPage: (g, node) =>
        hinted[g] !== 0 && toptier[node] !== 0 && this.withinQuota(host.spaceOf(g).memcg),
      placement: (as, inner) => new HintPlacement(inner, this, host, as.id),
    };
  }

  /** A hinted fault: fast nodes first when the hints fit the quota, making room if needed. */
  placeHinted(asId: number, c: PlacementCandidates): PlacementCandidates {
    const host = this.host;
    const r = this.o.ratio;
    const memcg = host.spaces[asId].memcg;
    if (!this.withinQuota(memcg, 1)) return c;
    if (!r.mayAddFast(memcg) && r.exempt[memcg] === 0) {
      // The quota is full of unhinted pages: demote one (a reclaim batch) to make room, paid by
      // the faulting task through the allocation's cost.
      const g = r.tightest(memcg);
      for (const n of r.fastNodes) {
        this.roomCost[0] = 0;
        const done = demoteMemcg(host, g, n, 1, MR.madvise_hint, this.roomCost);
        host.lastAllocCost += this.roomCost[0];
        this.stats.madeRoom += done;
        if (done > 0) break;
      }
      if (!r.mayAddFast(memcg)) return c;
    }
    for (const up of r.constrainedAncestors(memcg)) this.hintedFastCache[up]++;
    return tierOrdered(c, host.toptier, true);
  }

  /** One madvise call of address space `asId`. Returns the ns the caller spent. */
  madvise(asId: number, call: MadviseCall): number {
    const host = this.host;
    const as = host.spaces[asId];
    this.stats.calls++;
    if (!as.alive) return 0;
    const from = Math.max(0, call.from);
    const to = Math.min(as.pages, call.to);
    let cost = (to - from) * host.costs.scanPageNs;
    if (call.advice === 'fast') {
      this.o.onHint?.(as.base + from, as.base + to);
      this.addRange(asId, from, to);
      cost += this.promoteRange(asId, from, to);
    } else {
      this.removeRange(asId, from, to);
      if (call.advice === 'cold') this.coldRange(asId, from, to);
      else cost += this.pageoutRange(asId, from, to);
    }
    this.cacheAt.fill(-Infinity);
    return cost;
  }

  private addRange(asId: number, from: number, to: number): void {
    const base = this.host.spaces[asId].base;
    this.hinted.fill(1, base + from, base + to);
    const merged: [number, number][] = [];
    for (const [a, b] of [...this.ranges[asId], [from, to] as [number, number]].sort((x, y) => x[0] - y[0])) {
      const last = merged[merged.length - 1];
      if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    this.ranges[asId] = merged;
  }

  private removeRange(asId: number, from: number, to: number): void {
    const base = this.host.spaces[asId].base;
    this.hinted.fill(0, base + from, base + to);
    const out: [number, number][] = [];
    for (const [a, b] of this.ranges[asId]) {
      if (b <= from || a >= to) out.push([a, b]);
      else {
        if (a < from) out.push([a, from]);
        if (b > to) out.push([to, b]);
      }
    }
    this.ranges[asId] = out;
  }

  /** Moves the range's resident slow pages up, within the hints' share of the quota. */
  private promoteRange(asId: number, from: number, to: number): number {
    const host = this.host;
    const r = this.o.ratio;
    const as = host.spaces[asId];
    const memcg = as.memcg;
    // Fast nodes this VM may use, in its own allocation order (policy and cpuset respected).
    const pl = as.placement instanceof HintPlacement ? as.placement.inner : as.placement;
    const c = pl.candidates(from);
    const fastNodes = Int32Array.from(
      new Set([...c.primary, ...(c.secondary ?? [])].filter((n) => host.toptier[n] !== 0)),
    );
    if (fastNodes.length === 0) return 0; // bound to slow nodes: the policy wins
    const slow: number[] = [];
    for (let v = from; v < to; v++) {
      const p = host.pfnAt(as.base + v);
      if (p >= 0 && host.toptier[host.frames.nodeOf(p)] === 0) slow.push(p);
    }
    let want = slow.length;
    // No group above it sets a ratio (a sibling may): nothing to keep the hints within.
    const exempt = r.exempt[memcg] !== 0 || r.governing(memcg) < 0;
    if (!exempt) {
      for (const g of r.constrainedAncestors(memcg))
        want = Math.min(want, Math.max(0, r.quota(g) - this.hintedFast(g, true)));
    }
    const made = new Float64Array(1);
    if (!exempt && want > 0) {
      const g = r.tightest(memcg);
      let short = want - Math.max(0, -r.excess(g));
      for (let i = 0; i < r.fastNodes.length && short > 0; i++) {
        const done = demoteMemcg(host, g, r.fastNodes[i], short, MR.madvise_hint, made);
        this.stats.madeRoom += done;
        short -= done;
      }
    }
    let cost = made[0];
    let moved = 0;
    for (const p of slow) {
      if (moved >= want) break;
      if (!exempt && !r.mayAddFast(memcg)) break;
      const dst = host.pickNode(fastNodes, memcg);
      if (dst < 0) break;
      host.migratePage(p, dst, PROMOTE_KEEP_FLAGS, MR.madvise_hint, PROMOTE_KEEP_PTE);
      host.vmstat.add(memcg, dst, VM.pgmigrate_success, 1);
      cost += host.costs.migratePageNs;
      moved++;
    }
    this.stats.promoted += moved;
    return cost;
  }

  /** MADV_COLD: clear the references, deactivate active pages (head of the inactive list). */
  private coldRange(asId: number, from: number, to: number): void {
    const host = this.host;
    const fr = host.frames;
    const as = host.spaces[asId];
    for (let v = from; v < to; v++) {
      const p = host.pfnAt(as.base + v);
      if (p < 0) continue;
      host.testAndClearYoung(p);
      const f = fr.flagsOf(p);
      if ((f & PF_UNEVICTABLE) !== 0) continue;
      if ((f & PF_ACTIVE) === 0) {
        fr.setFlags(p, f & ~PF_REFERENCED);
        continue;
      }
      const node = fr.nodeOf(p);
      fr.remove(fr.listId(as.memcg, node, lruOfFlags(f)), p);
      fr.setFlags(p, f & ~(PF_ACTIVE | PF_REFERENCED));
      fr.addHead(fr.listId(as.memcg, node, (f & PF_FILE) !== 0 ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON), p);
      host.vmstat.add(as.memcg, node, VM.pgdeactivate, 1);
      this.stats.deactivated++;
    }
  }

  /** MADV_PAGEOUT: reclaim the range now, references ignored, never demoting. */
  private pageoutRange(asId: number, from: number, to: number): number {
    const host = this.host;
    const fr = host.frames;
    const as = host.spaces[asId];
    let cost = 0;
    for (let v = from; v < to; v++) {
      const p = host.pfnAt(as.base + v);
      if (p < 0) continue;
      const f = fr.flagsOf(p);
      if ((f & PF_UNEVICTABLE) !== 0) continue;
      const node = fr.nodeOf(p);
      if ((f & PF_FILE) !== 0) {
        if (host.pageDirty(p)) cost += host.costs.fileWritebackNs;
        host.freeUserPage(p, PTE_FILE_SHADOW);
        this.stats.pagedOut++;
      } else if (host.swapOut(p)) {
        host.vmstat.add(as.memcg, node, VM.pswpout, 1);
        cost += host.costs.swapOutNs;
        this.stats.pagedOut++;
      } else if ((f & PF_ACTIVE) === 0) {
        // add_to_swap() failed: activate_locked.
        fr.remove(fr.listId(as.memcg, node, lruOfFlags(f)), p);
        fr.setFlags(p, f | PF_ACTIVE);
        fr.addHead(fr.listId(as.memcg, node, lruOfFlags(f | PF_ACTIVE)), p);
      }
    }
    return cost;
  }

  /** The calls of every VM as one daemon, in time order; each call is paid by its VM. */
  daemon(calls: readonly (readonly MadviseCall[])[]): Daemon {
    const todo = calls
      .flatMap((list, asId) => list.map((call, i) => ({ asId, call, i })))
      .sort((a, b) => a.call.atNs - b.call.atNs || a.asId - b.asId || a.i - b.i);
    let next = 0;
    return {
      name: 'madvise',
      start: () => (todo.length > 0 ? todo[0].call.atNs : Infinity),
      run: (_sim, now) => {
        while (next < todo.length && todo[next].call.atNs <= now) {
          const { asId, call } = todo[next++];
          const ns = this.madvise(asId, call);
          this.o.chargeTask(asId, ns);
        }
        return next < todo.length ? todo[next].call.atNs : Infinity;
      },
    };
  }
}

/** A VM's placement with its hinted ranges served fast tier first. */
class HintPlacement implements Placement {
  constructor(
    readonly inner: Placement,
    private readonly hints: TenantHints,
    private readonly host: Host,
    private readonly asId: number,
  ) {}

  candidates(ilx: number): PlacementCandidates {
    const c = this.inner.candidates(ilx);
    if (this.hints.hinted[this.host.spaces[this.asId].base + ilx] === 0) return c;
    return this.hints.placeHinted(this.asId, c);
  }
}
