import { HostFiles } from '../../inspect/sysfs.js';
import { InputError } from '../../util/errors.js';
import { UserspaceControllerStats, fastPagesOf, topTierNodes } from '../controller.js';
import type { Clock, MemoryTierInfo } from '../interface.js';
import type { HostWriter } from './host-writer.js';
import { PeriodSchedule } from '../period.js';

/**
 * `ratio.strategy: damos`: the kernel moves the pages. One kdamond monitors the physical address
 * space (`paddr`); per steered cgroup one `migrate_cold` scheme demotes that cgroup's cold memory
 * from the fast tier and one `migrate_hot` scheme promotes its hot memory from the slow tier. Each
 * scheme's quota is tuned by the kernel towards a goal of type `user_input`, whose current value
 * this controller writes every period from the cgroup's memory.numa_stat: the slow share for the
 * demoting scheme, the fast share for the promoting one, in basis points. (From Linux 6.19 the goal
 * `node_memcg_used_bp` measures this in the kernel.)
 *
 * Facts this relies on, checked on Debian's 6.12 kernel (docs/control.md): migrate_hot/migrate_cold
 * exist from 6.11 and apply only with paddr there; a paddr target without regions monitors nothing,
 * so the regions are written, one per contiguous run of memory blocks; filters only reject before
 * 6.14, so "only this cgroup" is a memcg filter with `matching` N, and "not the destination tier"
 * is an addr filter per range with `matching` Y; a new scheme's access pattern is 0..0 everywhere
 * until written; kdamonds outlive the process that started them, so starting one is journaled
 * (`nr_kdamonds`, then the kdamond's `state`) and restore turns it off and removes it.
 */

export const DAMON_ADMIN = '/sys/kernel/mm/damon/admin';
export const KDAMONDS = `${DAMON_ADMIN}/kdamonds`;
export const NR_KDAMONDS = `${KDAMONDS}/nr_kdamonds`;
/** The kdamond numatier creates: it only starts where no other kdamond exists. */
export const KDAMOND = '0';
const ULONG_MAX = '18446744073709551615';
const UINT_MAX = '4294967295';
const PAGE = 4096;
/** Basis points: the unit of DAMOS quota goals' values. */
const BP = 10000;
/** migrate_hot/migrate_cold were merged in 6.11. */
const MIN_KERNEL: [number, number] = [6, 11];

export interface DamosOptions {
  periodMs: number;
  /** Cap on what all schemes together may migrate, MB/s (MB = 2^20 bytes). */
  bandwidthMBps: number;
  /** The quotas' charge window; the kernel retunes each quota once per window. */
  resetIntervalMs: number;
  sampleUs: number;
  aggrUs: number;
  /** DAMON's bounds on its region count: more regions see finer, and cost more to sample. */
  minRegions: number;
  maxRegions: number;
  /** A region is cold, so demotable, once unaccessed this long (DAMON's age, in aggregations). */
  minAgeMs: number;
  /** Destination of promotions / demotions; null: chosen from the tiers. */
  promoteNode: number | null;
  demoteNode: number | null;
}

/** A cgroup to hold at a fast share (`memory.tier_ratio` as a fraction in [0, 1]). */
export interface DamosGroup {
  path: string;
  fraction: number;
}

/** [start, end) of physical memory, bytes. */
export interface PhysRange {
  start: number;
  end: number;
}

export interface DamosScheme {
  index: number;
  cgroup: string;
  direction: 'demote' | 'promote';
  action: 'migrate_cold' | 'migrate_hot';
  targetNid: number;
  /** The goal: slow share (demote) or fast share (promote) asked for, basis points. */
  targetBp: number;
}

export interface DamosPlan {
  fastNodes: number[];
  slowNodes: number[];
  fastRanges: PhysRange[];
  slowRanges: PhysRange[];
  schemes: DamosScheme[];
  quotaBytes: number;
}

/** What the controller needs of the host besides DAMON's files (HostBackend has it). */
export interface DamosHost {
  memoryTiers(): MemoryTierInfo[];
  cpuNodes(): number[];
  readCgroupFile(cgroup: string, file: string): string;
}

