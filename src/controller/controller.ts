import { TIER_RATIO_FILE, parseTierRatio } from '../util/tier-ratio-text.js';
import {
  EACCES,
  ENOMEM,
  ESRCH,
  type AccessTracking,
  type Clock,
  type MemoryTierInfo,
  type TieringBackend,
} from './interface.js';
import { PeriodSchedule } from './period.js';

/**
 * Idea S12: the "brute force" tiering controller outside the kernel. Each period it reads
 * every group's memory.tier_ratio, memory.current and memory.numa_stat, looks at a window of
 * each member process's pages (pagemap for the frame, move_pages(2) without nodes for its node,
 * the page_idle bitmap — or, where the kernel has none, the soft-dirty bits that clear_refs
 * resets — for "accessed since I last looked"), and then, within a migration
 * bandwidth cap:
 *   - over quota: demotes idle fast pages (busy ones too if idle ones do not suffice: the
 *     ratio comes first) to the nearest slow node;
 *   - under quota: promotes busy slow pages to the nearest fast node, up to the quota;
 *   - at quota: exchanges idle fast pages for busy slow ones.
 * It uses only a TieringBackend and a Clock, so it runs unchanged against a real host's
 * procfs/sysfs/cgroupfs (the ratio strategy `userspace` runs it on the simulated host). Pages a tenant hinted fast are never demoted by it, and a process with a bind policy
 * only has its pages moved between nodes of its mask (docs/ratios.md, precedence). The allocator
 * is not constrained.
 */
export interface UserspaceControllerOptions {
  periodMs: number;
  /** Migration bandwidth cap, MB/s (MB = 2^20 bytes). */
  bandwidthMBps: number;
  /** Pages of each process looked at per period (a window that moves round the address space). */
  scanPages: number;
}

export class UserspaceControllerStats {
  periods = 0;
  /** Clock time of the last period, ms (-1: none yet). */
  lastStepMs = -1;
  scannedPages = 0;
  demotedPages = 0;
  promotedPages = 0;
  failedPages = 0;
  /** Pages that failed to move, by errno (0: no allowed node was left to try). */
  readonly failedByErrno = new Map<number, number>();
  /** Clock time the last step took, ms (0 on the simulator, whose clock stands still in a step). */
  lastStepDurationMs = 0;
  /** Per steered cgroup (one with a ratio), as of its last step. */
  readonly groups = new Map<string, GroupStats>();
}

export interface GroupStats {
  /** memory.current and the fast pages of memory.numa_stat as read at the start of the last step. */
  currentPages: number;
  fastPages: number;
  quotaPages: number;
  /** The fast share asked for, in [0, 1]. */
  target: number;
  /** Cumulative pages moved and failed. */
  demoted: number;
  promoted: number;
  failed: number;
}

interface ProcState {
  cursor: number;
  /**
   * Idle bits are meaningful once every page of the process has been marked once (page_idle),
   * or once its soft-dirty bits have been cleared once (soft_dirty: all set before).
   */
  marked: boolean;
  /**
   * Pages move_pages(2) refused with -EACCES: mapped by other processes too (a shared library's
   * or the program's text), which MPOL_MF_MOVE leaves alone. Left out of later candidates, so
   * they do not take the budget of every period (on a real host they can be most of the
   * oldest, idlest pages).
   */
  shared: Set<number>;
}

interface Candidate {
  pid: number;
  page: number;
  node: number;
  /** The process's bind mask, or null. */
  mask: Set<number> | null;
}

const PAGE = 4096;
/** Keys of memory.numa_stat that are memory charged to the group (bytes), not events or LRU views. */
const CHARGED_KEYS = [
  'anon',
  'file',
  'kernel_stack',
  'pagetables',
  'sec_pagetables',
  'slab_reclaimable',
  'slab_unreclaimable',
];

export class UserspaceController {
  readonly stats = new UserspaceControllerStats();
  private readonly schedule: PeriodSchedule;
  private readonly procs = new Map<number, ProcState>();
  private toptier: Set<number> | null = null;
  private tracking: AccessTracking = 'page_idle';
  /** The steered group's figures while its pages move (failures are counted into it). */
  private current: GroupStats | null = null;
  private fastNodes: number[] = [];
  private slowNodes: number[] = [];
  private buf = {
    pfn: new Float64Array(0),
    page: new Float64Array(0),
    node: new Int32Array(0),
    status: new Int32Array(0),
    idle: new Uint8Array(0),
    dirty: new Uint8Array(0),
  };

