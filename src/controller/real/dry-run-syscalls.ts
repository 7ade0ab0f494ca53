import type { Syscalls } from './syscalls.js';

/**
 * move_pages(2) for a dry run: a move becomes a query, and each present page reports the node
 * it was asked to go to, so the controller counts what it would have done while nothing on the
 * host moves. `wouldMove` counts the pages of the last call not already on their target.
 */
export class DryRunSyscalls implements Syscalls {
  wouldMove = 0;

  constructor(private readonly inner: Syscalls) {}

  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number {
    const r = this.inner.movePages(pid, pages, count, null, status);
    if (nodes === null || r < 0) return r;
    let notMoved = 0;
    this.wouldMove = 0;
    for (let i = 0; i < count; i++) {
      if (status[i] < 0) {
        notMoved++;
        continue;
      }
      if (status[i] !== nodes[i]) this.wouldMove++;
      status[i] = nodes[i];
    }
    return notMoved;
  }
}
