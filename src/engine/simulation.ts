import type { AddressSpace } from '../host/address-space.js';
import { NODE_CHUNK_SHIFT } from '../host/frames.js';
import { PTE_PFN_MASK, PTE_PROTNONE, PTE_YOUNG } from '../host/pte.js';
import type { Host } from '../host/host.js';
import { installHooks, type HookContribution } from '../host/hooks.js';
import type { AccessStream } from '../workloads/types.js';
import { LAT_SCALE, type LatencyModel } from './cost-model.js';
import { EventQueue } from './event-queue.js';
import type { MeasureWindow } from './measure-window.js';

/** Accesses run per scheduling slice of a task; small enough to interleave tasks finely. */
export const CHUNK = 4096;

export interface TaskSpec {
  as: AddressSpace;
  stream: AccessStream;
  /** Memory-level parallelism: outstanding misses the task overlaps (latency is divided by it). */
  mlp: number;
  startNs: number;
}

/**
 * Per-task accounting, plain numbers kept apart from the model (ChampSim style). Kept in a
 * Float64Array behind accessors: plain number fields that start as small integers and later
 * hold fractions change the object's hidden class in V8 and deoptimise the access loop.
 */
export class TaskStats {
  private readonly v = new Float64Array(8);
  readonly hitsByNode: Float64Array;
  constructor(nodes: number) {
    this.hitsByNode = new Float64Array(nodes);
  }
  get accesses(): number {
    return this.v[0];
  }
  set accesses(x: number) {
    this.v[0] = x;
  }
  get reads(): number {
    return this.v[1];
  }
  set reads(x: number) {
    this.v[1] = x;
  }
  get writes(): number {
    return this.v[2];
  }
  set writes(x: number) {
    this.v[2] = x;
  }
  /** Sum of every access's latency, ns (before overlap by mlp): the AMAT numerator. */
  get latencyNs(): number {
    return this.v[3];
  }
  set latencyNs(x: number) {
    this.v[3] = x;
  }
  /** Memory time on the task's clock, ns (latency divided by mlp). */
  get memoryNs(): number {
    return this.v[4];
  }
  set memoryNs(x: number) {
    this.v[4] = x;
  }
  /** Faults, hint faults, direct reclaim, migrations paid by the task, ns. */
  get kernelNs(): number {
    return this.v[5];
  }
  set kernelNs(x: number) {
    this.v[5] = x;
  }
  get computeNs(): number {
    return this.v[6];
  }
  set computeNs(x: number) {
    this.v[6] = x;
  }
  /** The same accesses, all on the local fast node, uncontended, with no kernel work. */
  get idealNs(): number {
    return this.v[7];
  }
  set idealNs(x: number) {
    this.v[7] = x;
  }
}

export class Task {
  readonly as: AddressSpace;
  readonly stream: AccessStream;
  readonly mlp: number;
  readonly buf = new Int32Array(CHUNK);
  pos = 0;
  len = 0;
  finished = false;
  readonly stats: TaskStats;
  /** When the task starts (its VM's start_ms), ns. */
  readonly startNs: number;
  /** Latency from this task's CPU node, indexed (memNode << 1) | isWrite. */
  readonly latTable: Int32Array;
  readonly idealRead: number;
  readonly idealWrite: number;
  /** The task's unmovable kernel memory (dentry/inode caches), whose accesses it also pays. */
  kernelMemory: KernelMemoryAccesses | null = null;
  /** [clock ns, compute ns per access, finish ns]: doubles in a typed array for the same reason as TaskStats. */
  private readonly t = new Float64Array(3);
  constructor(spec: TaskSpec, lat: LatencyModel, nodes: number) {
    this.as = spec.as;
    this.stream = spec.stream;
    this.mlp = spec.mlp;
    this.t[0] = spec.startNs;
    this.startNs = spec.startNs;
    this.stats = new TaskStats(nodes);
    this.latTable = lat.table[spec.as.cpuNode];
    this.idealRead = lat.idealLatency(spec.as.cpuNode, false);
    this.idealWrite = lat.idealLatency(spec.as.cpuNode, true);
  }
  /** The task's own clock, ns. */
  get clockNs(): number {
    return this.t[0];
  }
  set clockNs(x: number) {
    this.t[0] = x;
  }
  get computeNs(): number {
    return this.t[1];
  }
  set computeNs(x: number) {
    this.t[1] = x;
  }
  /** Simulated time at which the task finished (stream ended, or OOM-killed); valid once `finished`. */
  get finishedNs(): number {
    return this.t[2];
  }
  set finishedNs(x: number) {
    this.t[2] = x;
  }
}

