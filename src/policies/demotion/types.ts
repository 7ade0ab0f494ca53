import { z } from 'zod';
import type { HostTopology } from '../../host/host-topology.js';
import type { PolicyModule } from '../registry.js';

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

/** What a demotion policy is built from for one run. */
export interface DemotionContext {
  topo: HostTopology;
  /** Dense node index of each kernel node id. */
  dense: ReadonlyMap<number, number>;
}

/** What a policy's load-time check may look at: the topology's kernel node ids. */
export interface DemotionCheckContext {
  nodeIds: readonly number[];
}

/** A demotion policy as a module of the demotion registry; its parameters sit in `tiering`. */
export type DemotionPolicyModule<P = object> = PolicyModule<
  P,
  DemotionContext,
  DemotionPolicy,
  DemotionCheckContext
>;

/** tiering.demotion_paths, shared by the policies that take explicit targets (kernel node ids). */
export const demotionPathsParam = z
  .record(z.string(), z.array(z.number().int().nonnegative()))
  .optional()
  .describe('single: the one target per node; one-way: allowed demotion edges per node (must be acyclic)');

export type DemotionPaths = Record<string, number[]>;

/** Every node named in demotion_paths exists and no node demotes to itself; a message or null. */
export function checkDemotionPaths(paths: DemotionPaths, nodeIds: readonly number[]): string | null {
  const idList = nodeIds.join(', ');
  for (const [key, targets] of Object.entries(paths)) {
    const from = Number(key);
    if (!/^\d+$/.test(key) || !nodeIds.includes(from))
      return `tiering.demotion_paths.${key}: node ${key} does not exist; nodes are ${idList}`;
    for (const [j, n] of targets.entries()) {
      if (!nodeIds.includes(n))
        return `tiering.demotion_paths.${key}[${j}]: node ${n} does not exist; nodes are ${idList}`;
      if (n === from) return `tiering.demotion_paths.${key}[${j}]: a node cannot demote to itself`;
    }
  }
  return null;
}

/** demotion_paths in dense node indices, as the policies' config wants them. */
export function densePaths(
  paths: DemotionPaths | undefined,
  dense: ReadonlyMap<number, number>,
): Map<number, number[]> {
  return new Map(
    Object.entries(paths ?? {}).map(([k, v]) => [
      dense.get(Number(k)) as number,
      v.map((n) => dense.get(n) as number),
    ]),
  );
}
