import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/util/errors.js';
import { MAX_NUMNODES, type Mempolicy } from '../src/host/mempolicy.js';
import {
  buildPlacement,
  mpolRebind,
  mpolSetNodemask,
  nodesRemap,
  restrictToCpuset,
} from '../src/host/mempolicy-placement.js';
import { WeightedInterleaveWeights } from '../src/host/mempolicy-weights.js';
import { weightedInterleaveNid } from '../src/host/mempolicy-interleave.js';

/**
 * Test helper: build_zonelists() node order with find_next_best_node() and node_load = 0:
 * local node first, then the minimum of (distance + (n < node) + has-CPU) × MAX_NUMNODES,
 * strict < so ties go to the lowest id; memory nodes only.
 */
function buildZonelists(distance: number[][], hasCpu: boolean[], hasMemory: boolean[]): Int32Array[] {
  return distance.map((_, node) => {
    const used = new Set<number>();
    const order: number[] = [];
    if (hasMemory[node]) {
      used.add(node);
      order.push(node);
    }
    for (;;) {
      let best = -1;
      let min = Infinity;
      for (let n = 0; n < distance.length; n++) {
        if (!hasMemory[n] || used.has(n)) continue;
        const val = (distance[node][n] + (n < node ? 1 : 0) + (hasCpu[n] ? 1 : 0)) * MAX_NUMNODES;
        if (val < min) {
          min = val;
          best = n;
        }
      }
      if (best < 0) break;
      used.add(best);
      order.push(best);
    }
    return Int32Array.from(order);
  });
}

// SPEC.md CE-1.2 memtier-ex1: nodes 0-1 DRAM with CPUs, nodes 2-3 CPU-less slow memory.
const DIST = [
  [10, 20, 30, 40],
  [20, 10, 40, 30],
  [30, 40, 10, 40],
  [40, 30, 40, 10],
];
const ZL = buildZonelists(DIST, [true, true, false, false], [true, true, true, true]);
const NO_WEIGHTS: number[] = [];

const arr = (a: Int32Array | null): number[] | null => (a ? Array.from(a) : null);

test('zonelist helper reproduces find_next_best_node order for CE-1.2 memtier-ex1', () => {
  assert.deepEqual(
    ZL.map((z) => Array.from(z)),
    [
      [0, 1, 2, 3],
      [1, 0, 3, 2],
      [2, 0, 3, 1],
      [3, 1, 2, 0],
    ],
  );
  // A memoryless node's zonelist starts at its nearest memory node; a distance tie goes to
  // the node without CPUs, then to the lower id.
  const zl = buildZonelists(
    [
      [10, 20, 20],
      [20, 10, 20],
      [20, 20, 10],
    ],
    [true, true, false],
    [false, true, true],
  );
  assert.deepEqual(Array.from(zl[0]), [2, 1]);
});

function cands(pol: Mempolicy, cpuNode: number, ilx = 0, allowed?: number[]) {
  let p = buildPlacement(pol, cpuNode, ZL, NO_WEIGHTS);
  if (allowed) p = restrictToCpuset(p, allowed);
  const c = p.candidates(ilx);
  return { primary: arr(c.primary), noDR: c.primaryNoDirectReclaim, secondary: arr(c.secondary) };
}

test('default and local: the faulting CPU node zonelist', () => {
  assert.deepEqual(cands({ mode: 'default', nodes: [] }, 1), {
    primary: [1, 0, 3, 2],
    noDR: false,
    secondary: null,
  });
  assert.deepEqual(cands({ mode: 'local', nodes: [] }, 0).primary, [0, 1, 2, 3]);
});

test('preferred: zonelist of first_node(nodes), wherever the CPU is', () => {
  assert.deepEqual(cands({ mode: 'preferred', nodes: [2] }, 0).primary, [2, 0, 3, 1]);
  assert.deepEqual(cands({ mode: 'preferred', nodes: [3] }, 0).primary, [3, 1, 2, 0]);
});

test('bind: CPU node zonelist filtered to the mask, no fallback', () => {
  assert.deepEqual(cands({ mode: 'bind', nodes: [2, 3] }, 1), {
    primary: [3, 2],
    noDR: false,
    secondary: null,
  });
  assert.deepEqual(cands({ mode: 'bind', nodes: [2, 3] }, 0).primary, [2, 3]);
});

test('preferred_many: mask without direct reclaim, then everything', () => {
  assert.deepEqual(cands({ mode: 'preferred_many', nodes: [0, 2] }, 1), {
    primary: [0, 2],
    noDR: true,
    secondary: [1, 0, 3, 2],
  });
});

test('interleave: zonelist of interleave_nid(ilx), precomputed and shared', () => {
  const p = buildPlacement({ mode: 'interleave', nodes: [0, 2, 3] }, 1, ZL, NO_WEIGHTS);
  assert.deepEqual(arr(p.candidates(0).primary), [0, 1, 2, 3]);
  assert.deepEqual(arr(p.candidates(1).primary), [2, 0, 3, 1]);
  assert.deepEqual(arr(p.candidates(2).primary), [3, 1, 2, 0]);
  assert.equal(p.candidates(3), p.candidates(0), 'same precomputed object, no allocation per call');
  assert.equal(p.candidates(3).secondary, null);
  const d = buildPlacement({ mode: 'bind', nodes: [2] }, 0, ZL, NO_WEIGHTS);
  assert.equal(d.candidates(1), d.candidates(99));
});

