import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeTopology } from '../src/topology/load.js';
import { adistanceStart } from '../src/topology/memory-tiers.js';
import { buildTopologyModel, topologyModelToJSON } from '../src/topology/model.js';

// Invariants that must hold for any valid topology, checked over random hosts (fixed seed).

const ADISTS = [300, 500, 576, 600, 640, 700, 1000, 2304, 2880, 4000];

const topologyArb = fc
  .integer({ min: 1, max: 7 })
  .chain((k) =>
    fc.record({
      ids: fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: k, maxLength: k }),
      cpu: fc.array(fc.boolean(), { minLength: k, maxLength: k }),
      adist: fc.array(fc.option(fc.oneof(fc.constantFrom(...ADISTS), fc.integer({ min: 1, max: 5000 }))), {
        minLength: k,
        maxLength: k,
      }),
      perf: fc.array(
        fc.option(
          fc.record({
            read_latency: fc.integer({ min: 50, max: 1000 }),
            write_latency: fc.integer({ min: 50, max: 1000 }),
            read_bandwidth: fc.integer({ min: 1000, max: 500000 }),
            write_bandwidth: fc.integer({ min: 1000, max: 500000 }),
          }),
        ),
        { minLength: k, maxLength: k },
      ),
      // 64MiB .. 4TiB
      sizeMiB: fc.array(fc.integer({ min: 64, max: 4 * 1024 * 1024 }), { minLength: k, maxLength: k }),
      movable: fc.array(fc.boolean(), { minLength: k, maxLength: k }),
      distance: fc.array(fc.array(fc.integer({ min: 11, max: 60 }), { minLength: k, maxLength: k }), {
        minLength: k,
        maxLength: k,
      }),
      symmetric: fc.boolean(),
      watermarkScaleFactor: fc.integer({ min: 1, max: 3000 }),
      nodeLoad: fc.constantFrom('kernel' as const, 'zero' as const),
    }),
  )
  .map((r) => {
    const k = r.ids.length;
    const cpu = r.cpu.some(Boolean) ? r.cpu : r.cpu.map((_, i) => i === 0);
    const movable = r.movable.every(Boolean) ? r.movable.map((_, i) => i !== 0) : r.movable;
    const order = [...r.ids].sort((a, b) => a - b);
    const distance = order.map((_, i) =>
      order.map((__, j) => (i === j ? 10 : r.symmetric && j < i ? r.distance[j][i] : r.distance[i][j])),
    );
    const nodes = r.ids.map((id, i) => ({
      id,
      cpu: cpu[i],
      size: `${r.sizeMiB[i]}MiB`,
      zone: movable[i] ? 'movable' : 'normal',
      ...(r.adist[i] !== null ? { adist: r.adist[i] } : {}),
      ...(r.perf[i] ?? {}),
    }));
    return {
      doc: { nodes, distance },
      k,
      watermarkScaleFactor: r.watermarkScaleFactor,
      nodeLoad: r.nodeLoad,
    };
  });

function hasCycle(edges: ReadonlyMap<number, readonly number[]>): boolean {
  const state = new Map<number, 'open' | 'done'>();
  const visit = (n: number): boolean => {
    if (state.get(n) === 'done') return false;
    if (state.get(n) === 'open') return true;
    state.set(n, 'open');
    for (const m of edges.get(n) ?? []) if (visit(m)) return true;
    state.set(n, 'done');
    return false;
  };
  return [...edges.keys()].some(visit);
}

describe('topology invariants over random hosts', () => {
  it('demotion only goes to strictly slower tiers, preferred is in fallback and in the next tier, no cycles', () => {
    fc.assert(
      fc.property(topologyArb, ({ doc, nodeLoad }) => {
        const m = buildTopologyModel(normalizeTopology(doc), { nodeLoad });
        const start = new Map(m.nodes.map((n) => [n.id, adistanceStart(n.adistance)]));
        const tierIndex = new Map<number, number>();
        m.tiers.forEach((t, i) => t.nodes.forEach((id) => tierIndex.set(id, i)));
        const edges = new Map<number, readonly number[]>();
        for (const n of m.nodes) {
          const { preferred, fallback } = n.demotion;
          for (const t of [...preferred, ...fallback]) {
            assert.ok(start.get(t)! > start.get(n.id)!, `node ${n.id} demotes to ${t}, not a slower tier`);
          }
          for (const t of preferred)
            assert.ok(fallback.includes(t), `preferred ${t} of node ${n.id} not in fallback`);
          const ti = tierIndex.get(n.id)!;
          if (ti === m.tiers.length - 1) {
            assert.deepEqual([preferred, fallback], [[], []], `last-tier node ${n.id} has targets`);
          } else {
            assert.ok(
              preferred.length > 0,
              `node ${n.id} is not in the last tier but has no preferred target`,
            );
            const next = m.tiers[ti + 1].nodes;
            for (const t of preferred)
              assert.ok(next.includes(t), `preferred ${t} of node ${n.id} is not in the next tier`);
            const d = m.topology.distance.get(n.id)!;
            assert.equal(
              new Set(preferred.map((t) => d.get(t))).size,
              1,
              'preferred nodes share one distance',
            );
            assert.deepEqual(
              [...fallback],
              m.tiers
                .slice(ti + 1)
                .flatMap((t) => [...t.nodes])
                .sort((a, b) => a - b),
            );
          }
          edges.set(n.id, fallback);
        }
        assert.equal(hasCycle(edges), false, 'demotion graph has a cycle');
      }),
      { seed: 20190430, numRuns: 400 },
    );
  });

  it('watermarks strictly increase: min < low < high < promo', () => {
    fc.assert(
      fc.property(topologyArb, ({ doc, watermarkScaleFactor }) => {
        const m = buildTopologyModel(normalizeTopology(doc), { watermarkScaleFactor });
        for (const n of m.nodes) {
          const w = n.watermarks;
          assert.ok(
            w.min < w.low && w.low < w.high && w.high < w.promo,
            `node ${n.id}: ${JSON.stringify(w)}`,
          );
          assert.equal(w.high - w.low, w.low - w.min);
          assert.equal(w.promo - w.high, w.low - w.min);
          if (n.zone === 'movable') assert.ok(w.min >= 32 && w.min <= 128);
        }
        assert.ok(m.minFreeKbytes >= 128 && m.minFreeKbytes <= 262144);
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it('top tier, zonelists and determinism', () => {
    fc.assert(
      fc.property(topologyArb, ({ doc, nodeLoad }) => {
        const topo = normalizeTopology(doc);
        const m = buildTopologyModel(topo, { nodeLoad });
        // The slowest tier with a CPU node and everything faster are top tier; nothing slower is.
        const cpuTiers = m.tiers.filter((t) =>
          t.nodes.some((id) => m.nodes.find((n) => n.id === id)!.cpus.length > 0),
        );
        const boundary = cpuTiers[cpuTiers.length - 1].adistanceStart;
        for (const n of m.nodes) assert.equal(n.toptier, adistanceStart(n.adistance) <= boundary);
        for (const n of m.nodes) {
          const z = m.zonelists.get(n.id)!;
          assert.equal(z[0], n.id);
          assert.deepEqual(
            [...z].sort((a, b) => a - b),
            m.nodes.map((x) => x.id),
          );
        }
        const again = buildTopologyModel(normalizeTopology(doc), { nodeLoad });
        assert.deepEqual(topologyModelToJSON(again), topologyModelToJSON(m));
      }),
      { seed: 77, numRuns: 300 },
    );
  });
});
