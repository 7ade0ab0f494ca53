import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readTiers } from '../../inspect/read-host.js';
import { HostFiles, parseList } from '../../inspect/sysfs.js';
import { InputError } from '../../util/errors.js';
import { TIER_RATIO_FILE, parseTierRatio } from '../../util/tier-ratio-text.js';
import {
  ESRCH,
  type AccessTracking,
  type MappingInfo,
  type MemoryTierInfo,
  type TieringBackend,
} from '../interface.js';
import type { Syscalls } from './syscalls.js';

/** A cgroup the configuration hands to the controller, with its fast:slow ratio ("1:3", "0.25"). */
export interface ManagedCgroup {
  path: string;
  tierRatio: string;
}

/** What the backend writes through (HostWriter: allow-list, journal, dry-run, log). */
export interface BackendWriter {
  write(
    path: string,
    value: string,
    o?: { restorable?: boolean; observe?: boolean; created?: boolean },
  ): void;
}

export interface HostBackendOptions {
  /** '/' on a real host; a fixture tree in tests. Kernel paths are joined under it. */
  root: string;
  syscalls: Syscalls;
  managed: ManagedCgroup[];
  tracking: AccessTracking;
  writer: BackendWriter;
  /** With tracking damon_vaddr: the kdamond that watches the processes. */
  damon?: DamonVaddrTracker;
  /** Told of every move_pages(2) call with nodes, for the `move` event and the metrics. */
  onMove?: (e: MoveCall) => void;
}

/** One move_pages(2) call with nodes, as made (or refused: result -ESRCH, nothing asked of the kernel). */
export interface MoveCall {
  pid: number;
  /** The managed cgroup the pid was seen in. */
  cgroup: string | null;
  /** The destination node of the first page (the controller sends one node per call). */
  node: number;
  pages: number;
  moved: number;
  failed: number;
  /** Pages per errno of their status, or all pages under the call's errno if it failed as a whole. */
  errnos: Record<number, number>;
  result: number;
  /** Wall time of the call, ms. */
  ms: number;
}

import type { DamonVaddrTracker } from './damon-vaddr.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const NODE_DIR = '/sys/devices/system/node';
const PAGE_IDLE_BITMAP = '/sys/kernel/mm/page_idle/bitmap';
/** Words (u64, 64 frames each) of the page_idle bitmap read or written at once: 262144 frames. */
const IDLE_CHUNK_WORDS = 4096;
/**
 * Zero words of the bitmap between two words to write that are written too, saving a call. The
 * kernel ignores zero bits, so this only trades calls for bytes.
 */
export const IDLE_WRITE_GAP_WORDS = 8;
/** Kernel mappings present in every process: nothing of the tenant's to move. */
const SPECIAL_VMAS = new Set(['[vsyscall]', '[vvar]', '[vvar_vclock]', '[vdso]']);

/** A pid as first seen in a managed cgroup's cgroup.procs: its start time tells reuse apart. */
interface SeenProcess {
  startTime: string;
  cgroup: string;
}

/**
 * The TieringBackend of a real Linux host: sysfs for tiers and distances, cgroupfs for the
 * managed cgroups, procfs for processes, the page_idle bitmap or soft-dirty bits for accesses,
 * move_pages(2) through `syscalls`. Everything is read under `root`, so a fixture tree stands in
 * for a host in tests. It sees only the managed cgroups and their descendants, and it moves the
 * pages of a pid only while that pid is the process it saw there (same start time, still in a
 * managed cgroup): pids are reused.
 *
 * Writes: clear_refs goes through the writer (an observation, made in dry-run too). Marking frames
 * in the page_idle bitmap is written here directly: it is binary, at offsets, and is an
 * observation that changes no setting and has nothing to restore.
 */
export class HostBackend implements TieringBackend {
  private readonly files: HostFiles;
  private readonly managed: Map<string, string>;
  private readonly seen = new Map<number, SeenProcess>();
  private readonly distanceRows = new Map<number, number[]>();
  private online: number[] | null = null;
  private pagemapBuf = new Uint8Array(0);
  private readonly idleBytes = new Uint8Array(IDLE_CHUNK_WORDS * 8);
  private readonly idleWords = new Uint32Array(this.idleBytes.buffer);
  private idleFd = -1;

  constructor(private readonly o: HostBackendOptions) {
    this.files = new HostFiles(o.root);
    this.managed = new Map();
    for (const m of o.managed) {
      const p = m.path;
      if (!p.startsWith('/') || path.posix.normalize(p) !== p || p.split('/').includes('..') || p === '/')
        throw new InputError(
          `managed cgroup ${JSON.stringify(p)}: expected an absolute cgroup path below the root, such as "/tenant-a"`,
        );
      const clean = p.endsWith('/') ? p.slice(0, -1) : p;
      parseTierRatio(m.tierRatio, `${clean}: ${TIER_RATIO_FILE}`);
      this.managed.set(clean, m.tierRatio);
    }
  }

