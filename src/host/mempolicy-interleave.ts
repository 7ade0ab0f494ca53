/**
 * Interleave and weighted-interleave node selection, VMA (fault) path and task path.
 *
 * Kernel source: torvalds/linux mm/mempolicy.c interleave_nid(), weighted_interleave_nid(),
 * interleave_nodes(), weighted_interleave_nodes(), alloc_pages_bulk_interleave(),
 * alloc_pages_bulk_weighted_interleave(), get_vma_policy(), do_set_mempolicy().
 *
 * `nodes` is always a nodemask as an ascending list of node ids without duplicates. `weights` is
 * the sysfs weight table indexed by node id; a missing or 0 entry means 1 (get_il_weight()).
 * Functions that run per page fault do not allocate.
 */
import { MAX_NUMNODES } from './mempolicy.js';

/** Per-task interleave cursor (task_struct il_prev / il_weight). */
export interface InterleaveState {
  il_prev: number;
  il_weight: number;
}

/** do_set_mempolicy(): setting an (weighted) interleave policy resets the task cursor. */
export function newInterleaveState(): InterleaveState {
  return { il_prev: MAX_NUMNODES - 1, il_weight: 0 };
}

/** get_il_weight(): table entry, or 1 when the entry is missing or 0. */
export function getIlWeight(weights: ArrayLike<number>, nid: number): number {
  const w = weights[nid];
  return w ? w : 1;
}

/** next_node_in(): the next node of the mask after `prev`, wrapping; MAX_NUMNODES if empty. */
export function nextNodeIn(prev: number, nodes: ArrayLike<number>): number {
  const n = nodes.length;
  if (n === 0) return MAX_NUMNODES;
  for (let i = 0; i < n; i++) if (nodes[i] > prev) return nodes[i];
  return nodes[0];
}

function nodeIsSet(nid: number, nodes: ArrayLike<number>): boolean {
  for (let i = 0; i < nodes.length; i++) if (nodes[i] === nid) return true;
  return false;
}

/**
 * Interleave index of a VMA fault (get_vma_policy()): vm_pgoff >> order plus the page offset of
 * `addr` in the VMA at that order. For private anonymous memory vm_pgoff = vm_start >> PAGE_SHIFT,
 * so an order-0 fault gets ilx = addr >> PAGE_SHIFT, the virtual page number. Takes page
 * numbers (not byte addresses) so that 48-bit addresses stay exact.
 */
export function vmaInterleaveIndex(vmPgoff: number, vmStartPfn: number, addrPfn: number, order = 0): number {
  const div = 2 ** order;
  return Math.floor(vmPgoff / div) + Math.floor((addrPfn - vmStartPfn) / div);
}

/** interleave_nid(): the (ilx mod nnodes)-th node of the mask. The mask must not be empty. */
export function interleaveNid(nodes: ArrayLike<number>, ilx: number): number {
  return nodes[ilx % nodes.length];
}

/** Σ get_il_weight(n) over the mask. */
export function weightTotal(nodes: ArrayLike<number>, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < nodes.length; i++) total += getIlWeight(weights, nodes[i]);
  return total;
}

/**
 * weighted_interleave_nid(): target = ilx mod Σweights, then walk the mask from first_node
 * subtracting each node's weight until the target falls inside one.
 */
export function weightedInterleaveNid(
  nodes: ArrayLike<number>,
  weights: ArrayLike<number>,
  ilx: number,
): number {
  let target = ilx % weightTotal(nodes, weights);
  let i = 0;
  while (target) {
    const w = getIlWeight(weights, nodes[i]);
    if (target < w) break;
    target -= w;
    i = i + 1 === nodes.length ? 0 : i + 1;
  }
  return nodes[i];
}

/**
 * interleave_nodes(): task path (no VMA, e.g. slab or alloc_pages()). Advances il_prev.
 * Returns MAX_NUMNODES (and leaves the state alone) for an empty mask, as the kernel does.
 */
export function interleaveNodes(state: InterleaveState, nodes: ArrayLike<number>): number {
  const nid = nextNodeIn(state.il_prev, nodes);
  if (nid < MAX_NUMNODES) state.il_prev = nid;
  return nid;
}