/** Why this host cannot run the damos strategy (empty: it can). Reads only. */
export function damosRefusals(f: HostFiles): string[] {
  return damonRefusals(f, MIN_KERNEL, 'DAMOS migrate_hot/migrate_cold need');
}

/**
 * Why numatier cannot run a kdamond of its own here: no DAMON sysfs, a kernel older than
 * `minKernel` (`need` says for what), or kdamonds someone else made.
 */
export function damonRefusals(f: HostFiles, minKernel: [number, number], need: string): string[] {
  const out: string[] = [];
  if (!f.isDir(KDAMONDS))
    return [`no DAMON sysfs interface (${KDAMONDS} is absent: a kernel without CONFIG_DAMON_SYSFS)`];
  const release = f.line('/proc/sys/kernel/osrelease') ?? '';
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null || Number(m[1]) * 1000 + Number(m[2]) < minKernel[0] * 1000 + minKernel[1])
    out.push(
      `${need} Linux ${minKernel.join('.')} or later; this kernel is ${release === '' ? 'unknown' : release}`,
    );
  const n = f.int(NR_KDAMONDS);
  if (n !== 0)
    out.push(
      `DAMON already has ${n ?? 'an unreadable number of'} kdamond(s) (${NR_KDAMONDS}): they belong to someone else (damo?), and numatier would have to replace them to add its own; stop and remove them first`,
    );
  return out;
}

/** The physical ranges of a node's memory, as contiguous runs of its memory blocks. */
export function nodeMemoryRanges(f: HostFiles, node: number): PhysRange[] {
  const hex = f.line('/sys/devices/system/memory/block_size_bytes');
  if (hex === null || !/^[0-9a-fA-F]+$/.test(hex))
    throw new InputError(
      '/sys/devices/system/memory/block_size_bytes: expected the memory block size in hex (the damos strategy needs it to tell each node its physical ranges)',
      1,
    );
  const size = parseInt(hex, 16);
  return mergeRanges(
    f
      .list(`/sys/devices/system/node/node${node}`)
      .map((e) => /^memory(\d+)$/.exec(e))
      .filter((m) => m !== null)
      .map((m) => ({ start: Number(m[1]) * size, end: (Number(m[1]) + 1) * size })),
  );
}

/** Schemes, destinations and ranges for the groups on this host's tiers. */
export function planDamos(f: HostFiles, host: DamosHost, groups: DamosGroup[], o: DamosOptions): DamosPlan {
  const tiers = host.memoryTiers();
  const top = topTierNodes(tiers, host.cpuNodes());
  const all = tiers.flatMap((t) => t.nodes);
  const fastNodes = all.filter((n) => top.has(n));
  const slowNodes = all.filter((n) => !top.has(n));
  const cpu = new Set(host.cpuNodes());
  // Promote to a fast node with CPUs (where the tenants run), demote to the nearest slower tier.
  const promoteTo = o.promoteNode ?? fastNodes.find((n) => cpu.has(n)) ?? fastNodes[0];
  const demoteTo = o.demoteNode ?? slowNodes[0];
  if (promoteTo === undefined || demoteTo === undefined)
    throw new InputError('ratio.damos: the host needs a fast and a slow tier', 1);
  if (!fastNodes.includes(promoteTo))
    throw new InputError(
      `ratio.damos.promote_node: node ${promoteTo} is not in the top tier (${fastNodes.join(',')})`,
    );
  if (!slowNodes.includes(demoteTo))
    throw new InputError(
      `ratio.damos.demote_node: node ${demoteTo} is not below the top tier (${slowNodes.join(',') || 'none'})`,
    );
  const schemes: DamosScheme[] = [];
  for (const g of groups) {
    const fastBp = Math.round(g.fraction * BP);
    // A goal of 0 would divide by zero in the kernel's score; a share of 0 needs no such scheme.
    if (fastBp < BP)
      schemes.push({
        index: schemes.length,
        cgroup: g.path,
        direction: 'demote',
        action: 'migrate_cold',
        targetNid: demoteTo,
        targetBp: BP - fastBp,
      });
    if (fastBp > 0)
      schemes.push({
        index: schemes.length,
        cgroup: g.path,
        direction: 'promote',
        action: 'migrate_hot',
        targetNid: promoteTo,
        targetBp: fastBp,
      });
  }
  const ranges = (nodes: number[]): PhysRange[] => mergeRanges(nodes.flatMap((n) => nodeMemoryRanges(f, n)));
  const window = (o.bandwidthMBps * 2 ** 20 * o.resetIntervalMs) / 1000;
  return {
    fastNodes,
    slowNodes,
    fastRanges: ranges(fastNodes),
    slowRanges: ranges(slowNodes),
    schemes,
    // The bandwidth cap is shared by every scheme.
    quotaBytes: Math.max(PAGE, Math.floor(window / Math.max(1, schemes.length) / PAGE) * PAGE),
  };
}