  private at(p: string): string {
    return path.join(this.o.root, p);
  }

  /** A kernel file's text, or null if it is absent or unreadable (a process that exited). */
  private read(p: string): string | null {
    try {
      return fs.readFileSync(this.at(p), 'utf8');
    } catch {
      return null;
    }
  }

  /** Whether a cgroup path is a managed cgroup or below one. */
  private inScope(cg: string): boolean {
    for (const m of this.managed.keys()) if (cg === m || cg.startsWith(`${m}/`)) return true;
    return false;
  }

  accessTracking(): AccessTracking {
    return this.o.tracking;
  }

  memoryTiers(): MemoryTierInfo[] {
    return readTiers(this.files)
      .filter((t) => t.nodes.length > 0)
      .map((t) => ({ id: t.tier, nodes: t.nodes }));
  }

  cpuNodes(): number[] {
    return parseList(this.read(`${NODE_DIR}/has_cpu`) ?? '') ?? [];
  }

  /** nodeA/distance has one column per node of the online list, in its order. Read once per node. */
  nodeDistance(a: number, b: number): number {
    if (this.online === null) this.online = parseList(this.read(`${NODE_DIR}/online`) ?? '') ?? [];
    let row = this.distanceRows.get(a);
    if (row === undefined) {
      const text = this.read(`${NODE_DIR}/node${a}/distance`);
      if (text === null) throw new Error(`${NODE_DIR}/node${a}/distance: no such node`);
      row = text.trim().split(/\s+/).map(Number);
      this.distanceRows.set(a, row);
    }
    const i = this.online.indexOf(b);
    if (i < 0 || i >= row.length || !Number.isFinite(row[i]))
      throw new Error(`${NODE_DIR}/node${a}/distance: no column for node ${b}`);
    return row[i];
  }

  /** The managed cgroups that exist now and their descendants, parents before children. */
  cgroups(): string[] {
    const out = new Set<string>();
    for (const m of [...this.managed.keys()].sort()) {
      const queue = [m];
      while (queue.length > 0) {
        const cg = queue.shift() as string;
        if (out.has(cg)) continue;
        let entries: fs.Dirent[];
        try {
          entries = fs.readdirSync(this.at(`${CGROUP_ROOT}${cg}`), { withFileTypes: true });
        } catch {
          continue; // not (or no longer) there
        }
        out.add(cg);
        for (const e of entries.filter((x) => x.isDirectory()).sort((x, y) => (x.name < y.name ? -1 : 1)))
          queue.push(`${cg}/${e.name}`);
      }
    }
    const depth = (p: string) => p.split('/').length;
    return [...out].sort((a, b) => depth(a) - depth(b));
  }

  /**
   * cgroupfs text, except memory.tier_ratio (no kernel has it): the configured ratio for a
   * managed cgroup, "max" for its descendants. Reading cgroup.procs records each pid's start
   * time; pids that exit before that are left out.
   */
  readCgroupFile(cgroup: string, file: string): string {
    if (!this.inScope(cgroup)) throw new Error(`${cgroup}: not a managed cgroup`);
    if (file === TIER_RATIO_FILE) {
      if (!fs.existsSync(this.at(`${CGROUP_ROOT}${cgroup}`))) throw new Error(`${cgroup}: no such cgroup`);
      return `${this.managed.get(cgroup) ?? 'max'}\n`;
    }
    const text = this.read(`${CGROUP_ROOT}${cgroup}/${file}`);
    if (text === null) throw new Error(`${CGROUP_ROOT}${cgroup}/${file}: no such file`);
    if (file !== 'cgroup.procs') return text;
    const pids = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    const listed = new Set(pids);
    for (const [pid, s] of this.seen) if (s.cgroup === cgroup && !listed.has(pid)) this.seen.delete(pid);
    const live: number[] = [];
    for (const pid of pids) {
      const startTime = this.startTime(pid);
      if (startTime === null) {
        this.seen.delete(pid);
        continue;
      }
      this.seen.set(pid, { startTime, cgroup });
      live.push(pid);
    }
    return live.map((p) => `${p}\n`).join('');
  }

  private startTime(pid: number): string | null {
    const t = this.read(`/proc/${pid}/stat`);
    return t === null ? null : parseStartTime(t);
  }

