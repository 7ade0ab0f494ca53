import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PTE_YOUNG, RECLAIM_KSWAPD } from '../src/host/pte.js';
import { kswapdStep, memcgReclaim, proactiveReclaim, shrinkNode } from '../src/host/reclaim.js';
import { smallHost } from './host-support.js';
import { verifyHost } from '../src/host/verify.js';
import { DEMOTION_POLICIES } from '../src/policies/demotion/index.js';

/**
 * Invariants of the simulated kernel over random hosts and random operation sequences: every
 * page is free, or owned by exactly one address space and on exactly one LRU list (or kernel
 * memory on none); per-node and per-cgroup counters equal a recount; memory.max holds after
 * reclaim; swap is never overcommitted, nor memory.swap.max, and swap is charged to the right
 * groups; demotion never moves a page into a faster tier — with every registered demotion policy.
 */

const op = fc.oneof(
  fc.record({
    kind: fc.constant('touch' as const),
    as: fc.nat(2),
    from: fc.nat(1500),
    len: fc.integer({ min: 1, max: 300 }),
    write: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('kswapd' as const), node: fc.nat(2) }),
  fc.record({ kind: fc.constant('shrink' as const), node: fc.nat(2), prio: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ kind: fc.constant('memcg' as const), memcg: fc.nat(2), nr: fc.integer({ min: 1, max: 200 }) }),
  fc.record({
    kind: fc.constant('proactive' as const),
    memcg: fc.nat(2),
    nr: fc.integer({ min: 1, max: 200 }),
  }),
  fc.record({ kind: fc.constant('kernel' as const), memcg: fc.nat(2), nr: fc.integer({ min: 1, max: 50 }) }),
);

