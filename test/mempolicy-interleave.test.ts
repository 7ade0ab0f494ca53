import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MAX_NUMNODES } from '../src/host/mempolicy.js';
import {
  type InterleaveState,
  allocPagesBulkInterleave,
  allocPagesBulkWeightedInterleave,
  interleaveNid,
  interleaveNodes,
  newInterleaveState,
  nextNodeIn,
  vmaInterleaveIndex,
  weightedInterleaveNid,
  weightedInterleaveNodes,
} from '../src/host/mempolicy-interleave.js';

interface TaskSeq {
  name: string;
  mode: 'interleave' | 'weighted_interleave';
  nodes: number[];
  weights?: Record<string, number>;
  sequence: number[];
  state_after?: { count: number; il_prev: number; il_weight: number };
}
interface VmaSeq {
  name: string;
  mode: 'interleave' | 'weighted_interleave';
  nodes: number[];
  weights?: Record<string, number>;
  ilx_to_node: Record<string, number>;
}
const ce3 = JSON.parse(
  readFileSync(new URL('../../test/fixtures/kernel-ce3-mempolicy.json', import.meta.url), 'utf8'),
) as {
  initial_task_state: { il_prev: number; il_weight: number };
  task_sequences: TaskSeq[];
  vma_sequences: VmaSeq[];
};

function weightArray(w: Record<string, number> | undefined): number[] {
  const out: number[] = [];
  for (const [k, v] of Object.entries(w ?? {})) out[Number(k)] = v;
  return out;
}

test('set_mempolicy initial cursor is il_prev = MAX_NUMNODES-1, il_weight = 0', () => {
  const { il_prev, il_weight } = ce3.initial_task_state;
  assert.deepEqual(newInterleaveState(), { il_prev, il_weight });
  assert.equal(MAX_NUMNODES - 1, ce3.initial_task_state.il_prev);
});

for (const row of ce3.task_sequences) {
  test(`CE-3 task path ${row.name}`, () => {
    const st = newInterleaveState();
    const w = weightArray(row.weights);
    const got: number[] = [];
    for (let i = 0; i < row.sequence.length; i++) {
      got.push(
        row.mode === 'interleave'
          ? interleaveNodes(st, row.nodes)
          : weightedInterleaveNodes(st, row.nodes, w),
      );
      if (row.state_after && i + 1 === row.state_after.count) {
        assert.deepEqual(
          { il_prev: st.il_prev, il_weight: st.il_weight },
          {
            il_prev: row.state_after.il_prev,
            il_weight: row.state_after.il_weight,
          },
        );
      }
    }
    assert.deepEqual(got, row.sequence);
  });
}

for (const row of ce3.vma_sequences) {
  test(`CE-3 VMA path ${row.name}`, () => {
    const w = weightArray(row.weights);
    for (const [ilx, nid] of Object.entries(row.ilx_to_node)) {
      const got =
        row.mode === 'interleave'
          ? interleaveNid(row.nodes, Number(ilx))
          : weightedInterleaveNid(row.nodes, w, Number(ilx));
      assert.equal(got, nid, `ilx ${ilx}`);
    }
  });
}

test('VMA path is periodic in ilx with period Σweights and matches the documented ratio', () => {
  const nodes = [0, 1];
  const w = [5, 2];
  const counts = [0, 0];
  for (let ilx = 0; ilx < 7000; ilx++) counts[weightedInterleaveNid(nodes, w, ilx)]++;
  assert.deepEqual(counts, [5000, 2000]);
  // Large virtual page numbers (48-bit addresses) stay exact.
  const big = 2 ** 36 + 5;
  assert.equal(weightedInterleaveNid(nodes, w, big), weightedInterleaveNid(nodes, w, big % 7));
});

test('interleave index of an anonymous VMA is the virtual page number at order 0', () => {
  const vmStartPfn = 0x7f0000000; // vm_start >> PAGE_SHIFT, vm_pgoff equals it for private anon
  assert.equal(vmaInterleaveIndex(vmStartPfn, vmStartPfn, vmStartPfn + 77), vmStartPfn + 77);
  // THP (order 9): one index per 2 MiB.
  assert.equal(
    vmaInterleaveIndex(vmStartPfn, vmStartPfn, vmStartPfn + 512 * 3 + 10, 9),
    vmStartPfn / 512 + 3,
  );
});