  /**
   * Whether pid is still the process seen in a managed cgroup: the same start time, and its
   * cgroup v2 membership (the "0::" line) still inside the managed trees.
   */
  private stillOurs(pid: number): boolean {
    const s = this.seen.get(pid);
    if (s === undefined || this.startTime(pid) !== s.startTime) return false;
    const line = (this.read(`/proc/${pid}/cgroup`) ?? '').split('\n').find((l) => l.startsWith('0::'));
    return line !== undefined && this.inScope(line.slice(3).trim());
  }

  /** /proc/PID/maps: readable VMAs, kernel-provided ones left out; [] for a process gone. */
  mappings(pid: number): MappingInfo[] {
    const text = this.read(`/proc/${pid}/maps`);
    return text === null ? [] : parseMaps(text);
  }

  numaMapsPolicy(pid: number): string {
    return processPolicy(this.read(`/proc/${pid}/numa_maps`) ?? '');
  }

  /** One read of 8 bytes per page at vpn * 8. A process gone (or unreadable) reads as absent. */
  pagemap(pid: number, start: number, count: number, pfns: Float64Array, softDirty?: Uint8Array): void {
    const bytes = count * 8;
    if (this.pagemapBuf.length < bytes) this.pagemapBuf = new Uint8Array(bytes);
    const buf = this.pagemapBuf;
    let got = 0;
    let fd = -1;
    try {
      fd = fs.openSync(this.at(`/proc/${pid}/pagemap`), 'r');
      while (got < bytes) {
        const n = fs.readSync(fd, buf, got, bytes - got, start * 8 + got);
        if (n === 0) break;
        got += n;
      }
    } catch {
      got = 0;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    buf.fill(0, got, bytes);
    decodePagemap(buf, count, pfns, softDirty);
  }

  private bitmapFd(): number {
    if (this.idleFd < 0) {
      try {
        this.idleFd = fs.openSync(this.at(PAGE_IDLE_BITMAP), 'r+');
      } catch (e) {
        throw new Error(
          `${PAGE_IDLE_BITMAP}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)}); the kernel needs CONFIG_IDLE_PAGE_TRACKING and numatier root`,
        );
      }
    }
    return this.idleFd;
  }

  /** Reads the bitmap a chunk of words at a time around the frames asked for. */
  pageIdleRead(pfns: Float64Array, count: number, idle: Uint8Array): void {
    const fd = this.bitmapFd();
    const words = this.idleWords;
    let base = -1;
    for (let i = 0; i < count; i++) {
      const p = pfns[i];
      idle[i] = 0;
      if (p < 0) continue;
      const w = Math.floor(p / 64);
      if (base < 0 || w < base || w >= base + IDLE_CHUNK_WORDS) {
        base = w;
        const n = fs.readSync(fd, this.idleBytes, 0, this.idleBytes.length, base * 8);
        this.idleBytes.fill(0, n);
      }
      const bit = p % 64;
      idle[i] = (words[2 * (w - base) + (bit >= 32 ? 1 : 0)] >>> (bit % 32)) & 1;
    }
  }

  /**
   * Writes 1 bits for the frames: runs of words that hold some (joined across gaps of at most
   * IDLE_WRITE_GAP_WORDS zero words), so that other frames are touched as little as possible.
   */
  pageIdleMark(pfns: Float64Array, count: number): void {
    const fd = this.bitmapFd();
    const words = this.idleWords;
    let base = -1;
    let lo = IDLE_CHUNK_WORDS;
    let hi = -1;
    const used = (k: number) => words[2 * k] !== 0 || words[2 * k + 1] !== 0;
    const flush = () => {
      let k = lo;
      while (k <= hi) {
        const from = k;
        let last = k;
        for (k++; k <= hi && k - last <= IDLE_WRITE_GAP_WORDS + 1; k++) if (used(k)) last = k;
        fs.writeSync(fd, this.idleBytes, from * 8, (last - from + 1) * 8, (base + from) * 8);
        k = last + 1;
        while (k <= hi && !used(k)) k++;
      }
      words.fill(0);
      lo = IDLE_CHUNK_WORDS;
      hi = -1;
    };
    words.fill(0);
    for (let i = 0; i < count; i++) {
      const p = pfns[i];
      if (p < 0) continue;
      const w = Math.floor(p / 64);
      if (base < 0 || w < base || w >= base + IDLE_CHUNK_WORDS) {
        flush();
        base = w;
      }
      const k = w - base;
      const bit = p % 64;
      words[2 * k + (bit >= 32 ? 1 : 0)] |= 1 << (bit % 32);
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    flush();
  }

  damonSnapshot(pids: number[]): void {
    const t = this.damonTracker();
    // Only processes still in a managed cgroup become targets.
    t.snapshot(pids.filter((p) => this.stillOurs(p)));
  }

  damonWatched(pid: number): boolean {
    return this.o.damon?.watched(pid) ?? false;
  }

  damonIdle(pid: number, start: number, count: number, idle: Uint8Array): void {
    this.damonTracker().idle(pid, start, count, idle);
  }

  private damonTracker(): DamonVaddrTracker {
    if (this.o.damon === undefined)
      throw new Error('HostBackend: tracking damon_vaddr without a DAMON tracker');
    return this.o.damon;
  }

  clearSoftDirty(pid: number): void {
    if (!this.stillOurs(pid)) return; // gone or reused: not ours to touch
    this.o.writer.write(`/proc/${pid}/clear_refs`, '4', { restorable: false, observe: true });
  }

  /** Queries go straight through; a move first re-checks the pid (else -ESRCH, nothing moved). */
  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number {
    if (nodes === null) return this.o.syscalls.movePages(pid, pages, count, nodes, status);
    const t0 = performance.now();
    const r = this.stillOurs(pid) ? this.o.syscalls.movePages(pid, pages, count, nodes, status) : -ESRCH;
    const ms = performance.now() - t0;
    if (this.o.onMove !== undefined) {
      const errnos: Record<number, number> = {};
      let moved = 0;
      // After a failed call the statuses past the offending page are not the kernel's: not counted.
      if (r >= 0)
        for (let i = 0; i < count; i++)
          if (status[i] >= 0) moved++;
          else errnos[-status[i]] = (errnos[-status[i]] ?? 0) + 1;
      else errnos[-r] = count;
      const cgroup = this.seen.get(pid)?.cgroup ?? null;
      this.o.onMove({
        pid,
        cgroup,
        node: nodes[0],
        pages: count,
        moved,
        failed: count - moved,
        errnos,
        result: r,
        ms,
      });
    }
    return r;
  }

  /** Closes the page_idle bitmap if it was opened. */
  close(): void {
    if (this.idleFd >= 0) fs.closeSync(this.idleFd);
    this.idleFd = -1;
  }
}

/** Field 22 of /proc/PID/stat (start time, clock ticks after boot). comm may hold spaces and ")". */
export function parseStartTime(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // Fields after comm start at field 3.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const v = fields[22 - 3];
  return v !== undefined && /^\d+$/.test(v) ? v : null;
}

/** /proc/PID/maps lines "start-end perms offset dev inode [path]": readable, non-kernel VMAs. */
export function parseMaps(text: string): MappingInfo[] {
  const out: MappingInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[3][0] !== 'r' || SPECIAL_VMAS.has(m[4].trim())) continue;
    const start = parseInt(m[1], 16);
    const end = parseInt(m[2], 16);
    // User addresses are below 2^57: page numbers are exact doubles.
    out.push({
      startPage: Math.floor(start / 4096),
      pages: Math.floor((end - start) / 4096),
      fastHint: false,
    });
  }
  return out.filter((x) => x.pages > 0).sort((a, b) => a.startPage - b.startPage);
}

