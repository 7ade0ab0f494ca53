/**
 * Who moved which page where (issue: every migration attributed to its mechanism), plus the two
 * per-page histories tiering needs: when a page was last promoted (ping-pong detection, idea
 * S22) and which nodes it has left by demotion since it was last promoted or faulted in
 * (demotion-cycle detection, idea S17). Both are per virtual page, allocated once.
 */
export const MIGRATE_REASONS = [
  'demote_kswapd',
  'demote_direct',
  'demote_proactive',
  'promote_hint_fault',
  'numa_locality',
  'ratio_rebalance',
  'ratio_exchange',
  'userspace',
  'madvise_hint',
] as const;
export type MigrateReason = (typeof MIGRATE_REASONS)[number];
export const MR = Object.fromEntries(MIGRATE_REASONS.map((r, i) => [r, i])) as {
  readonly [K in MigrateReason]: number;
};
export const NR_MIGRATE_REASONS = MIGRATE_REASONS.length;

/** Reasons that move a page to a slower (or equal) tier, as a bit mask over reasons. */
const DEMOTING = (1 << MR.demote_kswapd) | (1 << MR.demote_direct) | (1 << MR.demote_proactive);

export class MigrationLedger {
  readonly spaces: number;
  /** pages[(space * NR_MIGRATE_REASONS) + reason] */
  readonly pages: Float64Array;
  /** Pages moved to a faster / slower tier, per space. */
  readonly up: Float64Array;
  readonly down: Float64Array;
  /** Pages demoted again within `pingpongWindowMs` of their promotion, per space. */
  readonly pingpong: Float64Array;
  /** Demotions into a node the page had already left by demotion in the same cycle, per space. */
  readonly demotionCycles: Float64Array;
  /**
   * Two words per global virtual page g, side by side so that one cache line serves both:
   * [2g] last promotion time (ms + 1; 0 = never); [2g + 1] bit n set: the page left node n by
   * demotion since its last promotion or fault-in.
   */
  private readonly perPage: Uint32Array;
  pingpongWindowMs: number;
  /** Told of every migration after it is recorded (the fight detector of ratio enforcement). */
  observer:
    | ((space: number, g: number, tierSrc: number, tierDst: number, reason: number, nowMs: number) => void)
    | null = null;

  constructor(spaces: number, virtualPages: number, pingpongWindowMs: number) {
    this.spaces = spaces;
    this.pages = new Float64Array(spaces * NR_MIGRATE_REASONS);
    this.up = new Float64Array(spaces);
    this.down = new Float64Array(spaces);
    this.pingpong = new Float64Array(spaces);
    this.demotionCycles = new Float64Array(spaces);
    this.perPage = new Uint32Array(2 * virtualPages);
    this.pingpongWindowMs = pingpongWindowMs;
  }

  /**
   * Records one migration of global virtual page `g` of address space `space` from node `src`
   * to `dst`. `tierSrc`/`tierDst` order the move; `nowMs` dates it.
   */
  record(
    space: number,
    g: number,
    src: number,
    dst: number,
    tierSrc: number,
    tierDst: number,
    reason: number,
    nowMs: number,
  ): void {
    this.pages[space * NR_MIGRATE_REASONS + reason]++;
    if (tierDst < tierSrc) this.up[space]++;
    else if (tierDst > tierSrc) this.down[space]++;
    const at = 2 * g;
    if (((DEMOTING >>> reason) & 1) !== 0) {
      const left = this.perPage[at + 1];
      if (src < 32 && dst < 32 && (left & (1 << dst)) !== 0) this.demotionCycles[space]++;
      if (src < 32) this.perPage[at + 1] = left | (1 << src);
      const t = this.perPage[at];
      if (t > 0 && nowMs - (t - 1) <= this.pingpongWindowMs) this.pingpong[space]++;
    } else if (tierDst < tierSrc) {
      this.perPage[at] = nowMs + 1;
      this.perPage[at + 1] = 0;
    }
    this.observer?.(space, g, tierSrc, tierDst, reason, nowMs);
  }

  /**
   * Page g left memory (swapped out, dropped or unmapped): its history ends, so that when it is
   * faulted in again it starts a new demotion cycle. Cleared here rather than at the fault
   * because eviction comes in reclaim batches whose ledger lines are loaded together.
   */
  evicted(g: number): void {
    this.perPage[2 * g] = 0;
    this.perPage[2 * g + 1] = 0;
  }

  /** Page g's demotion-history word; read ahead of a batch of migrations to load its line. */
  historyWord(g: number): number {
    return this.perPage[2 * g + 1];
  }

  /** Whether page `g` has left node `n` by demotion in its current cycle. */
  hasLeft(g: number, n: number): boolean {
    return n < 32 && (this.perPage[2 * g + 1] & (1 << n)) !== 0;
  }

  count(space: number, reason: number): number {
    return this.pages[space * NR_MIGRATE_REASONS + reason];
  }

  total(reason: number): number {
    let s = 0;
    for (let i = 0; i < this.spaces; i++) s += this.pages[i * NR_MIGRATE_REASONS + reason];
    return s;
  }
}