  constructor(
    private readonly b: TieringBackend,
    private readonly clock: Clock,
    readonly o: UserspaceControllerOptions,
  ) {
    this.schedule = new PeriodSchedule(clock, o.periodMs);
  }

  /**
   * For a loop that owns its schedule (a real host): runs a period if one is due and returns
   * the ms to wait before the next call. The first period is due one period after the first
   * poll. (The simulator's daemon calls step() on its own timer instead.)
   */
  poll(): number {
    return this.schedule.poll(() => this.step());
  }

  /** node_is_toptier(): tiers down to the slowest one that has a CPU node are the top tier. */
  private initTiers(): void {
    const tiers = this.b.memoryTiers();
    const top = topTierNodes(tiers, this.b.cpuNodes());
    this.toptier = top;
    const all = tiers.flatMap((t) => t.nodes);
    this.fastNodes = all.filter((n) => top.has(n));
    this.slowNodes = all.filter((n) => !top.has(n));
    this.tracking = this.b.accessTracking();
  }

  private ensure(n: number): void {
    if (this.buf.pfn.length >= n) return;
    this.buf = {
      pfn: new Float64Array(n),
      page: new Float64Array(n),
      node: new Int32Array(n),
      status: new Int32Array(n),
      idle: new Uint8Array(n),
      dirty: new Uint8Array(n),
    };
  }

  /** One period: look, then move. Returns pages moved. */
  step(): number {
    if (this.toptier === null) this.initTiers();
    const top = this.toptier as Set<number>;
    this.stats.periods++;
    const t0 = this.clock.nowMs();
    this.stats.lastStepMs = t0;
    const moved = this.steer(top);
    this.stats.lastStepDurationMs = this.clock.nowMs() - t0;
    return moved;
  }

  private steer(top: Set<number>): number {
    let budget = Math.floor(((this.o.bandwidthMBps * 2 ** 20) / PAGE) * (this.o.periodMs / 1000));
    let moved = 0;
    const groups = this.b.cgroups().sort((a, b) => depth(b) - depth(a));
    const all = this.b.cgroups();
    // The groups with a ratio and their members' pids, read once: DAMON's targets are all of them.
    const steered = groups.flatMap((cg) => {
      const text = this.b.readCgroupFile(cg, TIER_RATIO_FILE).trim();
      const r = parseTierRatio(text, `${cg}/${TIER_RATIO_FILE}`).fraction;
      if (r === null) return [];
      const members = all.filter((c) => c === cg || c.startsWith(cg === '/' ? '/' : `${cg}/`));
      return [{ cg, r, pids: members.flatMap((c) => parsePids(this.b.readCgroupFile(c, 'cgroup.procs'))) }];
    });
    if (this.tracking === 'damon_vaddr') this.b.damonSnapshot([...new Set(steered.flatMap((g) => g.pids))]);
    for (const { cg, r, pids } of steered) {
      const current = Number(this.b.readCgroupFile(cg, 'memory.current').trim()) / PAGE;
      const fast = fastPagesOf(this.b.readCgroupFile(cg, 'memory.numa_stat'), top);
      const quota = Math.ceil(Math.round(r * current * 1e9) / 1e9);
      let excess = fast - quota;
      const gs = this.stats.groups.get(cg) ?? {
        currentPages: 0,
        fastPages: 0,
        quotaPages: 0,
        target: r,
        demoted: 0,
        promoted: 0,
        failed: 0,
      };
      Object.assign(gs, { currentPages: current, fastPages: fast, quotaPages: quota, target: r });
      this.stats.groups.set(cg, gs);
      const fastIdle: Candidate[] = [];
      const fastBusy: Candidate[] = [];
      const slowBusy: Candidate[] = [];
      let informed = true;
      for (const pid of pids) {
        const mask = bindMask(this.b.numaMapsPolicy(pid));
        // A bind mask without both tiers leaves nothing to move (the policy wins).
        if (
          mask !== null &&
          (!this.fastNodes.some((n) => mask.has(n)) || !this.slowNodes.some((n) => mask.has(n)))
        )
          continue;
        informed = this.scan(pid, mask, top, fastIdle, fastBusy, slowBusy) && informed;
      }
      const demote: Candidate[] = [];
      const promote: Candidate[] = [];
      if (excess > 0) {
        const want = Math.min(excess, budget);
        demote.push(...fastIdle.splice(0, want));
        if (demote.length < want) demote.push(...fastBusy.splice(0, want - demote.length));
        excess -= demote.length;
      } else if (excess < 0 && informed) {
        promote.push(...slowBusy.splice(0, Math.min(-excess, budget)));
      }
      if (informed) {
        // Exchange: an idle fast page for a busy slow one, two moves each.
        const left = budget - demote.length - promote.length;
        const k = Math.min(fastIdle.length, slowBusy.length, Math.floor(Math.max(0, left) / 2));
        demote.push(...fastIdle.splice(0, k));
        promote.push(...slowBusy.splice(0, k));
      }
      // Demote first so that the promotions find the room.
      this.current = gs;
      const d = this.move(demote, this.slowNodes);
      const p = this.move(promote, this.fastNodes);
      this.current = null;
      this.stats.demotedPages += d;
      this.stats.promotedPages += p;
      gs.demoted += d;
      gs.promoted += p;
      moved += d + p;
      budget -= d + p;
      if (budget <= 0) break;
    }
    return moved;
  }

