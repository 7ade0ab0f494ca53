import type { HostTopology } from '../../host/host-topology.js';

/** The random source policies may use; the host passes its seeded stream. */
export interface RandomSource {
  nextU32(): number;
  nextInt(n: number): number;
}

/**
 * Where reclaim on a node may migrate its cold pages (idea S17). Called once per reclaim
 * batch, as demote_folio_list() picks one target per call; `pageHistory` lets a policy refuse a
 * node a given page already left.
 */
export interface DemotionPolicy {
  readonly name: string;
  /** Whether reclaim on `node` should try demotion at all (can_demote()). */
  canDemote(node: number): boolean;
  /**
   * Fills `out` with the nodes to try for one batch, in order, and returns how many. The first
   * is the target; the rest are the fallback allowed for the allocation.
   */
  batchTargets(node: number, rng: RandomSource, out: Int32Array): number;
  /** Every node batchTargets() may return for `node` (the kernel's allowed targets). */
  targets(node: number): readonly number[];
  /**
   * Optional per-page veto: may global virtual page `g` be demoted into `n`? `hasLeft(g, n)`
   * tells whether the page already left `n` by demotion in its current cycle.
   */
  allowPage?(g: number, n: number, hasLeft: (g: number, n: number) => boolean): boolean;
}

/** Scenario settings a demotion policy may read (node ids are dense indices here). */
export interface DemotionPolicyConfig {
  /** single: the one target per node; one-way: the allowed paths per node. */
  paths?: ReadonlyMap<number, readonly number[]>;
  /** distance-list: refuse nodes a page already left in the same cycle. */
  history?: boolean;
}

export type DemotionPolicyFactory = (topo: HostTopology, config: DemotionPolicyConfig) => DemotionPolicy;