/** Kernel-memory accesses a task makes beside its workload's (see kernel-memory.ts). */
export interface KernelMemoryAccesses {
  /** Accounts the kernel-memory accesses that accompany `n` workload accesses; returns ns. */
  accountChunk(t: Task, n: number): number;
}

/** What the NUMA-balancing hint fault does; installed by the promotion mechanism. */
export interface HintFaultHandler {
  /** Handles a hint fault on pfn `p` of `task`; returns the ns the task pays. */
  hintFault(sim: Simulation, task: Task, p: number): number;
}

/** A periodic kernel or user-space actor (scanner, controller, admin action). */
export interface Daemon {
  readonly name: string;
  /** First run time in ns, or Infinity. */
  start(sim: Simulation): number;
  /** Does its work at `now`; returns the next run time, or Infinity. */
  run(sim: Simulation, now: number): number;
}

export interface SimulationOptions {
  durationNs: number;
  sampleIntervalNs: number;
  epochNs: number;
  daemons?: Daemon[];
  hintFaults?: HintFaultHandler | null;
  /** The policies' host hooks; composed with the engine's own once, when the simulation is made. */
  hooks?: readonly HookContribution[];
  /** Called at every sample, in simulated time order. */
  onSample?: (sim: Simulation, now: number) => void;
  /** Called now and then with the fraction done, for progress bars. */
  onProgress?: (fraction: number) => void;
}

type Ev =
  | { kind: 0; task: Task } // task slice
  | { kind: 1; node: number } // kswapd
  | { kind: 2; daemon: Daemon }
  | { kind: 3 } // contention epoch
  | { kind: 4 }; // sample

const PRIO_EPOCH = 0;
const PRIO_KSWAPD = 1;
const PRIO_DAEMON = 2;
const PRIO_TASK = 3;
const PRIO_SAMPLE = 4;

/**
 * The engine: a simulated clock, tasks interleaved by their own clocks, kswapd per node,
 * daemons, contention epochs and sampling — all on one deterministic event queue.
 */
export class Simulation {
  readonly host: Host;
  readonly lat: LatencyModel;
  readonly tasks: Task[];
  readonly opts: SimulationOptions;
  private readonly q = new EventQueue<Ev>();
  now = 0;
  /** kswapd busy time per node, ns (kernel threads' CPU time). */
  readonly kswapdNs: Float64Array;
  /** Reads/writes per node in the current contention epoch, plus migrated bytes. */
  readonly epochReads: Float64Array;
  readonly epochWrites: Float64Array;
  readonly epochMigratedBytes: Float64Array;
  private readonly kswapdQueued: Uint8Array;
  /** Memory-side caches: per node the page held by each slot (-1 empty), hits and misses. */
  readonly sideTags: Int32Array[];
  readonly sideHits: Float64Array;
  readonly sideMisses: Float64Array;
  hintFaults: HintFaultHandler | null;
  /** The measured window, checked after every task slice (scenario build installs it). */
  measure: MeasureWindow | null = null;
  /**
   * Results of one run of the access loop, returned through an array to stay allocation-free;
   * the simulation's own, so that simulations in one process share no state. [0] latency sum
   * (scaled), [1] kernel ns, [2] index reached, [3] sink of the PTE pre-pass (kept so the
   * compiler cannot drop its loads).
   */
  readonly loopOut = new Float64Array(4);
  /** Accesses per (node << 1 | isWrite) in one run of the loop; flushed after it. */
  loopCounts: Int32Array;

