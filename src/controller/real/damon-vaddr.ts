import type { HostFiles } from '../../inspect/sysfs.js';
import { KDAMONDS, NR_KDAMONDS, mergeRanges, stateFile } from './damos.js';
import type { BackendWriter } from './host-backend.js';

/**
 * `access_tracking: damon_vaddr`: DAMON watches each managed process's virtual address space and
 * the user-space controller reads, once per period, which regions it saw accessed. One kdamond
 * (vaddr operations, one target per process) with one `stat` scheme per target: the scheme
 * matches every region, does nothing to it, and lists the regions it was tried on in its
 * `tried_regions` directory; a `target` filter (matching N: reject other targets' regions)
 * keeps each scheme's list to its own process, since a listed region does not name its target.
 * Unlike soft-dirty bits it sees reads; unlike page_idle it needs no CONFIG_IDLE_PAGE_TRACKING;
 * it is sampled — one page per region per sampling interval — so a region's verdict is its
 * sample's. The kdamond is created through the journal like the damos strategy's, and removed
 * on restore. In a dry run it is not created, and the controller knows nothing of accesses.
 */

const UINT_MAX = '4294967295';
const ULONG_MAX = '18446744073709551615';
const PAGE = 4096;

/** The VMAs of a process (HostBackend.mappings: readable ones, reservations left out). */
export type VmaSource = (pid: number) => { startPage: number; pages: number }[];

/** Regions per target at most: DAMON splits them further, up to its nr_regions max. */
const MAX_TARGET_REGIONS = 256;

export interface DamonVaddrOptions {
  kdamond: string;
  sampleUs: number;
  aggrUs: number;
  /** The controller's period: a region is idle once DAMON has seen it unaccessed this long. */
  periodMs: number;
  apply: boolean;
}

export class DamonVaddrTracker {
  /** The targets as configured, in target index order. */
  private pids: number[] = [];
  /** Per watched pid: [startPage, endPage, busy (0/1)] triples, by start. */
  private readonly regions = new Map<number, Float64Array>();
  private created = false;

  constructor(
    private readonly files: HostFiles,
    private readonly writer: BackendWriter,
    private readonly vmas: VmaSource,
    private readonly o: DamonVaddrOptions,
  ) {}

  private ctx(): string {
    return `${KDAMONDS}/${this.o.kdamond}/contexts/0`;
  }

  /** Makes `pids` the targets (when they changed or the kdamond stopped) and reads the regions. */
  snapshot(pids: number[]): void {
    this.regions.clear();
    if (!this.o.apply) return;
    const want = [...new Set(pids)].sort((a, b) => a - b);
    const state = stateFile(this.o.kdamond);
    // A vaddr kdamond stops by itself once every target has exited.
    const running = this.created && this.files.line(state) === 'on';
    const same = want.length === this.pids.length && want.every((p, i) => p === this.pids[i]);
    if (want.length === 0) return;
    if (!running || !same) this.configure(want, running);
    this.writer.write(state, 'update_schemes_tried_regions', { restorable: false });
    const c = this.ctx();
    this.pids.forEach((pid, i) => {
      const dir = `${c}/schemes/${i}/tried_regions`;
      const ids = this.files
        .list(dir)
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .sort((a, b) => a - b);
      const out = new Float64Array(ids.length * 3);
      let k = 0;
      for (const id of ids) {
        const start = this.files.int(`${dir}/${id}/start`);
        const end = this.files.int(`${dir}/${id}/end`);
        const acc = this.files.int(`${dir}/${id}/nr_accesses`);
        const age = this.files.int(`${dir}/${id}/age`);
        if (start === null || end === null || acc === null || age === null) continue;
        out[k++] = Math.floor(start / PAGE);
        out[k++] = Math.ceil(end / PAGE);
        // Idle only if unaccessed for a whole period, as the other trackers judge: one
        // aggregation's 0 is not enough (measured in the guest: a hot buffer written in passes
        // slower than an aggregation read idle in most regions, and 5121 of its 8193 pages were
        // demoted). `age` counts the aggregations the region has kept its access rate.
        out[k++] = acc > 0 || age * this.o.aggrUs < this.o.periodMs * 1000 ? 1 : 0;
      }
      this.regions.set(pid, out.subarray(0, k));
    });
  }

  watched(pid: number): boolean {
    return this.regions.has(pid);
  }

