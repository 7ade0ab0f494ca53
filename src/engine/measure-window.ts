import { takeVmCounters, type VmCounters } from '../metrics/snapshot.js';
import type { Simulation, Task } from './simulation.js';

/**
 * The measured window (scenario `measure:`): figures over the part of each VM's run after its
 * warm-up, reported beside the whole run's. A run's first seconds are dominated by first
 * touches — zero-fill faults, an empty page cache, NUMA balancing's scan delay — and a short
 * run that ends inside them says little about the steady state a tenant pays for.
 *
 * The window of a VM opens at the end of the first task slice (at most CHUNK accesses) in which
 * its rule holds, so its start is exact to a slice; the summary says where it opened.
 */
export type MeasureRule =
  | { kind: 'whole-run' }
  | { kind: 'warmup-ms'; ms: number }
  | { kind: 'warmup-accesses'; accesses: number }
  | { kind: 'after-first-pass' };

/**
 * What a VM's counters held when its window opened; its `clockNs` is when (on the VM's clock).
 * The summary's measured figures are the diff from it to the end of the run.
 */
export type WindowStart = VmCounters;

export function describeRule(r: MeasureRule): string {
  switch (r.kind) {
    case 'whole-run':
      return 'the whole run';
    case 'warmup-ms':
      return `after ${r.ms} ms of each VM's own time`;
    case 'warmup-accesses':
      return `after each VM's first ${r.accesses} accesses`;
    case 'after-first-pass':
      return 'after each VM has touched every page of its footprint';
  }
}

export class MeasureWindow {
  /** Per task: its window's start, or null while it is still warming up. */
  readonly starts: (WindowStart | null)[];

  constructor(
    readonly rule: MeasureRule,
    private readonly sim: Simulation,
  ) {
    this.starts = sim.tasks.map(() => null);
    if (rule.kind === 'whole-run') for (const t of sim.tasks) this.open(t, 0);
  }

  /** Called after each slice of task `t`, on the task's own clock; opens its window when due. */
  check(t: Task): void {
    const i = t.as.id;
    if (this.starts[i] !== null) return;
    const r = this.rule;
    const due =
      r.kind === 'warmup-ms'
        ? t.clockNs - t.startNs >= r.ms * 1e6
        : r.kind === 'warmup-accesses'
          ? t.stats.accesses >= r.accesses
          : r.kind === 'after-first-pass'
            ? t.as.touchedPages >= t.as.pages
            : true;
    if (due) this.open(t, t.clockNs);
  }

  private open(t: Task, atNs: number): void {
    const c = takeVmCounters(this.sim, t);
    // A whole-run window opens at 0, before the task's own start time.
    c.clockNs = atNs;
    this.starts[t.as.id] = c;
  }
}
