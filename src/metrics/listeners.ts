import type { BuiltRun } from '../scenario/build.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';

/**
 * Something that watches a run at its sample times: `sample` sees the live run, `snapshot` a
 * copy of every counter (taken once per sample, before any listener runs, however many want it — and
 * only if one does).
 */
export interface MetricsListener {
  sample?(run: BuiltRun, now: number): void;
  snapshot?(snap: Snapshot, run: BuiltRun): void;
}

/** The listeners of one run, called in the order they subscribed. */
export class MetricsHub {
  private readonly listeners: MetricsListener[] = [];

  constructor(listeners: readonly MetricsListener[] = []) {
    for (const l of listeners) this.subscribe(l);
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(l: MetricsListener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** One sample of `run` at `now`: each listener in turn, sharing one snapshot. */
  emit(run: BuiltRun, now: number): void {
    // Taken before any listener runs, so that every one sees the same instant.
    const snap = this.listeners.some((l) => l.snapshot !== undefined)
      ? takeSnapshot(run.sim, run.numa, run.tierControl)
      : null;
    // A copy: a listener that unsubscribes while called must not make the next one skipped.
    for (const l of [...this.listeners]) {
      l.sample?.(run, now);
      if (snap !== null) l.snapshot?.(snap, run);
    }
  }
}