  constructor(host: Host, lat: LatencyModel, tasks: TaskSpec[], opts: SimulationOptions) {
    this.host = host;
    this.lat = lat;
    this.opts = opts;
    this.tasks = tasks.map((t) => new Task(t, lat, host.nodes));
    this.kswapdNs = new Float64Array(host.nodes);
    this.epochReads = new Float64Array(host.nodes);
    this.epochWrites = new Float64Array(host.nodes);
    this.epochMigratedBytes = new Float64Array(host.nodes);
    this.kswapdQueued = new Uint8Array(host.nodes);
    this.sideTags = host.topo.nodes.map((n) =>
      new Int32Array(n.sideCache ? n.sideCache.sizePages : 0).fill(-1),
    );
    this.sideHits = new Float64Array(host.nodes);
    this.sideMisses = new Float64Array(host.nodes);
    this.loopCounts = new Int32Array(2 * host.nodes);
    this.hintFaults = opts.hintFaults ?? null;
    installHooks(host, [
      ...(opts.hooks ?? []),
      {
        level: 'kernel',
        by: 'engine',
        hooks: {
          wakeKswapd: (node) => {
            if (this.kswapdQueued[node] === 0) {
              this.kswapdQueued[node] = 1;
              this.q.push(host.now, PRIO_KSWAPD, { kind: 1, node });
            }
          },
          onMigrate: (src, dst) => this.noteMigration(src, dst, 1),
        },
      },
    ]);
  }

  private started = false;
  private ended = false;
  private lastProgress = 0;

  /** Runs until the duration ends or every task finished. */
  run(): void {
    this.runUntil(this.opts.durationNs);
    this.finish();
  }

  /** Queues the first events; runUntil() calls it on first use. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const o = this.opts;
    for (const t of this.tasks) this.q.push(t.clockNs, PRIO_TASK, { kind: 0, task: t });
    for (const d of o.daemons ?? []) {
      const first = d.start(this);
      if (first < Infinity) this.q.push(first, PRIO_DAEMON, { kind: 2, daemon: d });
    }
    this.q.push(o.epochNs, PRIO_EPOCH, { kind: 3 });
    this.q.push(0, PRIO_SAMPLE, { kind: 4 });
  }

  /** Processes events up to simulated time `limitNs` (capped at the duration). */
  runUntil(limitNs: number): void {
    this.start();
    const o = this.opts;
    const limit = Math.min(limitNs, o.durationNs);
    while (!this.ended) {
      const next = this.q.peekTime();
      if (next > limit || this.q.size === 0) break;
      const ev = this.q.pop() as { time: number; item: Ev };
      this.now = ev.time;
      this.host.now = ev.time;
      const it = ev.item;
      switch (it.kind) {
        case 0:
          this.runTask(it.task);
          break;
        case 1:
          this.runKswapd(it.node);
          break;
        case 2: {
          const t = it.daemon.run(this, this.now);
          if (t < Infinity) this.q.push(Math.max(t, this.now), PRIO_DAEMON, it);
          break;
        }
        case 3:
          this.lat.updateContention(this.epochReads, this.epochWrites, this.epochMigratedBytes, o.epochNs);
          this.epochReads.fill(0);
          this.epochWrites.fill(0);
          this.epochMigratedBytes.fill(0);
          this.q.push(this.now + o.epochNs, PRIO_EPOCH, it);
          break;
        case 4:
          o.onSample?.(this, this.now);
          if (this.tasks.every((t) => t.finished)) {
            this.ended = true;
            break;
          }
          this.q.push(this.now + o.sampleIntervalNs, PRIO_SAMPLE, it);
          if (o.onProgress && this.now - this.lastProgress >= o.durationNs / 200) {
            this.lastProgress = this.now;
            o.onProgress(Math.min(1, this.now / o.durationNs));
          }
          break;
      }
    }
  }

