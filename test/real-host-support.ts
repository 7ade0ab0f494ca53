import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EFAULT, ENODEV, ENOENT, ENOMEM, type Clock } from '../src/controller/interface.js';
import { IDLE_WRITE_GAP_WORDS } from '../src/controller/real/host-backend.js';
import type { Syscalls } from '../src/controller/real/syscalls.js';

/**
 * A fake Linux host as files in a temporary directory, for the real backend (HostBackend) to read
 * with root = that directory: sysfs nodes, tiers and the page_idle bitmap, cgroupfs, and per
 * process maps, numa_maps, stat, cgroup and a binary pagemap. What the kernel would do is done
 * here by hand on the same files: `syscalls` keeps each page's node and frame, and after each
 * move rewrites pagemap and every cgroup's memory.numa_stat; `access` is the MMU (clears the
 * frame's page_idle bit, sets soft-dirty on write); `writer` applies clear_refs "4".
 */
export interface FakeNode {
  id: number;
  cpu: boolean;
  tier: number;
  /** Frames on the node (a move fails with -ENOMEM when none is free). */
  frames: number;
}

export interface FakeVma {
  startPage: number;
  pages: number;
  perms?: string;
  name?: string;
}

interface Page {
  node: number;
  pfn: number;
  dirty: boolean;
}

interface Proc {
  pid: number;
  cgroup: string;
  vmas: FakeVma[];
  policy: string;
  pages: Map<number, Page>;
}

/** Frame numbers of node N start at N * 2^24. */
const FRAMES_PER_NODE = 1 << 24;
/**
 * Frames are handed out far enough apart that no two share a u64 word of the page_idle bitmap,
 * nor a gap HostBackend writes across: the kernel ignores the zero bits written to it, a plain
 * file does not, so nearby frames would clear each other's marks here.
 */
const FRAME_STRIDE = 64 * (IDLE_WRITE_GAP_WORDS + 2);

export class FakeHost {
  readonly root: string;
  readonly procs = new Map<number, Proc>();
  private readonly nextFrame = new Map<number, number>();
  private readonly used = new Map<number, number>();
  readonly writes: { path: string; value: string }[] = [];
  /** move_pages calls with nodes (the fake kernel moved pages on each). */
  moveCalls = 0;
  /** Called before each move_pages query: a test may change the world between scan and move. */
  onQuery: ((pid: number) => void) | null = null;
  now = 0;

  constructor(
    readonly nodes: FakeNode[],
    readonly cgroups: string[],
    o: { distance?: (a: number, b: number) => number } = {},
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-host-'));
    const ids = nodes.map((n) => n.id);
    const dist = o.distance ?? ((a: number, b: number) => (a === b ? 10 : 20));
    this.put('/sys/devices/system/node/online', `${list(ids)}\n`);
    this.put('/sys/devices/system/node/has_cpu', `${list(nodes.filter((n) => n.cpu).map((n) => n.id))}\n`);
    for (const n of nodes) {
      this.put(
        `/sys/devices/system/node/node${n.id}/distance`,
        `${ids.map((b) => dist(n.id, b)).join(' ')}\n`,
      );
      this.nextFrame.set(n.id, n.id * FRAMES_PER_NODE + FRAME_STRIDE + (n.id % FRAME_STRIDE));
      this.used.set(n.id, 0);
    }
    for (const t of [...new Set(nodes.map((n) => n.tier))])
      this.put(
        `/sys/devices/virtual/memory_tiering/memory_tier${t}/nodelist`,
        `${list(nodes.filter((n) => n.tier === t).map((n) => n.id))}\n`,
      );
    this.put('/sys/kernel/mm/page_idle/bitmap', Buffer.alloc(0));
    this.put('/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids\n');
    for (const cg of cgroups) this.put(`/sys/fs/cgroup${cg}/cgroup.procs`, '');
    this.put('/proc/self/status', 'Name:\tnode\nCapEff:\t000001ffffffffff\n');
    this.put('/proc/self/clear_refs', '');
    this.put('/proc/sys/kernel/numa_balancing', '0\n');
    this.put('/sys/kernel/mm/numa/demotion_enabled', 'false\n');
    this.rewriteStats();
  }

  at(p: string): string {
    return path.join(this.root, p);
  }