  /** Looks at one window of a process. Returns whether its idle bits are meaningful yet. */
  private scan(
    pid: number,
    mask: Set<number> | null,
    top: Set<number>,
    fastIdle: Candidate[],
    fastBusy: Candidate[],
    slowBusy: Candidate[],
  ): boolean {
    const maps = this.b.mappings(pid);
    if (maps.length === 0) return true;
    // A real address space is sparse (~2^35 pages): walk runs of adjacent VMAs, skip the gaps.
    const runs: { start: number; end: number }[] = [];
    let total = 0;
    for (const m of maps) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last.end === m.startPage) last.end += m.pages;
      else runs.push({ start: m.startPage, end: m.startPage + m.pages });
      total += m.pages;
    }
    const end = runs[runs.length - 1].end;
    const hinted = maps.filter((m) => m.fastHint);
    let st = this.procs.get(pid);
    if (st === undefined) {
      st = { cursor: runs[0].start, marked: false, shared: new Set() };
      this.procs.set(pid, st);
    }
    const informed = this.tracking === 'damon_vaddr' ? this.b.damonWatched(pid) : st.marked;
    let start = st.cursor >= end ? runs[0].start : st.cursor;
    let left = Math.min(this.o.scanPages, total);
    let r = 0;
    while (left > 0) {
      while (runs[r].end <= start) r++;
      if (start < runs[r].start) start = runs[r].start;
      const n = Math.min(left, runs[r].end - start);
      this.window(pid, mask, start, n, informed, top, hinted, fastIdle, fastBusy, slowBusy);
      left -= n;
      start += n;
      if (start >= end) {
        start = runs[0].start;
        r = 0;
        if (this.tracking === 'page_idle') st.marked = true;
      }
    }
    st.cursor = start;
    if (this.tracking === 'soft_dirty') {
      // clear_refs works on the whole process: once per period, after its window was read.
      this.b.clearSoftDirty(pid);
      st.marked = true;
    }
    return informed;
  }

  private window(
    pid: number,
    mask: Set<number> | null,
    start: number,
    count: number,
    informed: boolean,
    top: Set<number>,
    hinted: { startPage: number; pages: number }[],
    fastIdle: Candidate[],
    fastBusy: Candidate[],
    slowBusy: Candidate[],
  ): void {
    this.ensure(count);
    const { pfn, page, node, status, idle, dirty } = this.buf;
    const shared = this.procs.get(pid)?.shared;
    const softDirty = this.tracking === 'soft_dirty';
    const damon = this.tracking === 'damon_vaddr';
    if (softDirty) this.b.pagemap(pid, start, count, pfn, dirty);
    else this.b.pagemap(pid, start, count, pfn);
    // DAMON's verdict per page, in the same buffer soft-dirty bits use (1 here means idle).
    if (damon && informed) this.b.damonIdle(pid, start, count, dirty);
    // Keep the present pages only.
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (pfn[i] < 0) continue;
      pfn[k] = pfn[i];
      page[k] = start + i;
      if (softDirty) idle[k] = dirty[i] === 1 ? 0 : 1;
      else if (damon) idle[k] = informed ? dirty[i] : 0;
      k++;
    }
    this.stats.scannedPages += k;
    if (k === 0) return;
    // A process that exited meanwhile (-ESRCH): nothing of it to look at.
    if (this.b.movePages(pid, page, k, null, status) < 0) return;
    if (this.tracking === 'page_idle') {
      if (informed) this.b.pageIdleRead(pfn, k, idle);
      this.b.pageIdleMark(pfn, k);
    }
    for (let i = 0; i < k; i++) {
      const nd = status[i];
      if (nd < 0) continue;
      node[i] = nd;
      const v = page[i];
      if (shared !== undefined && shared.has(v)) continue;
      const c = { pid, page: v, node: nd, mask };
      if (top.has(nd)) {
        if (hinted.some((m) => v >= m.startPage && v < m.startPage + m.pages)) continue; // the tenant's hint wins
        if (informed && idle[i] === 1) fastIdle.push(c);
        else fastBusy.push(c);
      } else if (informed && idle[i] === 0) {
        slowBusy.push(c);
      }
    }
  }

  /**
   * Moves each candidate to the nearest of `targets` allowed to it (by distance from its node),
   * one move_pages(2) call per destination node, falling back to the next node for pages that
   * found no room (-ENOMEM) or whose node the call refused (-EACCES: cpuset).
   */
  private move(cands: Candidate[], targets: number[]): number {
    if (cands.length === 0 || targets.length === 0) return 0;
    let moved = 0;
    const byPid = new Map<number, Candidate[]>();
    for (const c of cands) {
      const list = byPid.get(c.pid) ?? [];
      list.push(c);
      byPid.set(c.pid, list);
    }
    for (const [pid, list] of byPid) {
      const orders = list.map((c) =>
        targets
          .filter((n) => c.mask === null || c.mask.has(n))
          .sort((a, b) => this.b.nodeDistance(c.node, a) - this.b.nodeDistance(c.node, b) || a - b),
      );
      let pending = list.map((_, i) => i);
      /** Why each page's last attempt failed, for the count by errno when no node is left. */
      const lastErr = list.map(() => 0);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const next: number[] = [];
        const byNode = new Map<number, number[]>();
        for (const i of pending) {
          if (attempt >= orders[i].length) {
            this.fail(lastErr[i]);
            continue;
          }
          const group = byNode.get(orders[i][attempt]) ?? [];
          group.push(i);
          byNode.set(orders[i][attempt], group);
        }
        for (const [nd, group] of byNode) {
          this.ensure(group.length);
          const { page, node, status } = this.buf;
          group.forEach((i, j) => {
            page[j] = list[i].page;
            node[j] = nd;
          });
          const res = this.b.movePages(pid, page, group.length, node, status);
          if (res === -ESRCH) {
            // Gone, or the pid is another process now: no other node will do better.
            for (let j = 0; j < group.length; j++) this.fail(ESRCH);
            continue;
          }
          if (res < 0) {
            for (const i of group) lastErr[i] = -res;
            next.push(...group); // the whole call was refused: try the next node
            continue;
          }
          group.forEach((i, j) => {
            if (status[j] >= 0) moved++;
            else if (status[j] === -ENOMEM) {
              lastErr[i] = ENOMEM;
              next.push(i);
            } else {
              if (status[j] === -EACCES) this.procs.get(pid)?.shared.add(list[i].page);
              this.fail(-status[j]);
            }
          });
        }
        pending = next;
      }
    }
    return moved;
  }

  private fail(errno: number): void {
    this.stats.failedPages++;
    this.stats.failedByErrno.set(errno, (this.stats.failedByErrno.get(errno) ?? 0) + 1);
    if (this.current !== null) this.current.failed++;
  }
}

