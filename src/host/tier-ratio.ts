import type { PlacementCandidates } from './address-space.js';
import type { Host } from './host.js';
import {
  PAIR_RE,
  TIER_RATIO_FILE,
  TIER_RATIO_MAX,
  parseTierRatio,
  type TierRatioSetting,
} from '../util/tier-ratio-text.js';

/**
 * memory.tier_ratio: a per-cgroup control file (ideas S2, S4, S8) holding the share of the
 * group's memory that may sit on fast (top-tier) nodes. Not an upstream file: upstream has no
 * per-tier memcg limit. Accepted values, as an administrator would write them:
 *   "0.25"  the fast share as a fraction in [0, 1];
 *   "1:3"   a fast:slow pair of integers (slow ≥ 1), here 1 / (1 + 3) = 0.25;
 *   "max"   no constraint (the default).
 * The quota of a group with a ratio r: its fast pages — the pages charged to it and to its
 * descendants that sit on top-tier nodes, user and kernel — may not exceed ⌈r × memory.current⌉.
 * The rounding up to a whole page is the only slack (under one page). A group is constrained
 * by every ancestor-or-self that has a ratio, as memory.max is.
 */
export {
  TIER_RATIO_FILE,
  TIER_RATIO_MAX,
  parseTierRatio,
  type TierRatioSetting,
} from '../util/tier-ratio-text.js';

/**
 * The fast:slow weights of a ratio, reduced by their gcd and each at most 255 (a weighted
 * interleave weight is a u8 in 1..255: mm/mempolicy.c iw_table). A pair that fits is kept as
 * written; otherwise the closest p/(p+q) with p, q ≤ 255 is taken (ties: the smaller sum).
 * 0 → [0, 1] and 1 → [1, 0]: the caller drops the zero-weight tier.
 */