  /** idle[i] = 1 unless page start + i lies in a region seen accessed. */
  idle(pid: number, start: number, count: number, idle: Uint8Array): void {
    idle.fill(1, 0, count);
    const r = this.regions.get(pid);
    if (r === undefined) return;
    const end = start + count;
    // Regions are sorted and disjoint: find the first that ends after start.
    let lo = 0;
    let hi = r.length / 3;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid * 3 + 1] <= start) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j * 3 < r.length && r[j * 3] < end; j++) {
      if (r[j * 3 + 2] === 0) continue;
      const a = Math.max(start, r[j * 3]);
      const b = Math.min(end, r[j * 3 + 1]);
      idle.fill(0, a - start, b - start);
    }
  }

  /**
   * Writes the targets and their schemes. A first start creates the kdamond (journaled, so
   * restore removes it); a running one takes the new targets on `commit`.
   */
  private configure(pids: number[], running: boolean): void {
    const w = (p: string, v: string): void => this.writer.write(p, v, { restorable: false, created: true });
    const k = `${KDAMONDS}/${this.o.kdamond}`;
    const c = this.ctx();
    if (!this.created) {
      this.writer.write(NR_KDAMONDS, '1');
      w(`${k}/contexts/nr_contexts`, '1');
      // fvaddr, not vaddr: vaddr's own regions span the whole address space, reservations
      // included (measured: a Node.js tenant's 13 regions covered 2^34 pages, its 128 MiB in one
      // of 547 MB, read unaccessed while a 32 MiB buffer in it was written all the time).
      // fvaddr watches the ranges given: the process's mapped areas.
      w(`${c}/operations`, 'fvaddr');
      w(`${c}/monitoring_attrs/intervals/sample_us`, String(this.o.sampleUs));
      w(`${c}/monitoring_attrs/intervals/aggr_us`, String(this.o.aggrUs));
      this.created = true;
    }
    w(`${c}/targets/nr_targets`, String(pids.length));
    pids.forEach((pid, i) => {
      w(`${c}/targets/${i}/pid_target`, String(pid));
      const runs = vmaRuns(this.vmas(pid), MAX_TARGET_REGIONS);
      w(`${c}/targets/${i}/regions/nr_regions`, String(runs.length));
      runs.forEach((r, j) => {
        w(`${c}/targets/${i}/regions/${j}/start`, String(r.start * PAGE));
        w(`${c}/targets/${i}/regions/${j}/end`, String(r.end * PAGE));
      });
    });
    w(`${c}/schemes/nr_schemes`, String(pids.length));
    pids.forEach((_, i) => {
      const d = `${c}/schemes/${i}`;
      const ap = `${d}/access_pattern`;
      w(`${d}/action`, 'stat');
      // A new scheme's ranges are 0..0: open them so every region matches.
      w(`${ap}/sz/min`, '0');
      w(`${ap}/sz/max`, ULONG_MAX);
      w(`${ap}/nr_accesses/min`, '0');
      w(`${ap}/nr_accesses/max`, UINT_MAX);
      w(`${ap}/age/min`, '0');
      w(`${ap}/age/max`, UINT_MAX);
      w(`${d}/filters/nr_filters`, '1');
      w(`${d}/filters/0/type`, 'target');
      w(`${d}/filters/0/damon_target_idx`, String(i));
      w(`${d}/filters/0/matching`, 'N');
    });
    this.pids = pids;
    // `on` is journaled (restore writes "off" back); later changes are committed online.
    if (running) w(stateFile(this.o.kdamond), 'commit');
    else this.writer.write(stateFile(this.o.kdamond), 'on', { created: true });
  }
}

/**
 * Adjacent VMAs as runs of pages, at most `max` of them: the smallest gaps are closed first (a
 * closed gap is watched but holds no page, so it costs samples, not verdicts).
 */
export function vmaRuns(
  vmas: { startPage: number; pages: number }[],
  max: number,
): { start: number; end: number }[] {
  const runs = mergeRanges(vmas.map((v) => ({ start: v.startPage, end: v.startPage + v.pages })));
  while (runs.length > max) {
    let best = 0;
    for (let i = 1; i < runs.length - 1; i++)
      if (runs[i + 1].start - runs[i].end < runs[best + 1].start - runs[best].end) best = i;
    runs[best].end = runs[best + 1].end;
    runs.splice(best + 1, 1);
  }
  return runs;
}