const hostShape = fc.record({
  dram: fc.integer({ min: 256, max: 2048 }),
  slow: fc.integer({ min: 256, max: 4096 }),
  swap: fc.integer({ min: 0, max: 3000 }),
  demotion: fc.boolean(),
  // Every registered demotion policy, with parameters that make it act on this host.
  policy: fc.constantFrom(...DEMOTION_POLICIES.ids()),
  tiering: fc.boolean(),
  max1: fc.option(fc.integer({ min: 64, max: 1500 }), { nil: undefined }),
  max2: fc.option(fc.integer({ min: 64, max: 1500 }), { nil: undefined }),
  low1: fc.integer({ min: 0, max: 300 }),
  min2: fc.integer({ min: 0, max: 600 }),
  swapMax2: fc.option(fc.integer({ min: 0, max: 800 }), { nil: undefined }),
  minExtra: fc.integer({ min: 0, max: 300 }),
  filePages: fc.integer({ min: 0, max: 600 }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

describe('host invariants (property-based)', () => {
  it('hold after every operation of random sequences', () => {
    fc.assert(
      fc.property(hostShape, fc.array(op, { minLength: 1, maxLength: 40 }), (shape, ops) => {
        const host = smallHost({
          nodes: [
            { pages: shape.dram, cpu: true, preferred: [2] },
            { pages: shape.dram, cpu: true, preferred: [2] },
            { pages: shape.slow, cpu: false },
          ],
          cgroups: [
            {
              path: '/a',
              memoryMax: shape.max1 ?? Infinity,
              memoryHigh: Infinity,
              memoryLow: shape.low1,
              memoryMin: shape.min2 + shape.minExtra,
            },
            {
              path: '/a/b',
              memoryMax: shape.max2 ?? Infinity,
              memoryHigh: Infinity,
              memoryLow: 0,
              memoryMin: shape.min2,
              swapMax: shape.swapMax2 ?? Infinity,
            },
          ],
          spaces: [
            { pages: 1800, memcg: 1, cpuNode: 0, filePages: shape.filePages },
            { pages: 1800, memcg: 2, cpuNode: 1 },
            { pages: 1800, memcg: 0, cpuNode: 0 },
          ],
          swapPages: shape.swap,
          demotionEnabled: shape.demotion,
          demotion: (topo) =>
            DEMOTION_POLICIES.get(shape.policy).create(
              {
                ...(shape.policy === 'one-way' ? { demotion_paths: { 0: [2], 1: [2] } } : {}),
                // Without history, distance-list pages may circle between nodes within one
                // reclaim call for as long as it runs (the cycling the policy exists to show).
                ...(shape.policy === 'distance-list' ? { demotion_history: true } : {}),
              },
              { topo, dense: new Map(topo.nodes.map((n, i) => [n.id, i])) },
            ),
          numaBalancing: shape.tiering ? 2 : 0,
          seed: shape.seed,
        });
        const tierOf = host.topo.nodes.map((n) => n.tier);
        const mayGoUp =
          DEMOTION_POLICIES.get(shape.policy).conformance?.skip['lower-tier-targets'] !== undefined;
        const upMoves = () => host.ledger.up.reduce((x, y) => x + y, 0);
        for (const o of ops) {
          // Node of every mapped virtual page before the operation.
          const nodeBefore = new Int16Array(host.pt.length).fill(-1);
          const usageB = host.cgroups.usage[2];
          const upBefore = upMoves();
          const alive = host.spaces.map((as) => as.alive);
          for (let g = 0; g < host.pt.length; g++)
            if (host.pt[g] >= 0) nodeBefore[g] = host.frames.nodeOf(host.pfnAt(g));
          switch (o.kind) {
            case 'touch': {
              const as = host.spaces[o.as];
              for (let v = o.from; v < Math.min(o.from + o.len, as.pages) && as.alive; v++) {
                if (host.pt[as.base + v] < 0) host.fault(as, v, o.write);
                if (as.alive) host.pt[as.base + v] |= PTE_YOUNG;
              }
              break;
            }
            case 'kswapd':
              kswapdStep(host, o.node);
              break;
            case 'shrink':
              shrinkNode(host, o.node, 64, o.prio, {
                reclaimer: RECLAIM_KSWAPD,
                targetMemcg: -1,
                memcgLowReclaim: false,
                noDemotion: false,
                costNs: 0,
              });
              break;
            case 'memcg':
              memcgReclaim(host, o.memcg, o.nr, 0);
              break;
            case 'proactive':
              proactiveReclaim(host, o.memcg, o.nr);
              break;
            case 'kernel':
              host.allocKernelPages(o.memcg, Int32Array.from([0, 1, 2]), o.nr);
              break;
          }
          const bad = verifyHost(host);
          assert.equal(bad, null, `${o.kind}: ${bad}`);
          for (let c = 1; c < host.cgroups.count; c++) {
            assert.ok(
              host.cgroups.usage[c] <= host.cgroups.memoryMax[c],
              `memory.max of ${host.cgroups.paths[c]} exceeded`,
            );
          }
          // memory.min: /a protects at least what /a/b asks for, so /a/b's effective min is
          // min(usage, memory.min). Within it, no reclaim but /a/b's own takes anything (an OOM
          // kill may free it).
          const reclaimFromAbove =
            o.kind === 'kswapd' ||
            o.kind === 'shrink' ||
            ((o.kind === 'memcg' || o.kind === 'proactive') && o.memcg !== 2);
          if (
            reclaimFromAbove &&
            usageB <= shape.min2 &&
            host.spaces.every((as, i) => as.alive === alive[i])
          ) {
            assert.ok(
              host.cgroups.usage[2] >= usageB,
              `memory.min: /a/b went from ${usageB} to ${host.cgroups.usage[2]}`,
            );
          }
          // Reclaim never moves a page up a tier (promotion is not part of these operations):
          // no migration the ledger saw went up, and, where no page can be faulted back in
          // (a touch may evict a page and fault it in again elsewhere), no mapped page did.
          // Unless the policy demotes to any node by design (it says so in its conformance skips).
          if (mayGoUp) continue;
          assert.equal(upMoves(), upBefore, 'a migration went to a faster tier');
          if (o.kind !== 'touch') {
            for (let g = 0; g < host.pt.length; g++) {
              const p = host.pfnAt(g);
              if (p >= 0 && nodeBefore[g] >= 0) {
                assert.ok(
                  tierOf[host.frames.nodeOf(p)] >= tierOf[nodeBefore[g]],
                  'a page moved to a faster tier',
                );
              }
            }
          }
        }
      }),
      { numRuns: 100, seed: 20261125 },
    );
  });
});