  put(p: string, data: string | Buffer): void {
    fs.mkdirSync(path.dirname(this.at(p)), { recursive: true });
    fs.writeFileSync(this.at(p), data);
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** A process in a cgroup, its VMAs, and its resident pages with their nodes. */
  addProcess(o: {
    pid: number;
    cgroup: string;
    vmas: FakeVma[];
    resident: [page: number, node: number][];
    policy?: string;
    startTime?: number;
  }): void {
    const p: Proc = {
      pid: o.pid,
      cgroup: o.cgroup,
      vmas: o.vmas,
      policy: o.policy ?? 'default',
      pages: new Map(),
    };
    for (const [v, node] of o.resident) p.pages.set(v, { node, pfn: this.frame(node), dirty: true });
    this.procs.set(o.pid, p);
    const hex = (page: number) => (page * 4096).toString(16).padStart(8, '0');
    this.put(
      `/proc/${o.pid}/maps`,
      o.vmas
        .map(
          (m) =>
            `${hex(m.startPage)}-${hex(m.startPage + m.pages)} ${m.perms ?? 'rw-p'} 00000000 00:00 0  ${m.name ?? ''}\n`,
        )
        .join(''),
    );
    this.put(
      `/proc/${o.pid}/numa_maps`,
      o.vmas.map((m) => `${hex(m.startPage)} ${p.policy} anon=1 kernelpagesize_kB=4\n`).join(''),
    );
    this.setStartTime(o.pid, o.startTime ?? 1000 + o.pid);
    this.setCgroup(o.pid, o.cgroup);
    this.writeProcs();
    this.writePagemap(p);
    this.rewriteStats();
  }

  /** The start time field of /proc/PID/stat (a new process under the same pid changes it). */
  setStartTime(pid: number, t: number): void {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[22 - 3] = String(t);
    this.put(`/proc/${pid}/stat`, `${pid} (tenant) x) ${fields.join(' ')}\n`);
  }

  /** Moves a process to another cgroup (its /proc/PID/cgroup line; cgroup.procs follow). */
  setCgroup(pid: number, cg: string): void {
    this.put(`/proc/${pid}/cgroup`, `0::${cg}\n`);
    const p = this.procs.get(pid);
    if (p !== undefined) p.cgroup = cg;
  }

  private frame(node: number): number {
    const f = this.nextFrame.get(node) as number;
    this.nextFrame.set(node, f + FRAME_STRIDE);
    this.used.set(node, (this.used.get(node) ?? 0) + 1);
    return f;
  }

  private writeProcs(): void {
    for (const cg of this.cgroups)
      this.put(
        `/sys/fs/cgroup${cg}/cgroup.procs`,
        [...this.procs.values()]
          .filter((p) => p.cgroup === cg)
          .map((p) => `${p.pid}\n`)
          .join(''),
      );
  }

  /** Binary /proc/PID/pagemap up to the end of the last VMA: bit 63 present, bit 55 soft-dirty. */
  private writePagemap(p: Proc): void {
    const end = Math.max(0, ...p.vmas.map((m) => m.startPage + m.pages));
    const buf = Buffer.alloc(end * 8);
    for (const [v, pg] of p.pages) {
      buf.writeUInt32LE(pg.pfn % 2 ** 32, v * 8);
      buf.writeUInt32LE(
        ((2 ** 31) | (pg.dirty ? 1 << 23 : 0) | Math.floor(pg.pfn / 2 ** 32)) >>> 0,
        v * 8 + 4,
      );
    }
    this.put(`/proc/${p.pid}/pagemap`, buf);
  }

  /** memory.current and memory.numa_stat of every cgroup, its descendants included. */
  rewriteStats(): void {
    for (const cg of this.cgroups) {
      const per = new Map(this.nodes.map((n) => [n.id, 0]));
      for (const p of this.procs.values())
        if (p.cgroup === cg || p.cgroup.startsWith(`${cg}/`))
          for (const pg of p.pages.values()) per.set(pg.node, (per.get(pg.node) ?? 0) + 4096);
      const cols = (f: (n: number) => number) => this.nodes.map((n) => `N${n.id}=${f(n.id)}`).join(' ');
      this.put(
        `/sys/fs/cgroup${cg}/memory.numa_stat`,
        `anon ${cols((n) => per.get(n) ?? 0)}\nfile ${cols(() => 0)}\n`,
      );
      this.put(`/sys/fs/cgroup${cg}/memory.current`, `${[...per.values()].reduce((a, b) => a + b, 0)}\n`);
    }
  }

  private bitmap(): string {
    return this.at('/sys/kernel/mm/page_idle/bitmap');
  }

  /** The frame's page_idle bit (1: marked and not accessed since). */
  idleBit(pfn: number): number {
    const one = Buffer.alloc(1);
    const fd = fs.openSync(this.bitmap(), 'r');
    const n = fs.readSync(fd, one, 0, 1, Math.floor(pfn / 8));
    fs.closeSync(fd);
    return n === 1 ? (one[0] >> (pfn % 8)) & 1 : 0;
  }

  private setIdleBit(pfn: number, on: boolean): void {
    const one = Buffer.alloc(1);
    const fd = fs.openSync(this.bitmap(), 'r+');
    const at = Math.floor(pfn / 8);
    if (fs.readSync(fd, one, 0, 1, at) === 1 || on) {
      if (on) one[0] |= 1 << (pfn % 8);
      else one[0] &= ~(1 << (pfn % 8));
      fs.writeSync(fd, one, 0, 1, at);
    }
    fs.closeSync(fd);
  }

  /** The process touches a page: the page_idle bit of its frame drops; a write sets soft-dirty. */
  access(pid: number, page: number, write = true): void {
    const p = this.procs.get(pid);
    const pg = p?.pages.get(page);
    if (p === undefined || pg === undefined) return;
    this.setIdleBit(pg.pfn, false);
    if (write && !pg.dirty) {
      pg.dirty = true;
      this.writePagemap(p);
    }
  }

  /** Many pages at once (one pagemap rewrite). */
  accessMany(pid: number, pages: Iterable<number>): void {
    const p = this.procs.get(pid);
    if (p === undefined) return;
    for (const v of pages) {
      const pg = p.pages.get(v);
      if (pg === undefined) continue;
      pg.dirty = true;
      this.setIdleBit(pg.pfn, false);
    }
    this.writePagemap(p);
  }

  nodeOf(pid: number, page: number): number | undefined {
    return this.procs.get(pid)?.pages.get(page)?.node;
  }

  /** Fast pages of a cgroup as memory.numa_stat says. */
  pagesOn(cg: string, node: number): number {
    const t = fs.readFileSync(this.at(`/sys/fs/cgroup${cg}/memory.numa_stat`), 'utf8');
    const m = new RegExp(`^anon .*\\bN${node}=(\\d+)`, 'm').exec(t);
    return m ? Number(m[1]) / 4096 : 0;
  }

  clock(): Clock {
    return { nowMs: () => this.now };
  }

  /** The writer HostBackend writes through: records, and applies clear_refs as the kernel does. */
  readonly writer = {
    write: (p: string, value: string): void => {
      this.writes.push({ path: p, value });
      const m = /^\/proc\/(\d+)\/clear_refs$/.exec(p);
      if (m && value === '4') {
        const proc = this.procs.get(Number(m[1]));
        if (proc === undefined) return;
        for (const pg of proc.pages.values()) pg.dirty = false;
        this.writePagemap(proc);
      }
    },
  };

  private inVma(p: Proc, v: number): boolean {
    return p.vmas.some((m) => v >= m.startPage && v < m.startPage + m.pages);
  }

  /** move_pages(2) as the kernel answers it, on the pages kept here. */
  readonly syscalls: Syscalls = {
    movePages: (pid, pages, count, nodes, status) => {
      const p = this.procs.get(pid);
      if (p === undefined) return -3;
      if (nodes === null) this.onQuery?.(pid);
      else this.moveCalls++;
      let notMoved = 0;
      let changed = false;
      for (let i = 0; i < count; i++) {
        const v = pages[i];
        if (nodes !== null) {
          const dst = this.nodes.find((n) => n.id === nodes[i]);
          if (dst === undefined) {
            if (changed) this.afterMove(p);
            return -ENODEV;
          }
        }
        const pg = p.pages.get(v);
        if (pg === undefined) {
          status[i] = this.inVma(p, v) ? -ENOENT : -EFAULT;
          if (nodes !== null) notMoved++;
          continue;
        }
        if (nodes === null || nodes[i] === pg.node) {
          status[i] = pg.node;
          continue;
        }
        const dst = this.nodes.find((n) => n.id === nodes[i]) as FakeNode;
        if ((this.used.get(dst.id) ?? 0) >= dst.frames) {
          status[i] = -ENOMEM;
          notMoved++;
          continue;
        }
        // migrate: a new frame on the destination; PG_idle goes with the folio.
        const idle = this.idleBit(pg.pfn) === 1;
        this.setIdleBit(pg.pfn, false);
        this.used.set(pg.node, (this.used.get(pg.node) ?? 0) - 1);
        pg.node = dst.id;
        pg.pfn = this.frame(dst.id);
        if (idle) this.setIdleBit(pg.pfn, true);
        status[i] = dst.id;
        changed = true;
      }
      if (changed) this.afterMove(p);
      return notMoved;
    },
  };

  private afterMove(p: Proc): void {
    this.writePagemap(p);
    this.rewriteStats();
  }
}

function list(ids: number[]): string {
  return ids.join(',');
}

/** Node 0 fast with CPUs, node 1 slow and CPU-less, 100000 frames each. */
export const TWO_TIER_NODES: FakeNode[] = [
  { id: 0, cpu: true, tier: 1, frames: 100000 },
  { id: 1, cpu: false, tier: 4, frames: 100000 },
];
export const TENANT_PID = 4242;
/** The tenant's pages: one VMA at page 4096, every page resident on node 0. */
export const TENANT_PAGES = 400;

/** TWO_TIER_NODES with `cgroups` and the tenant process in the first of them. */
export function tenantHost(cgroups: string[] = ['/tenant']): FakeHost {
  const h = new FakeHost(TWO_TIER_NODES, cgroups);
  const resident: [number, number][] = [];
  for (let i = 0; i < TENANT_PAGES; i++) resident.push([4096 + i, 0]);
  h.addProcess({
    pid: TENANT_PID,
    cgroup: cgroups[0],
    vmas: [{ startPage: 4096, pages: TENANT_PAGES }],
    resident,
  });
  return h;
}