test('next_node_in wraps and returns MAX_NUMNODES for an empty mask', () => {
  assert.equal(nextNodeIn(MAX_NUMNODES - 1, [1, 3]), 1);
  assert.equal(nextNodeIn(1, [1, 3]), 3);
  assert.equal(nextNodeIn(3, [1, 3]), 1);
  assert.equal(nextNodeIn(0, []), MAX_NUMNODES);
  const st = newInterleaveState();
  assert.equal(interleaveNodes(st, []), MAX_NUMNODES);
  assert.equal(st.il_prev, MAX_NUMNODES - 1);
});

test('weighted task path: il_prev outside the (changed) mask moves on to the next node', () => {
  const st: InterleaveState = { il_prev: 2, il_weight: 4 };
  assert.equal(weightedInterleaveNodes(st, [0, 1, 3], [1, 1, 1, 2]), 3);
  assert.deepEqual(st, { il_prev: 3, il_weight: 1 });
});

function sequentialCounts(st: InterleaveState, nodes: number[], w: number[], n: number): Float64Array {
  const counts = new Float64Array(nodes[nodes.length - 1] + 1);
  for (let i = 0; i < n; i++) counts[weightedInterleaveNodes(st, nodes, w)]++;
  return counts;
}

/** The cursor as the next allocation will read it (il_weight 0 ≡ move to the next node). */
function normalized(st: InterleaveState, nodes: number[], w: number[]): [number, number] {
  if (st.il_weight && nodes.includes(st.il_prev)) return [st.il_prev, st.il_weight];
  const next = nextNodeIn(st.il_prev, nodes);
  return [next, w[next] || 1];
}

const arbMask = fc
  .uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 6 })
  .map((a) => a.sort((x, y) => x - y));
const arbWeights = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 });

test('bulk weighted interleave = sequential weighted interleave (counts, cursor, next allocations)', () => {
  fc.assert(
    fc.property(
      arbMask,
      arbWeights,
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 0, max: 40 }),
      fc.oneof(fc.constant(MAX_NUMNODES - 1), fc.integer({ min: 0, max: 7 })),
      fc.integer({ min: 0, max: 255 }),
      (nodes, w, nrPages, warmup, ilPrev, ilWeight) => {
        // Start from a cursor a real task could have: a fresh one or one left by earlier calls.
        const start: InterleaveState = {
          il_prev: ilPrev,
          il_weight: ilPrev === MAX_NUMNODES - 1 ? 0 : ilWeight,
        };
        for (let i = 0; i < warmup; i++) weightedInterleaveNodes(start, nodes, w);
        const seq = { ...start };
        const bulk = { ...start };
        const expected = sequentialCounts(seq, nodes, w, nrPages);
        const got = allocPagesBulkWeightedInterleave(bulk, nodes, w, nrPages);
        assert.deepEqual(Array.from(got), Array.from(expected));
        assert.deepEqual(normalized(bulk, nodes, w), normalized(seq, nodes, w));
        for (let i = 0; i < 20; i++) {
          assert.equal(weightedInterleaveNodes(bulk, nodes, w), weightedInterleaveNodes(seq, nodes, w));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('bulk weighted interleave keeps the exact (node, 0) resume state at a node boundary', () => {
  // weights 3:1, 3 pages from a fresh cursor: the partial round ends exactly on node 0.
  const st = newInterleaveState();
  const c = allocPagesBulkWeightedInterleave(st, [0, 1], [3, 1], 3);
  assert.deepEqual(Array.from(c), [3, 0]);
  assert.deepEqual(st, { il_prev: 0, il_weight: 0 });
  // An exact number of rounds resumes on the node after the last one, with its full weight.
  const st2 = newInterleaveState();
  allocPagesBulkWeightedInterleave(st2, [0, 1], [3, 1], 8);
  assert.deepEqual(st2, { il_prev: 0, il_weight: 3 });
});

test('plain bulk interleave: nr/nnodes each, the first nr mod nnodes visited nodes get one more', () => {
  const st = newInterleaveState();
  const c = allocPagesBulkInterleave(st, [0, 1, 2], 8);
  assert.deepEqual(Array.from(c), [3, 3, 2]);
  assert.equal(st.il_prev, 2);
  // The next bulk call starts after il_prev, so node 0 is again among the first visited.
  const c2 = allocPagesBulkInterleave(st, [0, 1, 2], 4);
  assert.deepEqual(Array.from(c2), [2, 1, 1]);
  // Unlike sequential allocation, one page still advances the cursor by nnodes.
  const st3 = newInterleaveState();
  assert.deepEqual(Array.from(allocPagesBulkInterleave(st3, [0, 1, 2], 1)), [1, 0, 0]);
  assert.equal(st3.il_prev, 2);
});
