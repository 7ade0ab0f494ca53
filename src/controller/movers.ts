import { HostFiles } from '../inspect/sysfs.js';
import type { ControlConfig } from './config.js';
import { UserspaceController, type UserspaceControllerStats } from './controller.js';
import type { AccessTracking, Clock } from './interface.js';
import { DamosController, KDAMOND } from './real/damos.js';
import type { HostBackend } from './real/host-backend.js';
import type { HostWriter } from './real/host-writer.js';

/** What moves pages to hold the ratios: numatier itself, or the kernel steered by numatier. */
export interface RatioMover {
  readonly stats: UserspaceControllerStats;
  /** Before the first period: set up what the mover needs on the host (journaled writes). */
  start(): void;
  /** Runs a period if one is due; returns the ms until the next is. */
  poll(): number;
  step(): number;
  /** Extra fields for each step's log line. */
  stepLog?(): Record<string, unknown>;
}

export interface MoverContext {
  config: ControlConfig;
  root: string;
  apply: boolean;
  backend: HostBackend;
  writer: HostWriter;
  clock: Clock;
}

/** One entry per `ratio.strategy`: what it tracks accesses with, and its mover. */
export const STRATEGIES: Record<
  ControlConfig['strategy'],
  {
    kdamonds: (t: AccessTracking) => string[];
    tracking: (t: AccessTracking) => string;
    mover: (c: MoverContext) => RatioMover;
  }
> = {
  userspace: {
    kdamonds: (t) => (t === 'damon_vaddr' ? [KDAMOND] : []),
    tracking: (t) => t,
    mover: ({ config, backend, clock }) => {
      const c = new UserspaceController(backend, clock, {
        periodMs: config.periodMs,
        bandwidthMBps: config.bandwidthMBps,
        scanPages: config.scanPages,
      });
      return { stats: c.stats, start: () => undefined, poll: () => c.poll(), step: () => c.step() };
    },
  },
  damos: {
    kdamonds: () => [KDAMOND],
    // The kernel's DAMON samples the accessed bits of the physical pages itself.
    tracking: () => 'damon_paddr',
    mover: ({ config, root, apply, backend, writer, clock }) => {
      const c = new DamosController(
        new HostFiles(root),
        backend,
        writer,
        clock,
        config.cgroups.flatMap((g) => (g.fraction === null ? [] : [{ path: g.path, fraction: g.fraction }])),
        { periodMs: config.periodMs, bandwidthMBps: config.bandwidthMBps, ...config.damos },
        apply,
      );
      return {
        stats: c.stats,
        start: () => c.start(),
        poll: () => c.poll(),
        step: () => c.step(),
        stepLog: () => ({ schemes: c.schemeStats }),
      };
    },
  },
};
