import type { Clock } from './interface.js';

/**
 * The schedule of a controller whose loop owns its timing (a real host): a period is due every
 * `periodMs` on the injected clock, the first one period after the first poll. (The simulator's
 * daemon steps the controller on its own timer instead.)
 */
export class PeriodSchedule {
  private dueMs = NaN;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
  ) {}

  /** Runs `step` if a period is due; returns the ms to wait before the next poll. */
  poll(step: () => void): number {
    const now = this.clock.nowMs();
    if (Number.isNaN(this.dueMs)) this.dueMs = now + this.periodMs;
    if (now >= this.dueMs) {
      step();
      this.dueMs = now + this.periodMs;
    }
    return Math.max(0, this.dueMs - now);
  }
}
