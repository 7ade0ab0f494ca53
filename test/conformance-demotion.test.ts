import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMOTION_POLICIES } from '../src/policies/demotion/index.js';
import { findCycle } from '../src/policies/demotion/one-way.js';
import type { DemotionPolicy } from '../src/policies/demotion/types.js';
import { check, runVerified, tieredScenario } from './conformance-support.js';
import { makeTopology, simpleRandom } from './host-support.js';

/**
 * The conformance suite every registered demotion policy passes (generated from the
 * registry): on a host of two DRAM nodes and two slow nodes, a batch's targets are among the
 * policy's targets, canDemote() says whether there are any, targets are in a lower tier, the
 * demotion graph has no cycle; a run keeps the host's invariants and is byte-identical for the
 * same seed. Modules that do not keep a check name it in `conformance.skip` with the reason.
 */

const topo = makeTopology(
  [
    { pages: 256, cpu: true, preferred: [2] },
    { pages: 256, cpu: true, preferred: [3] },
    { pages: 512, cpu: false },
    { pages: 512, cpu: false },
  ],
  [
    [10, 20, 17, 28],
    [20, 10, 28, 17],
    [17, 28, 10, 20],
    [28, 17, 20, 10],
  ],
);
const dense = new Map(topo.nodes.map((n, i) => [n.id, i]));
/** Parameters that make each module do something on this host (the others take none). */
const PARAMS: Record<string, object> = {
  'one-way': { demotion_paths: { 0: [2, 3], 1: [3] } },
  single: { demotion_paths: { 0: [3] } },
  'distance-list': { demotion_history: true },
};

function policyOf(id: string): DemotionPolicy {
  return DEMOTION_POLICIES.get(id).create(PARAMS[id] ?? {}, { topo, dense });
}

for (const m of DEMOTION_POLICIES.modules()) {
  describe(`demotion policy ${m.id}: conformance`, () => {
    const nodes = topo.nodes.map((_, i) => i);
    check(m, 'batch-within-targets', () => {
      const p = policyOf(m.id);
      const rng = simpleRandom(5);
      const out = new Int32Array(topo.nodes.length);
      for (const n of nodes) {
        assert.equal(p.canDemote(n), p.targets(n).length > 0, `node ${n}: canDemote disagrees with targets`);
        for (let i = 0; i < 20; i++) {
          const k = p.batchTargets(n, rng, out);
          if (!p.canDemote(n)) assert.equal(k, 0, `node ${n} cannot demote but got targets`);
          for (let j = 0; j < k; j++)
            assert.ok(p.targets(n).includes(out[j]), `node ${n}: batch target ${out[j]} not in targets`);
          assert.ok(!out.subarray(0, k).includes(n), `node ${n} demotes to itself`);
        }
      }
    });
    check(m, 'lower-tier-targets', () => {
      const p = policyOf(m.id);
      for (const n of nodes)
        for (const t of p.targets(n))
          assert.ok(topo.nodes[t].tier > topo.nodes[n].tier, `node ${n} demotes to ${t}, not a lower tier`);
    });
    check(m, 'acyclic', () => {
      const p = policyOf(m.id);
      const graph = new Map(nodes.map((n) => [n, p.targets(n)]));
      assert.equal(findCycle(graph), null, 'the demotion graph has a cycle');
    });
    check(m, 'invariants-and-determinism', () => {
      const tiering = {
        demotion_policy: m.id,
        ...(m.id === 'one-way' ? { demotion_paths: { 0: [1] } } : {}),
      };
      const a = runVerified(tieredScenario(tiering));
      const b = runVerified(tieredScenario(tiering));
      assert.equal(a.bytes, b.bytes, 'two runs with the same seed differ');
      if (m.id === 'none')
        assert.equal(a.summary.vmstat.pgdemote_kswapd + a.summary.vmstat.pgdemote_direct, 0);
    });
  });
}

it('the demotion registry refuses a parameter of another policy, naming the policies that use it', () => {
  assert.throws(
    () => tieredScenario({ demotion_policy: 'kernel', demotion_paths: { 0: [1] } }),
    /tiering\.demotion_paths: only used by demotion_policy single or one-way, not kernel$/,
  );
  assert.throws(
    () => tieredScenario({ demotion_policy: 'one-way', demotion_paths: { 0: [1], 1: [0] } }),
    /one-way graph has a cycle 0 -> 1 -> 0/,
  );
});
