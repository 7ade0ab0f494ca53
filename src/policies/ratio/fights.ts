import type { Host } from '../../host/host.js';
import { MR } from '../../host/migration-ledger.js';

/**
 * Idea S7's check that explicit placement and the kernel's own migration do not fight: a page
 * whose consecutive migrations come from different mechanisms in opposite directions within
 * `windowMs` counts as one fight. Mechanisms: reclaim (kernel demotion), NUMA balancing,
 * the ratio (rebalance, exchange), the user-space controller, tenant hints. Observes every
 * migration by wrapping the host's migration ledger; allocates three bytes-per-page arrays.
 */
export const MECHANISM_OF_REASON: readonly string[] = (() => {
  const m: string[] = [];
  m[MR.demote_kswapd] = 'reclaim';
  m[MR.demote_direct] = 'reclaim';
  m[MR.demote_proactive] = 'reclaim';
  m[MR.promote_hint_fault] = 'numa_balancing';
  m[MR.numa_locality] = 'numa_balancing';
  m[MR.ratio_rebalance] = 'ratio';
  m[MR.ratio_exchange] = 'ratio';
  m[MR.userspace] = 'userspace';
  m[MR.madvise_hint] = 'madvise';
  return m;
})();

export class FightDetector {
  /** Per global virtual page: last mechanism + 1 (0: none), direction (1 up, 2 down), time ms + 1. */
  private readonly lastMech: Uint8Array;
  private readonly lastDir: Uint8Array;
  private readonly lastMs: Uint32Array;
  /** Fights per address space, and those on pages `watched` says are of interest (hinted ranges). */
  readonly fights: Float64Array;
  readonly watchedFights: Float64Array;
  private readonly mechId: Uint8Array;
  watched: ((g: number) => boolean) | null = null;

  constructor(
    host: Host,
    readonly windowMs: number,
  ) {
    const pages = host.pt.length;
    this.lastMech = new Uint8Array(pages);
    this.lastDir = new Uint8Array(pages);
    this.lastMs = new Uint32Array(pages);
    this.fights = new Float64Array(host.spaces.length);
    this.watchedFights = new Float64Array(host.spaces.length);
    const names = [...new Set(MECHANISM_OF_REASON)];
    this.mechId = Uint8Array.from(MECHANISM_OF_REASON, (m) => names.indexOf(m) + 1);
    host.ledger.observer = (space, g, tierSrc, tierDst, reason, nowMs) =>
      this.note(space, g, tierSrc, tierDst, reason, nowMs);
  }

  /**
   * Starts the history of global pages [from, to) afresh: a tenant's hint is a new instruction,
   * so a page it moves up after an earlier demotion is not a fight.
   */
  forget(from: number, to: number): void {
    this.lastMech.fill(0, from, to);
  }

  private note(
    space: number,
    g: number,
    tierSrc: number,
    tierDst: number,
    reason: number,
    nowMs: number,
  ): void {
    if (tierSrc === tierDst) return;
    const dir = tierDst < tierSrc ? 1 : 2;
    const mech = this.mechId[reason];
    const prev = this.lastMech[g];
    if (
      prev !== 0 &&
      prev !== mech &&
      this.lastDir[g] !== dir &&
      nowMs - (this.lastMs[g] - 1) <= this.windowMs
    ) {
      this.fights[space]++;
      if (this.watched !== null && this.watched(g)) this.watchedFights[space]++;
    }
    this.lastMech[g] = mech;
    this.lastDir[g] = dir;
    this.lastMs[g] = nowMs + 1;
  }
}