export function ratioWeights(setting: TierRatioSetting): [number, number] {
  const r = setting.fraction ?? 1;
  if (r <= 0) return [0, 1];
  if (r >= 1) return [1, 0];
  const pair = PAIR_RE.exec(setting.text);
  if (pair) {
    let a = Number(pair[1]);
    let b = Number(pair[2]);
    const g = gcd(a, b);
    a /= g;
    b /= g;
    if (a <= 255 && b <= 255) return [a, b];
  }
  let best: [number, number] = [1, 1];
  let bestErr = Infinity;
  for (let p = 1; p <= 255; p++) {
    // For a fixed p, the best q is near p(1-r)/r; check its two neighbours.
    const q0 = Math.floor((p * (1 - r)) / r);
    for (const q of [Math.min(255, Math.max(1, q0)), Math.min(255, Math.max(1, q0 + 1))]) {
      const err = Math.abs(p / (p + q) - r);
      if (err < bestErr - 1e-15 || (Math.abs(err - bestErr) <= 1e-15 && p + q < best[0] + best[1])) {
        best = [p, q];
        bestErr = err;
      }
    }
  }
  const g = gcd(best[0], best[1]);
  return [best[0] / g, best[1] / g];
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

const ALL_TIERS_CACHE = new WeakMap<PlacementCandidates, [PlacementCandidates, PlacementCandidates]>();

/**
 * The same candidate lists reordered by tier, keeping the order within each tier: fast nodes
 * first, or slow nodes first. Never adds a node, so memory policies and cpusets still hold.
 * Cached per candidates object (placements return shared, precomputed objects).
 */
export function tierOrdered(
  c: PlacementCandidates,
  toptier: Uint8Array,
  fastFirst: boolean,
): PlacementCandidates {
  let pair = ALL_TIERS_CACHE.get(c);
  if (pair === undefined) {
    const order = (xs: Int32Array, fast: boolean): Int32Array =>
      Int32Array.from([...xs].sort((a, b) => (fast ? toptier[b] - toptier[a] : toptier[a] - toptier[b])));
    const make = (fast: boolean): PlacementCandidates =>
      Object.freeze({
        primary: order(c.primary, fast),
        primaryNoDirectReclaim: c.primaryNoDirectReclaim,
        secondary: c.secondary === null ? null : order(c.secondary, fast),
        interleaveNid: c.interleaveNid,
      });
    pair = [make(true), make(false)];
    ALL_TIERS_CACHE.set(c, pair);
  }
  return fastFirst ? pair[0] : pair[1];
}

/**
 * The control files and the quota arithmetic over the host's per-cgroup, per-node accounting
 * (cgroups.nodePages). Reads only; enforcement lives in src/policies/ratio/.
 */
export class TierRatio {
  readonly host: Host;
  private readonly settings: TierRatioSetting[];
  /** Per memcg: the ancestors-or-self with a ratio, nearest first. */
  private constrainedUp: Int32Array[];
  private readonly subtrees: Int32Array[];
  readonly fastNodes: Int32Array;
  /**
   * Groups whose ratio is not enforced at allocation because a task in them may only use fast
   * nodes (a bind policy or cpuset without a slow node: the explicit placement wins, S7).
   */
  readonly exempt: Uint8Array;
  private readonly listeners: ((memcg: number) => void)[] = [];

  constructor(host: Host) {
    this.host = host;
    const n = host.cgroups.count;
    this.settings = Array.from({ length: n }, () => TIER_RATIO_MAX);
    this.subtrees = Array.from({ length: n }, (_, c) => Int32Array.from(host.cgroups.subtree(c)));
    this.fastNodes = Int32Array.from([...Array(host.nodes).keys()].filter((x) => host.toptier[x] !== 0));
    this.exempt = new Uint8Array(n);
    this.constrainedUp = this.computeConstrained();
  }

  private computeConstrained(): Int32Array[] {
    const cg = this.host.cgroups;
    return Array.from({ length: cg.count }, (_, c) => {
      const up: number[] = [];
      for (let a = c; a >= 0; a = cg.parent[a]) if (this.settings[a].fraction !== null) up.push(a);
      return Int32Array.from(up);
    });
  }

  /** Writes the control file of `memcg` (as `echo 0.25 > memory.tier_ratio`). */
  write(memcg: number, text: unknown): void {
    this.set(memcg, parseTierRatio(text, `${this.host.cgroups.paths[memcg]}/${TIER_RATIO_FILE}`));
  }

  set(memcg: number, s: TierRatioSetting): void {
    this.settings[memcg] = s;
    this.constrainedUp = this.computeConstrained();
    for (const l of this.listeners) l(memcg);
  }

  /** The file's contents. */
  read(memcg: number): string {
    return this.settings[memcg].text;
  }

  setting(memcg: number): TierRatioSetting {
    return this.settings[memcg];
  }

  /** Called after every write, with the group written. */
  onChange(listener: (memcg: number) => void): void {
    this.listeners.push(listener);
  }

  /** The group's own ratio, or null ("max"). */
  ratio(memcg: number): number | null {
    return this.settings[memcg].fraction;
  }

  /** Ancestors-or-self of `memcg` that have a ratio, nearest first. */
  constrainedAncestors(memcg: number): Int32Array {
    return this.constrainedUp[memcg];
  }

  /** The nearest ancestor-or-self with a ratio (the group that governs `memcg`), or -1. */
  governing(memcg: number): number {
    const up = this.constrainedUp[memcg];
    return up.length > 0 ? up[0] : -1;
  }

  /** Every group with a ratio, deepest first (children are brought back before parents). */
  constrainedGroups(): number[] {
    const cg = this.host.cgroups;
    const depth = (c: number): number => (c <= 0 ? 0 : 1 + depth(cg.parent[c]));
    const out: number[] = [];
    for (let c = 0; c < cg.count; c++) if (this.settings[c].fraction !== null) out.push(c);
    return out.sort((a, b) => depth(b) - depth(a) || a - b);
  }

  /** Pages of the subtree of `memcg` on top-tier nodes (user and kernel). */
  fastPages(memcg: number): number {
    const np = this.host.cgroups.nodePages;
    const nodes = this.host.nodes;
    const sub = this.subtrees[memcg];
    const fast = this.fastNodes;
    let s = 0;
    for (let i = 0; i < sub.length; i++) {
      const base = sub[i] * nodes;
      for (let j = 0; j < fast.length; j++) s += np[base + fast[j]];
    }
    return s;
  }

  /** memory.current of `memcg`, in pages. */
  current(memcg: number): number {
    return this.host.cgroups.usage[memcg];
  }

  /** ⌈ratio × memory.current⌉ pages, or Infinity for "max". */
  quota(memcg: number): number {
    const r = this.settings[memcg].fraction;
    if (r === null) return Infinity;
    // Rounded to 1e-9 first so that 0.3 × 10 does not become 4 pages.
    return Math.ceil(Math.round(r * this.host.cgroups.usage[memcg] * 1e9) / 1e9);
  }

  /** Fast pages over the quota (negative: room left), or -Infinity for "max". */
  excess(memcg: number): number {
    const q = this.quota(memcg);
    return q === Infinity ? -Infinity : this.fastPages(memcg) - q;
  }

  /** Whether `nr` more fast pages fit every quota `memcg` is under. */
  mayAddFast(memcg: number, nr = 1): boolean {
    const up = this.constrainedUp[memcg];
    for (let i = 0; i < up.length; i++) {
      const c = up[i];
      if (this.fastPages(c) + nr > this.quota(c)) return false;
    }
    return true;
  }

  /** The group whose quota is the tightest for `memcg` right now (most negative room), or -1. */
  tightest(memcg: number): number {
    const up = this.constrainedUp[memcg];
    let best = -1;
    let bestRoom = Infinity;
    for (let i = 0; i < up.length; i++) {
      const room = -this.excess(up[i]);
      if (room < bestRoom) {
        bestRoom = room;
        best = up[i];
      }
    }
    return best;
  }

  /** Achieved fast share of a group: fast pages / memory.current (0 when empty). */
  achieved(memcg: number): number {
    const cur = this.host.cgroups.usage[memcg];
    return cur > 0 ? this.fastPages(memcg) / cur : 0;
  }
}