/** Ranges sorted, with overlapping and adjacent ones joined. */
export function mergeRanges(rs: PhysRange[]): PhysRange[] {
  const sorted = [...rs].sort((a, b) => a.start - b.start);
  const out: PhysRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.end >= r.start) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

const kdamond = (k: string): string => `${KDAMONDS}/${k}`;
const context = (k: string): string => `${kdamond(k)}/contexts/0`;
export const schemeDir = (k: string, i: number): string => `${context(k)}/schemes/${i}`;
export const goalFile = (k: string, i: number): string => `${schemeDir(k, i)}/quotas/goals/0/current_value`;
export const stateFile = (k: string): string => `${kdamond(k)}/state`;

/**
 * Every write that configures kdamond `k` after `nr_kdamonds` made it, in an order the kernel
 * accepts: each nr_* file before the directories it creates.
 */
export function kdamondWrites(k: string, plan: DamosPlan, o: DamosOptions): [string, string][] {
  const c = context(k);
  const w: [string, string][] = [
    [`${kdamond(k)}/contexts/nr_contexts`, '1'],
    [`${c}/operations`, 'paddr'],
    [`${c}/monitoring_attrs/intervals/sample_us`, String(o.sampleUs)],
    [`${c}/monitoring_attrs/intervals/aggr_us`, String(o.aggrUs)],
    [`${c}/monitoring_attrs/nr_regions/min`, String(o.minRegions)],
    [`${c}/monitoring_attrs/nr_regions/max`, String(o.maxRegions)],
    [`${c}/targets/nr_targets`, '1'],
  ];
  const regions = mergeRanges([...plan.fastRanges, ...plan.slowRanges]);
  w.push([`${c}/targets/0/regions/nr_regions`, String(regions.length)]);
  regions.forEach((r, i) => {
    w.push([`${c}/targets/0/regions/${i}/start`, String(r.start)]);
    w.push([`${c}/targets/0/regions/${i}/end`, String(r.end)]);
  });
  w.push([`${c}/schemes/nr_schemes`, String(plan.schemes.length)]);
  for (const s of plan.schemes) {
    const d = schemeDir(k, s.index);
    const ap = `${d}/access_pattern`;
    w.push([`${d}/action`, s.action], [`${d}/target_nid`, String(s.targetNid)]);
    w.push([`${ap}/sz/min`, String(PAGE)], [`${ap}/sz/max`, ULONG_MAX]);
    // Demote what was not accessed in the last aggregation interval, promote what was.
    w.push([`${ap}/nr_accesses/min`, s.direction === 'demote' ? '0' : '1']);
    w.push([`${ap}/nr_accesses/max`, s.direction === 'demote' ? '0' : UINT_MAX]);
    w.push([`${ap}/age/min`, UINT_MAX], [`${ap}/age/max`, UINT_MAX]);
    const q = `${d}/quotas`;
    w.push([`${q}/ms`, '0'], [`${q}/bytes`, String(plan.quotaBytes)]);
    w.push([`${q}/reset_interval_ms`, String(o.resetIntervalMs)]);
    // Which regions first when the quota binds: by access frequency and age, not size.
    w.push([`${q}/weights/sz_permil`, '0']);
    w.push([`${q}/weights/nr_accesses_permil`, '100'], [`${q}/weights/age_permil`, '100']);
    w.push([`${q}/goals/nr_goals`, '1']);
    w.push([`${q}/goals/0/target_metric`, 'user_input']);
    w.push([`${q}/goals/0/target_value`, String(s.targetBp)]);
    w.push([`${d}/watermarks/metric`, 'none']);
    // Reject-only filters (before 6.14): everything not of the cgroup, and the destination tier.
    const skip = s.direction === 'demote' ? plan.slowRanges : plan.fastRanges;
    w.push([`${d}/filters/nr_filters`, String(1 + skip.length)]);
    w.push([`${d}/filters/0/type`, 'memcg'], [`${d}/filters/0/memcg_path`, s.cgroup]);
    w.push([`${d}/filters/0/matching`, 'N']);
    skip.forEach((r, i) => {
      const fd = `${d}/filters/${i + 1}`;
      w.push([`${fd}/type`, 'addr'], [`${fd}/addr_start`, String(r.start)]);
      w.push([`${fd}/addr_end`, String(r.end)], [`${fd}/matching`, 'Y']);
    });
  }
  return w;
}