test('weighted_interleave: zonelist of weighted_interleave_nid(ilx) with the given weights', () => {
  const w = new WeightedInterleaveWeights(4, [0, 1, 2, 3]);
  w.writeNode(0, '3');
  const pol: Mempolicy = { mode: 'weighted_interleave', nodes: [0, 2] };
  const p = buildPlacement(pol, 1, ZL, w);
  for (let ilx = 0; ilx < 40; ilx++) {
    const nid = weightedInterleaveNid(pol.nodes, w.table, ilx);
    assert.deepEqual(arr(p.candidates(ilx).primary), Array.from(ZL[nid]), `ilx ${ilx}`);
  }
  assert.deepEqual(arr(p.candidates(3).primary), [2, 0, 3, 1]);
  assert.deepEqual(arr(p.candidates(2 ** 40 + 3).primary), [2, 0, 3, 1]);
});

test('cpuset: every list is filtered to mems_allowed', () => {
  const allowed = [1, 3];
  assert.deepEqual(cands({ mode: 'default', nodes: [] }, 0, 0, allowed).primary, [1, 3]);
  assert.deepEqual(cands({ mode: 'preferred', nodes: [2] }, 0, 0, allowed).primary, [3, 1]);
  assert.deepEqual(cands({ mode: 'bind', nodes: [2, 3] }, 1, 0, allowed).primary, [3]);
  // Interleave picks from the policy mask, then falls back along that node's zonelist.
  assert.deepEqual(cands({ mode: 'interleave', nodes: [0, 2] }, 1, 0, allowed).primary, [1, 3]);
  assert.deepEqual(cands({ mode: 'interleave', nodes: [0, 2] }, 1, 1, allowed).primary, [3, 1]);
});

test('cpuset: a bind mask disjoint from mems_allowed falls back to the cpuset', () => {
  assert.deepEqual(cands({ mode: 'bind', nodes: [2] }, 1, 0, [1, 3]), {
    primary: [1, 3],
    noDR: false,
    secondary: null,
  });
});

test('cpuset: preferred_many first pass is mask ∩ mems_allowed, possibly empty', () => {
  assert.deepEqual(cands({ mode: 'preferred_many', nodes: [0, 2] }, 1, 0, [1, 3]), {
    primary: [],
    noDR: true,
    secondary: [1, 3],
  });
  assert.deepEqual(cands({ mode: 'preferred_many', nodes: [0, 2] }, 1, 0, [0, 1]).primary, [0]);
});

test('restrictToCpuset keeps the original placement intact', () => {
  const p = buildPlacement({ mode: 'default', nodes: [] }, 0, ZL, NO_WEIGHTS);
  const r = restrictToCpuset(p, [3]);
  assert.deepEqual(arr(r.candidates(0).primary), [3]);
  assert.deepEqual(arr(p.candidates(0).primary), [0, 1, 2, 3]);
  assert.deepEqual(r.memsAllowed, [3]);
  assert.equal(p.memsAllowed, null);
});

test('mpol_set_nodemask: policy nodes ∩ mems_allowed ∩ N_MEMORY; empty is EINVAL', () => {
  const mem = [0, 1, 2, 3];
  assert.deepEqual(mpolSetNodemask({ mode: 'bind', nodes: [0, 2] }, [1, 2], mem, 'p').nodes, [2]);
  assert.deepEqual(
    mpolSetNodemask({ mode: 'interleave', nodes: [0, 1, 2] }, [0, 1, 2], [0, 2], 'p').nodes,
    [0, 2],
  );
  assert.deepEqual(mpolSetNodemask({ mode: 'preferred', nodes: [0] }, [0, 3], mem, 'p').nodes, [0]);
  assert.deepEqual(mpolSetNodemask({ mode: 'local', nodes: [] }, [3], mem, 'p'), {
    mode: 'local',
    nodes: [],
  });
  assert.throws(
    () => mpolSetNodemask({ mode: 'bind', nodes: [0] }, [1, 2], mem, 'vms[0].mempolicy'),
    (e: unknown) =>
      e instanceof InputError && /^vms\[0\]\.mempolicy: none of nodes 0 .* 1-2 .*EINVAL/.test(e.message),
  );
});

test('nodes_remap: n-th old node maps to (n mod w)-th new node; others map to themselves', () => {
  assert.deepEqual(nodesRemap([0, 1], [0, 1], [2, 3]), [2, 3]);
  assert.deepEqual(nodesRemap([1], [0, 1], [2, 3]), [3]);
  assert.deepEqual(nodesRemap([0, 1, 2], [0, 1, 2], [5]), [5]);
  assert.deepEqual(nodesRemap([0, 4], [0, 1], [2, 3]), [2, 4]);
  assert.deepEqual(nodesRemap([0, 4], [], [2, 3]), [0, 4]);
});

test('mpol_rebind: remap, static intersect (empty → whole cpuset), preferred unchanged', () => {
  assert.deepEqual(mpolRebind({ mode: 'bind', nodes: [0, 1] }, [0, 1], [0, 1], [2, 3]).nodes, [2, 3]);
  assert.deepEqual(mpolRebind({ mode: 'interleave', nodes: [1] }, [1], [0, 1], [2, 3]).nodes, [3]);
  const st: Mempolicy = { mode: 'bind', nodes: [0, 1], staticNodes: true };
  assert.deepEqual(mpolRebind(st, [0, 1, 2], [0, 1], [1, 3]).nodes, [1]);
  assert.deepEqual(mpolRebind(st, [0, 1, 2], [0, 1], [3]).nodes, [3]);
  assert.deepEqual(
    mpolRebind({ mode: 'preferred_many', nodes: [0, 2] }, [0, 2], [0, 1, 2], [1]).nodes,
    [0, 2],
  );
  assert.deepEqual(mpolRebind({ mode: 'preferred', nodes: [0] }, [0], [0, 1], [1]).nodes, [0]);
});
