/**
 * Where a page-fault allocation under a memory policy may land: the ordered node lists the page
 * allocator walks, and how a cpuset's mems_allowed narrows them.
 *
 * Kernel source: torvalds/linux mm/mempolicy.c policy_nodemask(), alloc_pages_mpol(),
 * alloc_pages_preferred_many(), mpol_set_nodemask(), mpol_rebind_nodemask(),
 * mpol_rebind_preferred(), lib/bitmap.c bitmap_remap(); mm/page_alloc.c prepare_alloc_pages()
 * and get_page_from_freelist() (the ALLOC_CPUSET zone filter); kernel/cgroup/cpuset.c
 * cpuset_nodemask_valid_mems_allowed().
 *
 * Modelled for order-0 user pages (GFP_HIGHUSER_MOVABLE, which is __GFP_HARDWALL and may use
 * ZONE_MOVABLE, so apply_policy_zone() always lets bind apply), one zone per node, no
 * set_mempolicy_home_node(). See docs/mempolicy.md.
 */
import { InputError } from '../util/errors.js';
import { type Mempolicy, formatNodelist } from './mempolicy.js';
import { getIlWeight } from './mempolicy-interleave.js';

/** What the allocator tries for one fault, in order. */
export interface PlacementCandidates {
  /** Nodes of the first attempt, nearest first. */
  readonly primary: Int32Array;
  /** preferred_many's first pass runs without direct reclaim (__GFP_DIRECT_RECLAIM cleared). */
  readonly primaryNoDirectReclaim: boolean;
  /** Second attempt with the original gfp (preferred_many only), else null. */
  readonly secondary: Int32Array | null;
  /** interleave / weighted_interleave: the node chosen for the fault's ilx; else -1. */
  readonly interleaveNid: number;
}

/**
 * Placement precomputed for one policy and one faulting CPU node. `candidates()` returns shared,
 * precomputed objects: callers must not modify the arrays.
 */
export interface Placement {
  readonly policy: Readonly<Mempolicy>;
  readonly cpuNode: number;
  /** The cpuset mems_allowed applied with restrictToCpuset(), or null (no cpuset). */
  readonly memsAllowed: readonly number[] | null;
  /** Candidates for the fault with interleave index ilx (ignored unless interleaving). */
  candidates(ilx: number): PlacementCandidates;
}

type Weights = ArrayLike<number> | { readonly table: ArrayLike<number> };

function weightTable(w: Weights): ArrayLike<number> {
  return 'table' in w ? w.table : w;
}

class PolicyPlacement implements Placement {
  private readonly fixed: PlacementCandidates | null;
  /** Interleave modes: candidates per policy node, and the node index for each ilx residue. */
  private readonly perNode: PlacementCandidates[];
  private readonly ilxToIndex: Int32Array;

  constructor(
    readonly policy: Readonly<Mempolicy>,
    readonly cpuNode: number,
    readonly zonelists: readonly Int32Array[],
    readonly weights: ArrayLike<number>,
    readonly memsAllowed: readonly number[] | null,
  ) {
    const allowed = memsAllowed ? new Set(memsAllowed) : null;
    const inCpuset = (zl: Int32Array): Int32Array =>
      allowed ? zl.filter((n) => allowed.has(n)) : zl.slice();
    const zonelistOf = (nid: number): Int32Array => {
      const zl = zonelists[nid];
      if (!zl) throw new RangeError(`no zonelist for node ${nid}`);
      return zl;
    };
    const cpuZonelist = zonelistOf(cpuNode);
    const single = (primary: Int32Array, interleaveNid = -1): PlacementCandidates =>
      Object.freeze({ primary, primaryNoDirectReclaim: false, secondary: null, interleaveNid });
    const nodes = policy.nodes;
    this.perNode = [];
    this.ilxToIndex = new Int32Array(0);
    switch (policy.mode) {
      case 'default':
      case 'local':
        this.fixed = single(inCpuset(cpuZonelist));
        break;
      case 'preferred':
        this.fixed = single(inCpuset(zonelistOf(nodes[0])));
        break;
      case 'bind': {
        // policy_nodemask(): the mask is used only if it intersects mems_allowed
        // (cpuset_nodemask_valid_mems_allowed); otherwise the cpuset alone restricts.
        const mask = new Set(nodes);
        const valid = !allowed || nodes.some((n) => allowed.has(n));
        const zl = inCpuset(cpuZonelist);
        this.fixed = single(valid ? zl.filter((n) => mask.has(n)) : zl);
        break;
      }
      case 'preferred_many': {
        const mask = new Set(nodes);
        const zl = inCpuset(cpuZonelist);
        this.fixed = Object.freeze({
          primary: zl.filter((n) => mask.has(n)),
          primaryNoDirectReclaim: true,
          secondary: zl,
          interleaveNid: -1,
        });
        break;
      }
      case 'interleave':
      case 'weighted_interleave': {
        this.fixed = null;
        this.perNode = nodes.map((n) => single(inCpuset(zonelistOf(n)), n));
        if (policy.mode === 'interleave') {
          this.ilxToIndex = Int32Array.from(nodes, (_, i) => i);
        } else {
          // weighted_interleave_nid() as a lookup: residue r of ilx mod Σweights → node index.
          const w = nodes.map((n) => getIlWeight(weights, n));
          this.ilxToIndex = new Int32Array(w.reduce((a, b) => a + b, 0));
          let r = 0;
          w.forEach((wi, i) => {
            this.ilxToIndex.fill(i, r, r + wi);
            r += wi;
          });
        }
        break;
      }
    }
  }