/**
 * The schemes' minimum ages once armed. Until then each scheme matches no region (age min =
 * UINT_MAX): measured on 6.12 in a guest booted minutes before, a scheme's first application came
 * while its effective quota still read 0, which the kernel takes as "no limit" — the whole fast
 * node (512 MiB, the hot buffer included) was tried at once and 136 MB demoted. So the schemes are
 * armed only once every quota reads non-zero. A demoting scheme's minimum age keeps it off memory
 * DAMON has only just started to watch.
 */
export function armingWrites(k: string, plan: DamosPlan, o: DamosOptions): [string, string][] {
  return plan.schemes.map((s) => [
    `${schemeDir(k, s.index)}/access_pattern/age/min`,
    String(s.direction === 'demote' ? Math.ceil((o.minAgeMs * 1000) / o.aggrUs) : 0),
  ]);
}

/**
 * The damos strategy's loop: started once (the kdamond configured and turned on), then each
 * period the measured shares fed to the schemes' goals and the kernel's counts of what it
 * migrated read back. `stats` has the user-space controller's shape, so the log and the metrics
 * are the same for both strategies.
 */
export class DamosController {
  readonly stats = new UserspaceControllerStats();
  private plan: DamosPlan | null = null;
  /** Per scheme, the kernel's counters as last read (for the step log). */
  readonly schemeStats: {
    scheme: number;
    cgroup: string;
    action: string;
    sz_tried: number;
    sz_applied: number;
    qt_exceeds: number;
    effective_bytes: number;
    current_value: number;
  }[] = [];
  private top = new Set<number>();
  private readonly schedule: PeriodSchedule;
  /** Whether the schemes' real access patterns are committed (see armingWrites). */
  armed = false;

  constructor(
    private readonly files: HostFiles,
    private readonly host: DamosHost,
    private readonly writer: HostWriter,
    private readonly clock: Clock,
    private readonly groups: DamosGroup[],
    readonly o: DamosOptions,
    private readonly apply: boolean,
  ) {
    this.schedule = new PeriodSchedule(clock, o.periodMs);
  }

  /** Creates the kdamond, configures it and turns it on (in a dry run: logs all of it). */
  start(): void {
    const refusals = damosRefusals(this.files);
    if (refusals.length > 0) throw new InputError(`refusing to start: ${refusals.join('; ')}`);
    const plan = planDamos(this.files, this.host, this.groups, this.o);
    this.plan = plan;
    this.top = new Set(plan.fastNodes);
    this.writer.write(NR_KDAMONDS, '1');
    for (const [p, v] of kdamondWrites(KDAMOND, plan, this.o))
      this.writer.write(p, v, { restorable: false, created: true });
    // The goals start from a measurement, not from "nothing reached", which would make both
    // quotas grow before the first period.
    this.feed(plan);
    // Journaled: restore writes "off" back before nr_kdamonds goes back to 0.
    this.writer.write(stateFile(KDAMOND), 'on', { created: true });
  }

  poll(): number {
    return this.schedule.poll(() => this.step());
  }