/**
 * The policy of a process from its numa_maps: the policy most of its VMAs show, ties going to
 * the lowest address. A VMA without a policy of its own shows the process's (set_mempolicy), so
 * the majority is the process policy unless most VMAs were mbind()-ed; the controller applies
 * one policy per process, so a minority of VMAs with their own policy is not honoured. No VMA
 * (or a process gone): "default".
 */
export function processPolicy(numaMaps: string): string {
  const counts = new Map<string, number>();
  for (const line of numaMaps.split('\n')) {
    const policy = line.trim().split(/\s+/)[1];
    if (policy !== undefined) counts.set(policy, (counts.get(policy) ?? 0) + 1);
  }
  let best = 'default';
  let most = 0;
  for (const [p, n] of counts)
    if (n > most) {
      best = p;
      most = n;
    }
  return best;
}

/**
 * Decodes pagemap entries (u64 little endian: bit 63 present, bit 55 soft-dirty, bits 0–54 the
 * frame, which reads 0 without CAP_SYS_ADMIN — still present) without a BigInt per page.
 */
export function decodePagemap(
  bytes: Uint8Array,
  count: number,
  pfns: Float64Array,
  softDirty?: Uint8Array,
): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * 8);
  for (let i = 0; i < count; i++) {
    const lo = dv.getUint32(i * 8, true);
    const hi = dv.getUint32(i * 8 + 4, true);
    pfns[i] = hi >>> 31 === 1 ? (hi & 0x7fffff) * 2 ** 32 + lo : -1;
    if (softDirty !== undefined) softDirty[i] = (hi >>> 23) & 1;
  }
}