  /** Ends the run: the clock stops at the duration (or when every task finished). */
  finish(): void {
    if (!this.ended) {
      this.ended = true;
      this.now = Math.min(this.q.peekTime(), this.opts.durationNs);
      this.host.now = this.now;
      this.opts.onSample?.(this, this.now);
    }
  }

  totalAccesses(): number {
    let s = 0;
    for (const t of this.tasks) s += t.stats.accesses;
    return s;
  }

  /**
   * An access to a node behind a memory-side cache (Optane "memory mode", idea S14): a
   * direct-mapped cache of `sizePages` page-sized slots indexed by the page's offset in the
   * node, as the DRAM cache of memory mode is direct-mapped by physical address. Returns the
   * scaled latency: the cache's on a hit, the backing memory's on a miss (which fills the slot).
   */
  sideCacheAccess(t: Task, p: number, k: number): number {
    const node = k >>> 1;
    const tags = this.sideTags[node];
    const slot = (p - this.host.frames.nodeStart[node]) % tags.length;
    if (tags[slot] === p) {
      this.sideHits[node]++;
      return this.lat.sideTable[t.as.cpuNode][k];
    }
    tags[slot] = p;
    this.sideMisses[node]++;
    return this.lat.missTable[t.as.cpuNode][k];
  }

  /** Extra bytes moved by a migration, for bandwidth contention on both nodes. */
  noteMigration(src: number, dst: number, pages: number): void {
    this.epochMigratedBytes[src] += pages * 4096;
    this.epochMigratedBytes[dst] += pages * 4096;
  }

  private runKswapd(node: number): void {
    this.kswapdQueued[node] = 0;
    const next = this.host.kswapd.run(node, this.kswapdNs);
    if (next < 0) return;
    this.kswapdQueued[node] = 1;
    this.q.push(this.now + next, PRIO_KSWAPD, { kind: 1, node });
  }

  /**
   * Marks `t` finished at `atNs`. When it was the last task running, the run ends right there, with
   * a final sample at that time: rounding the end up to the next sample would credit the run with
   * time in which nothing ran (and skew every rate computed over the run's length).
   */
  private finishTask(t: Task, atNs: number): void {
    t.finished = true;
    t.finishedNs = atNs;
    // Samples come last among events of one time, so this one cannot repeat a sample's time.
    if (this.tasks.every((x) => x.finished)) {
      this.ended = true;
      this.opts.onSample?.(this, this.now);
    }
  }

  private runTask(t: Task): void {
    if (!t.as.alive) {
      // Killed by another task's fault: it ended when the OOM killer chose it.
      this.finishTask(t, t.as.killedAtNs >= 0 ? t.as.killedAtNs : this.now);
      return;
    }
    if (t.pos >= t.len) {
      t.len = t.stream.fill(t.buf, CHUNK);
      t.pos = 0;
      t.computeNs = t.stream.computeNsPerAccess;
      if (t.len === 0) {
        // The task's clock is where its last access ended.
        this.finishTask(t, t.clockNs);
        return;
      }
    }
    const from = t.pos;
    runAccesses(this, t, from, t.len);
    const loopOut = this.loopOut;
    const reached = loopOut[2] | 0;
    const n = reached - from;
    const s = t.stats;
    const memNs = loopOut[0] / LAT_SCALE / t.mlp;
    s.latencyNs += loopOut[0] / LAT_SCALE;
    s.memoryNs += memNs;
    s.kernelNs += loopOut[1];
    s.computeNs += n * t.computeNs;
    t.pos = reached;
    t.clockNs += memNs + loopOut[1] + n * t.computeNs;
    if (t.kernelMemory !== null) t.clockNs += t.kernelMemory.accountChunk(t, n);
    if (this.measure !== null) this.measure.check(t);
    if (!t.as.alive) {
      // Killed by its own fault: the slice stopped there, and its clock says when.
      this.finishTask(t, t.clockNs);
      return;
    }
    this.q.push(t.clockNs, PRIO_TASK, { kind: 0, task: t });
  }
}