/**
 * weighted_interleave_nodes(): task path. Stays on il_prev while il_weight lasts, then moves
 * to the next node of the mask and loads its weight.
 */
export function weightedInterleaveNodes(
  state: InterleaveState,
  nodes: ArrayLike<number>,
  weights: ArrayLike<number>,
): number {
  let node = state.il_prev;
  if (!state.il_weight || !nodeIsSet(node, nodes)) {
    node = nextNodeIn(node, nodes);
    if (node === MAX_NUMNODES) return node;
    state.il_prev = node;
    state.il_weight = getIlWeight(weights, node);
  }
  state.il_weight--;
  return node;
}

/**
 * alloc_pages_bulk_weighted_interleave(): how many of `nrPages` pages each node gets when a bulk
 * allocation (vmalloc and other bulk users) runs under weighted interleave. Counts go to
 * `out[nid]` (zeroed first; allocated if not given); the task cursor is updated as the kernel
 * does. Assumes every page allocation succeeds. The counts and the next allocations equal those
 * of `nrPages` sequential weightedInterleaveNodes() calls; the stored cursor may differ only as
 * (node, 0) versus (next node, its full weight), which behave identically.
 */
export function allocPagesBulkWeightedInterleave(
  state: InterleaveState,
  nodes: ArrayLike<number>,
  weights: ArrayLike<number>,
  nrPages: number,
  out?: Float64Array,
): Float64Array {
  const counts = out ?? new Float64Array(nodes.length ? nodes[nodes.length - 1] + 1 : 0);
  counts.fill(0);
  if (!nrPages || nodes.length === 0) return counts;
  let rem = nrPages;
  let node = state.il_prev;
  const weight = state.il_weight;
  if (weight && nodeIsSet(node, nodes)) {
    // Finish the node the previous allocation was on before interleaving.
    counts[node] += Math.min(rem, weight);
    if (rem <= weight) {
      state.il_weight -= rem;
      return counts;
    }
    rem -= weight;
  }
  state.il_weight = 0;
  let prevNode = node;
  const total = weightTotal(nodes, weights);
  const rounds = Math.floor(rem / total);
  let delta = rem % total;
  let resumeNode = nextNodeIn(prevNode, nodes);
  let resumeWeight = getIlWeight(weights, resumeNode);
  let allocated = nrPages - rem;
  for (let i = 0; i < nodes.length; i++) {
    node = nextNodeIn(prevNode, nodes);
    const w = getIlWeight(weights, node);
    let nodePages = w * rounds;
    if (delta > w) {
      nodePages += w;
      delta -= w;
    } else if (delta) {
      // The partial round ends on this node: resume here with what is left of its weight.
      nodePages += delta;
      resumeNode = node;
      resumeWeight = w - delta;
      delta = 0;
    }
    if (!nodePages) break;
    counts[node] += nodePages;
    allocated += nodePages;
    if (allocated === nrPages) break;
    prevNode = node;
  }
  state.il_prev = resumeNode;
  state.il_weight = resumeWeight;
  return counts;
}

/**
 * alloc_pages_bulk_interleave(): plain interleave bulk allocation. Each node of the mask is
 * visited once through interleave_nodes() (so il_prev always advances nnodes times, unlike
 * nrPages sequential calls), the first `nrPages mod nnodes` visited nodes get one extra page.
 */
export function allocPagesBulkInterleave(
  state: InterleaveState,
  nodes: ArrayLike<number>,
  nrPages: number,
  out?: Float64Array,
): Float64Array {
  const counts = out ?? new Float64Array(nodes.length ? nodes[nodes.length - 1] + 1 : 0);
  counts.fill(0);
  const nnodes = nodes.length;
  if (nnodes === 0) return counts;
  const perNode = Math.floor(nrPages / nnodes);
  let delta = nrPages - nnodes * perNode;
  for (let i = 0; i < nnodes; i++) {
    const nid = interleaveNodes(state, nodes);
    if (delta) {
      counts[nid] += perNode + 1;
      delta--;
    } else {
      counts[nid] += perNode;
    }
  }
  return counts;
}