/** node_is_toptier(): the nodes of the tiers down to the slowest one that has a CPU node. */
export function topTierNodes(tiers: readonly MemoryTierInfo[], cpuNodes: readonly number[]): Set<number> {
  const cpus = new Set(cpuNodes);
  let last = -1;
  tiers.forEach((t, i) => {
    if (t.nodes.some((n) => cpus.has(n))) last = i;
  });
  const top = new Set<number>();
  tiers.forEach((t, i) => {
    if (i <= last || last < 0) for (const n of t.nodes) top.add(n);
  });
  return top;
}

/** The nodes of a numa_maps "bind…:0-1,4" policy, or null for any other policy. */
export function bindMask(policy: string): Set<number> | null {
  if (!policy.startsWith('bind')) return null;
  const list = policy.slice(policy.lastIndexOf(':') + 1);
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let n = a; n <= (Number.isInteger(b) ? b : a); n++) out.add(n);
  }
  return out;
}

function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
}

/** Fast bytes / 4096 from memory.numa_stat text ("anon N0=… N1=…" lines). */
export function fastPagesOf(numaStatText: string, top: Set<number>): number {
  let bytes = 0;
  for (const line of numaStatText.split('\n')) {
    const [key, ...cols] = line.trim().split(/\s+/);
    if (!CHARGED_KEYS.includes(key)) continue;
    for (const col of cols) {
      const m = /^N(\d+)=(\d+)$/.exec(col);
      if (m && top.has(Number(m[1]))) bytes += Number(m[2]);
    }
  }
  return bytes / PAGE;
}