/**
 * The hot path: per access, look up the PTE, set the accessed bit (and dirty on writes), take
 * the hint-fault branch if the scanner marked the page, and add the latency of the page's
 * node. Faults and hint faults leave the loop's fast part through function calls.
 */
function runAccesses(sim: Simulation, t: Task, from: number, to: number): void {
  const host = sim.host;
  const pt = host.pt;
  const nodeOfChunk = host.frames.nodeOfChunk;
  const buf = t.buf;
  const base = t.as.base;
  const lt = t.latTable;
  if (sim.loopCounts.length !== lt.length) sim.loopCounts = new Int32Array(lt.length);
  const cnt = sim.loopCounts;
  cnt.fill(0);
  let lat = 0;
  let kernel = 0;
  // First pass: load every PTE of the chunk. These loads are independent, so their cache misses
  // overlap; the main loop, whose iterations wait on each other's branches, then finds them cached.
  // A page the NUMA scanner marked takes a hint fault, which reads its frame's record (the
  // scan time), so that record is loaded here too.
  const fr = host.frames;
  let touch = 0;
  for (let j = from; j < to; j++) {
    const e = pt[base + (buf[j] >>> 1)];
    touch |= e;
    if (e >>> 30 === 1) touch |= fr.metaWord(e & PTE_PFN_MASK); // present and PTE_PROTNONE
  }
  const out = sim.loopOut;
  out[3] = touch;
  let i = from;
  for (; i < to; i++) {
    const a = buf[i];
    const g = base + (a >>> 1);
    let e = pt[g];
    if (e < 0) {
      host.now = t.clockNs + lat / LAT_SCALE / t.mlp + kernel + (i - from) * t.computeNs;
      const c = host.fault(t.as, a >>> 1, (a & 1) !== 0);
      if (c < 0) break; // the task was OOM-killed
      kernel += c;
      e = pt[g];
    }
    if ((e & PTE_PROTNONE) !== 0) {
      host.now = t.clockNs + lat / LAT_SCALE / t.mlp + kernel + (i - from) * t.computeNs;
      pt[g] = e & ~PTE_PROTNONE;
      // A NUMA hint fault is a page fault: handle_mm_fault() → do_numa_page(), then
      // mm_account_fault() counts PGFAULT (never PGMAJFAULT: it is not VM_FAULT_MAJOR).
      host.mmAccountFault(t.as);
      const h = sim.hintFaults;
      if (h !== null) kernel += h.hintFault(sim, t, e & PTE_PFN_MASK);
      e = pt[g];
    }
    // The MMU sets the accessed bit, and the dirty bit on a write (bit 29 = PTE_DIRTY).
    const w = a & 1;
    const set = PTE_YOUNG | (w << 29);
    if ((e & set) !== set) pt[g] = e | set;
    const k = (nodeOfChunk[(e & PTE_PFN_MASK) >>> NODE_CHUNK_SHIFT] << 1) | w;
    const l = lt[k];
    // -1 marks a node behind a memory-side cache: the cache decides hit or miss.
    lat += l >= 0 ? l : sim.sideCacheAccess(t, e & PTE_PFN_MASK, k);
    cnt[k]++;
  }
  const s = t.stats;
  const hits = s.hitsByNode;
  const er = sim.epochReads;
  const ew = sim.epochWrites;
  let writes = 0;
  for (let n = 0; n < hits.length; n++) {
    const r = cnt[n << 1];
    const w = cnt[(n << 1) | 1];
    hits[n] += r + w;
    er[n] += r;
    ew[n] += w;
    writes += w;
  }
  const done = i - from;
  s.accesses += done;
  s.writes += writes;
  s.reads += done - writes;
  s.idealNs += ((done - writes) * t.idealRead + writes * t.idealWrite) / t.mlp + done * t.computeNs;
  out[0] = lat;
  out[1] = kernel;
  out[2] = i;
}