  /** One period: measure each cgroup, feed the goals, read back what the kernel migrated. */
  step(): number {
    const plan = this.plan;
    if (plan === null) throw new Error('DamosController.step before start');
    this.stats.periods++;
    const t0 = this.clock.nowMs();
    this.stats.lastStepMs = t0;
    const state = stateFile(KDAMOND);
    if (this.apply) {
      const s = this.files.line(state);
      if (s === null || s === 'off')
        throw new InputError(
          `${state} reads ${s ?? '(nothing)'}: the kdamond stopped (its kernel log says why)`,
          1,
        );
    }
    this.feed(plan);
    this.writer.write(state, 'commit_schemes_quota_goals', { restorable: false, created: true });
    const moved = this.apply ? this.readApplied(plan) : 0;
    if (this.apply && !this.armed && this.schemeStats.every((x) => x.effective_bytes > 0)) {
      for (const [p, v] of armingWrites(KDAMOND, plan, this.o))
        this.writer.write(p, v, { restorable: false, created: true });
      // `commit` re-reads the inputs and keeps the schemes' quota state (damos_commit_quota).
      this.writer.write(state, 'commit', { restorable: false, created: true });
      this.armed = true;
    }
    this.stats.lastStepDurationMs = this.clock.nowMs() - t0;
    return moved;
  }

  /** Measures each cgroup's shares and writes them to its schemes' goals (not yet committed). */
  private feed(plan: DamosPlan): void {
    for (const g of this.groups) {
      let current: number;
      let fast: number;
      try {
        current = Number(this.host.readCgroupFile(g.path, 'memory.current').trim()) / PAGE;
        fast = fastPagesOf(this.host.readCgroupFile(g.path, 'memory.numa_stat'), this.top);
      } catch {
        continue; // the group went away: its schemes match nothing
      }
      const gs = this.stats.groups.get(g.path) ?? {
        currentPages: 0,
        fastPages: 0,
        quotaPages: 0,
        target: g.fraction,
        demoted: 0,
        promoted: 0,
        failed: 0,
      };
      Object.assign(gs, {
        currentPages: current,
        fastPages: fast,
        quotaPages: Math.ceil(g.fraction * current),
        target: g.fraction,
      });
      this.stats.groups.set(g.path, gs);
      const fastBp = current > 0 ? Math.round((fast / current) * BP) : 0;
      for (const s of plan.schemes.filter((x) => x.cgroup === g.path))
        this.writer.write(
          goalFile(KDAMOND, s.index),
          String(s.direction === 'promote' ? fastBp : BP - fastBp),
          {
            restorable: false,
            created: true,
          },
        );
    }
  }

  /** The kernel's cumulative bytes migrated per scheme → pages by cgroup and direction. */
  private readApplied(plan: DamosPlan): number {
    this.writer.write(stateFile(KDAMOND), 'update_schemes_stats', { restorable: false });
    this.writer.write(stateFile(KDAMOND), 'update_schemes_effective_quotas', { restorable: false });
    let total = 0;
    const per = new Map<string, { demoted: number; promoted: number }>();
    this.schemeStats.length = 0;
    for (const s of plan.schemes) {
      const d = schemeDir(KDAMOND, s.index);
      const bytes = this.files.int(`${d}/stats/sz_applied`) ?? 0;
      this.schemeStats.push({
        scheme: s.index,
        cgroup: s.cgroup,
        action: s.action,
        sz_tried: this.files.int(`${d}/stats/sz_tried`) ?? 0,
        sz_applied: bytes,
        qt_exceeds: this.files.int(`${d}/stats/qt_exceeds`) ?? 0,
        effective_bytes: this.files.int(`${d}/quotas/effective_bytes`) ?? 0,
        current_value: this.files.int(`${d}/quotas/goals/0/current_value`) ?? 0,
      });
      const e = per.get(s.cgroup) ?? { demoted: 0, promoted: 0 };
      if (s.direction === 'demote') e.demoted += bytes / PAGE;
      else e.promoted += bytes / PAGE;
      per.set(s.cgroup, e);
    }
    for (const [cg, e] of per) {
      const gs = this.stats.groups.get(cg);
      if (gs === undefined) continue;
      total += e.demoted - gs.demoted + (e.promoted - gs.promoted);
      this.stats.demotedPages += e.demoted - gs.demoted;
      this.stats.promotedPages += e.promoted - gs.promoted;
      gs.demoted = e.demoted;
      gs.promoted = e.promoted;
    }
    return total;
  }
}