  candidates(ilx: number): PlacementCandidates {
    if (this.fixed) return this.fixed;
    return this.perNode[this.ilxToIndex[ilx % this.ilxToIndex.length]];
  }
}

/**
 * Precomputes the allocation candidates of `pol` for faults on a CPU of `cpuNode`.
 * `zonelists[nid]` is node nid's fallback zonelist: memory nodes only, nid first when it has
 * memory, then find_next_best_node() order. `weights` is the weighted-interleave table (read
 * once: rebuild the placement after the sysfs weights change).
 *
 * - default, local: the CPU node's zonelist;
 * - preferred: the zonelist of first_node(nodes);
 * - bind: the CPU node's zonelist filtered to the mask, no fallback outside it;
 * - preferred_many: the mask (CPU-node zonelist order) without direct reclaim, then the whole
 *   CPU-node zonelist with the original gfp;
 * - interleave / weighted_interleave: the zonelist of interleave_nid() /
 *   weighted_interleave_nid() for the fault's ilx (normal fallback).
 */
export function buildPlacement(
  pol: Readonly<Mempolicy>,
  cpuNode: number,
  zonelists: readonly Int32Array[],
  weights: Weights,
): Placement {
  return new PolicyPlacement(pol, cpuNode, zonelists, weightTable(weights), null);
}

/**
 * The same placement inside a cpuset whose effective mems are `allowedNodes`: every zonelist is
 * filtered to mems_allowed at allocation time (ALLOC_CPUSET, __GFP_HARDWALL); a bind mask that
 * does not intersect mems_allowed is ignored and the cpuset alone restricts; preferred_many's
 * first pass uses mask ∩ mems_allowed; interleave still picks its node from the policy mask and
 * falls back, along that node's zonelist, to the nearest allowed node. An empty result means the
 * allocation fails. This does not change the policy's own nodes: see mpolSetNodemask() and
 * mpolRebind() for what happens when a policy is set, or cpuset.mems changes.
 */
export function restrictToCpuset(placement: Placement, allowedNodes: readonly number[]): Placement {
  if (!(placement instanceof PolicyPlacement))
    throw new TypeError('placement must come from buildPlacement()');
  const allowed = [...new Set(allowedNodes)].sort((a, b) => a - b);
  return new PolicyPlacement(
    placement.policy,
    placement.cpuNode,
    placement.zonelists,
    placement.weights,
    allowed,
  );
}

/**
 * mpol_set_nodemask(): the nodes the kernel keeps when a policy is set (set_mempolicy/mbind)
 * by a task whose cpuset allows `memsAllowed`: policy nodes ∩ mems_allowed ∩ N_MEMORY. An empty
 * intersection is refused (EINVAL) rather than widened. default and local carry no nodes.
 */
export function mpolSetNodemask(
  pol: Readonly<Mempolicy>,
  memsAllowed: readonly number[],
  memoryNodes: readonly number[],
  field: string,
): Mempolicy {
  if (pol.mode === 'default' || pol.mode === 'local') return { ...pol, nodes: [] };
  const allowed = new Set(memsAllowed.filter((n) => memoryNodes.includes(n)));
  const nodes = pol.nodes.filter((n) => allowed.has(n));
  if (nodes.length === 0) {
    throw new InputError(
      `${field}: none of nodes ${formatNodelist(pol.nodes)} is in the cpuset's memory nodes ` +
        `${formatNodelist([...allowed].sort((a, b) => a - b)) || '(none)'} (set_mempolicy would fail with EINVAL)`,
    );
  }
  return { ...pol, nodes: pol.mode === 'preferred' ? [nodes[0]] : nodes };
}

/**
 * bitmap_remap() as nodes_remap(): the n-th node of `oldMask` maps to the (n mod w)-th node of
 * `newMask` (w = its weight); nodes outside `oldMask` map to themselves; an empty old or new
 * mask copies `src` unchanged.
 */
export function nodesRemap(
  src: readonly number[],
  oldMask: readonly number[],
  newMask: readonly number[],
): number[] {
  const oldSorted = [...oldMask].sort((a, b) => a - b);
  const newSorted = [...newMask].sort((a, b) => a - b);
  if (oldSorted.length === 0 || newSorted.length === 0) return [...src].sort((a, b) => a - b);
  const out = new Set<number>();
  for (const n of src) {
    const k = oldSorted.indexOf(n);
    out.add(k < 0 ? n : newSorted[k % newSorted.length]);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * mpol_rebind_policy(): the policy's nodes after the task's cpuset mems change from `oldMems`
 * to `newMems`. `userNodes` is the node list as originally given (pol->w.user_nodemask, used
 * with staticNodes).
 * - bind, interleave, weighted_interleave: without staticNodes the nodes are remapped
 *   position by position (nodes_remap); with staticNodes they are userNodes ∩ newMems; an empty
 *   result becomes all of newMems.
 * - preferred, preferred_many: nodes unchanged (the allocator's cpuset filter applies).
 * - default, local: nothing to rebind.
 */
export function mpolRebind(
  pol: Readonly<Mempolicy>,
  userNodes: readonly number[],
  oldMems: readonly number[],
  newMems: readonly number[],
): Mempolicy {
  switch (pol.mode) {
    case 'default':
    case 'local':
    case 'preferred':
    case 'preferred_many':
      return { ...pol, nodes: [...pol.nodes] };
    default: {
      const newSet = new Set(newMems);
      let nodes = pol.staticNodes
        ? [...new Set(userNodes)].filter((n) => newSet.has(n)).sort((a, b) => a - b)
        : nodesRemap(pol.nodes, oldMems, newMems);
      if (nodes.length === 0) nodes = [...newSet].sort((a, b) => a - b);
      return { ...pol, nodes };
    }
  }
}
