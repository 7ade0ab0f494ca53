import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectDefaultDramPerf, mtPerfToAdistance } from '../src/topology/adistance.js';
import { dumpDemotionTargets } from '../src/topology/demotion.js';
import { formatNumactlHardware } from '../src/topology/format.js';
import { loadTopologyFile, normalizeTopology } from '../src/topology/load.js';
import { buildTopologyModel } from '../src/topology/model.js';
import { InputError } from '../src/util/errors.js';
import { buildAllZonelists, zonelistOrder } from '../src/topology/zonelist.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Hand-computed cases beyond the kernel's own examples: each expectation below is derived in the
// comment next to it from find_next_best_node() / establish_demotion_targets() / mt_perf_to_adistance().

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const model = (doc: unknown, opts = {}) => buildTopologyModel(normalizeTopology(doc), opts);
const demotionOf = (m: ReturnType<typeof model>) =>
  Object.fromEntries(
    [...m.demotion].map(([id, d]) => [id, { preferred: [...d.preferred], fallback: [...d.fallback] }]),
  );

describe('demotion target selection', () => {
  it('two slow nodes at the same distance are both preferred', () => {
    // From node 0 both PMEM nodes score 20 (no penalties): 1 is picked first (lowest id), 2 follows
    // at the same raw distance, so both stay in the preferred set.
    const m = model({
      nodes: [
        { id: 0, cpus: [0] },
        { id: 1, cpus: [] },
        { id: 2, cpus: [] },
      ],
      distance: [
        [10, 20, 20],
        [20, 10, 30],
        [20, 30, 10],
      ],
    });
    assert.deepEqual(demotionOf(m)[0], { preferred: [1, 2], fallback: [1, 2] });
  });

  it('a one-step-closer node loses when it sits below the source and has CPUs (+1 +1)', () => {
    // Source node 1 (DRAM). Next tier: node 0 (slow, with CPUs) at distance 20 and node 2 (slow,
    // CPU-less) at 21. Scores: node 0 = 20 + 1 (0 < 1) + 1 (CPUs) = 22, node 2 = 21. Node 2 is
    // picked first; node 0's raw distance (20) differs from 21, so the walk stops there.
    const m = model({
      nodes: [
        { id: 0, cpus: [0], adist: 2880 },
        { id: 1, cpus: [1] },
        { id: 2, cpus: [] },
      ],
      distance: [
        [10, 20, 30],
        [20, 10, 21],
        [30, 21, 10],
      ],
    });
    assert.deepEqual(demotionOf(m)[1], { preferred: [2], fallback: [0, 2] });
  });

  it('with a single +1 the scores tie and node_load / the lower id decide', () => {
    // Source node 1. Node 0 (CPU-less, below) at 20 scores 21; node 2 (CPU-less) at 21 scores 21.
    // node_load after __build_all_zonelists: node 0 builds 0,1,2 (1 and 2 start groups: load1,
    // load2 = 1); node 1 builds 1, then 0 (21*N+0 beats 2's 21*N+1) and 2 (load0 = 1, load2 = 2);
    // node 2 builds 2, 1 (21+1+1 = 23 beats 30+1), 0 (load1 = 2, load0 = 2). Final loads 2,2,2:
    // still a tie, so the lowest id (node 0, distance 20) wins and node 2 (21) is cut off.
    const doc = {
      nodes: [
        { id: 0, cpus: [], adist: 2880 },
        { id: 1, cpus: [1] },
        { id: 2, cpus: [], adist: 2880 },
      ],
      distance: [
        [10, 20, 30],
        [20, 10, 21],
        [30, 21, 10],
      ],
    };
    const topo = normalizeTopology(doc);
    assert.deepEqual(
      [...buildAllZonelists(topo, 'kernel').nodeLoad],
      [
        [0, 2],
        [1, 2],
        [2, 2],
      ],
    );
    for (const nodeLoad of ['kernel', 'zero'] as const) {
      assert.deepEqual(demotionOf(model(doc, { nodeLoad }))[1], { preferred: [0], fallback: [0, 2] });
    }
  });

  it('node_load left by build_all_zonelists can flip a tie (kernel) where all-zero loads would not', () => {
    // CPU only on node 0, which is in the slow tier (adist 2880); node 1 (adist 1000) demotes into
    // {0, 2}. Scores from node 1: node 0 = 20 + 1 + 1 = 22, node 2 = 22. Loads after the zonelist
    // build: node 0 builds 0,1,2 -> load1 = 1; node 1 builds 1,0,2 -> load0 = 1, load2 = 1;
    // node 2 builds 2,0 (22 vs 23),1 -> load0 = 2, load1 = 2. So node 2 (load 1) beats node 0
    // (load 2) and, at distance 22, cuts off node 0 (20). With zero loads node 0 wins instead.
    const doc = {
      nodes: [
        { id: 0, cpus: [0], adist: 2880 },
        { id: 1, cpus: [], adist: 1000 },
        { id: 2, cpus: [], adist: 2880 },
      ],
      distance: [
        [10, 20, 20],
        [20, 10, 22],
        [20, 22, 10],
      ],
    };
    const topo = normalizeTopology(doc);
    assert.deepEqual(
      [...buildAllZonelists(topo, 'kernel').nodeLoad],
      [
        [0, 2],
        [1, 2],
        [2, 1],
      ],
    );
    assert.deepEqual(demotionOf(model(doc, { nodeLoad: 'kernel' }))[1], { preferred: [2], fallback: [0, 2] });
    assert.deepEqual(demotionOf(model(doc, { nodeLoad: 'zero' }))[1], { preferred: [0], fallback: [0, 2] });
  });

  it('three tiers: preferred comes from the next tier only, fallback spans both slower tiers', () => {
    // HBM node 0 (adist 300, tier 2), DRAM nodes 1-2 (tier 4), PMEM nodes 3-4 (tier 22).
    // Node 0's closest DRAM node is 1 (12 < 22); the closer PMEM node 3 (15) is not a candidate.
    const m = model({
      nodes: [
        { id: 0, cpus: [], class: 'hbm', adist: 300 },
        { id: 1, cpus: [0, 1] },
        { id: 2, cpus: [2, 3] },
        { id: 3, cpus: [] },
        { id: 4, cpus: [] },
      ],
      distance: [
        [10, 12, 22, 15, 25],
        [12, 10, 21, 17, 28],
        [22, 21, 10, 28, 17],
        [15, 17, 28, 10, 28],
        [25, 28, 17, 28, 10],
      ],
    });
    assert.deepEqual(
      m.tiers.map((t) => [t.id, [...t.nodes]]),
      [
        [2, [0]],
        [4, [1, 2]],
        [22, [3, 4]],
      ],
    );
    assert.deepEqual(demotionOf(m), {
      0: { preferred: [1], fallback: [1, 2, 3, 4] },
      1: { preferred: [3], fallback: [3, 4] },
      2: { preferred: [4], fallback: [3, 4] },
      3: { preferred: [], fallback: [] },
      4: { preferred: [], fallback: [] },
    });
    assert.equal(m.topTierAdistance, 639);
    assert.deepEqual(
      m.nodes.map((n) => n.toptier),
      [true, true, true, false, false],
    );
  });
});

describe('top tier boundary', () => {
  it('a CPU on a slow node makes its tier the top tier (no promotion source left)', () => {
    // Node 1 is PMEM (class default 2880, tier 22) but has CPUs: the slowest tier with a CPU is 22,
    // so top_tier_adistance = 2816 + 127 and every node is top tier. Demotion is unaffected.
    const m = model({
      nodes: [
        { id: 0, cpus: [0, 1] },
        { id: 1, cpus: [2, 3], class: 'pmem' },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.equal(m.nodes[1].adistance, 2880);
    assert.equal(m.topTierAdistance, 2943);
    assert.deepEqual(
      m.nodes.map((n) => n.toptier),
      [true, true],
    );
    assert.deepEqual(demotionOf(m)[0], { preferred: [1], fallback: [1] });
  });
});

describe('small and sparse hosts', () => {
  it('a single node: one tier, no demotion, CE-5 watermarks of its default 16GiB', () => {
    const m = model({ nodes: [{ id: 0, cpu: true }] });
    assert.deepEqual(
      m.tiers.map((t) => [t.id, [...t.nodes]]),
      [[4, [0]]],
    );
    assert.deepEqual(demotionOf(m), { 0: { preferred: [], fallback: [] } });
    assert.deepEqual(dumpDemotionTargets(m.topology, m.demotion), ['Demotion targets for Node 0: null']);
    assert.deepEqual([...m.zonelists.get(0)!], [0]);
    assert.deepEqual(m.nodes[0].cpus, [0, 1, 2, 3]);
    assert.equal(m.minFreeKbytes, 16384);
    assert.deepEqual({ ...m.nodes[0].watermarks }, { min: 4096, low: 8290, high: 12484, promo: 16678 });
  });

  it('sparse node ids 0 and 2: matrix in id order, range lists and numactl header', () => {
    const m = model({
      nodes: [
        { id: 2, cpus: [] },
        { id: 0, cpus: [0, 1] },
      ],
      distance: [
        [10, 17],
        [17, 10],
      ],
    });
    assert.deepEqual(
      m.nodes.map((n) => n.id),
      [0, 2],
    );
    assert.deepEqual(demotionOf(m), {
      0: { preferred: [2], fallback: [2] },
      2: { preferred: [], fallback: [] },
    });
    assert.deepEqual(formatNumactlHardware(m.topology), [
      'available: 2 nodes (0,2)',
      'node 0 cpus: 0 1',
      'node 0 size: 16384 MB',
      'node 0 free: 16384 MB',
      'node 2 cpus:',
      'node 2 size: 16384 MB',
      'node 2 free: 16384 MB',
      'node distances:',
      'node     0    2 ',
      '   0:   10   17 ',
      '   2:   17   10 ',
    ]);
  });

  it('an asymmetric SLIT is accepted and each direction is used as given', () => {
    // From node 0: node 1 at 20, node 2 at 25 -> preferred 1. From node 3 (also DRAM) row 3 is
    // used: node 2 at 18 + 1 beats node 1 at 24 + 1, although column 3 has node 1 nearer (15).
    const m = model({
      nodes: [
        { id: 0, cpus: [0] },
        { id: 1, cpus: [] },
        { id: 2, cpus: [] },
        { id: 3, cpus: [1] },
      ],
      distance: [
        [10, 20, 25, 21],
        [30, 10, 30, 15],
        [30, 30, 10, 30],
        [21, 24, 18, 10],
      ],
    });
    assert.deepEqual(demotionOf(m)[0].preferred, [1]);
    assert.deepEqual(demotionOf(m)[3].preferred, [2]);
  });
});

describe('zonelist order (find_next_best_node over all memory nodes)', () => {
  it('pmem-2socket example: local PMEM before the remote socket, CPU penalty and "n < node" applied', () => {
    // Node 1: node 0 = 21 + 1 (below) + 1 (CPUs) = 23, node 2 = 28, node 3 = 17 -> 3, 0, 2. Node 2: node 0 = 17 + 1 + 1 = 19, node 1 = 28 + 1 + 1 = 30, node 3 = 28 -> 0, 3, 1.
    // Node 3: node 0 = 28 + 2 = 30, node 1 = 17 + 2 = 19, node 2 = 28 + 1 = 29 -> 1, 2, 0.
    const topo = loadTopologyFile(resolve(root, 'examples/topologies/pmem-2socket.yaml'));
    assert.deepEqual(zonelistOrder(topo, 0), [0, 2, 1, 3]);
    assert.deepEqual(zonelistOrder(topo, 1), [1, 3, 0, 2]);
    assert.deepEqual(zonelistOrder(topo, 2), [2, 0, 3, 1]);
    assert.deepEqual(zonelistOrder(topo, 3), [3, 1, 2, 0]);
  });

  it("node_load accumulated by earlier builds changes a later node's order (kernel), not with zero loads", () => {
    // CPUs on nodes 0 and 3, every distance 21. Node 0 builds 0,1,2,3 (load1 = 1); node 1 builds
    // 1,2 (21 beats 22 and 23),3,0 (load2 = 1). Node 2: node 1 scores 21 + 1 = 22 with load 1,
    // node 3 scores 21 + 1 (CPUs) = 22 with load 0, node 0 scores 23 -> 3 first: 2,3,1,0.
    // With zero loads nodes 1 and 3 tie and the lower id goes first: 2,1,3,0.
    const topo = normalizeTopology({
      nodes: [0, 1, 2, 3].map((id) => ({ id, cpus: id === 0 || id === 3 ? [id] : [] })),
      distance: [0, 1, 2, 3].map((a) => [0, 1, 2, 3].map((b) => (a === b ? 10 : 21))),
    });
    assert.deepEqual(zonelistOrder(topo, 2, 'kernel'), [2, 3, 1, 0]);
    assert.deepEqual(zonelistOrder(topo, 2, 'zero'), [2, 1, 3, 0]);
    assert.deepEqual(zonelistOrder(topo, 1, 'kernel'), [1, 2, 3, 0]);
  });
});

describe('performance-based abstract distance', () => {
  const dram = { read_latency: 100, write_latency: 100, read_bandwidth: 100000, write_bandwidth: 100000 };
  const pmemPerf = { read_latency: 200, write_latency: 200, read_bandwidth: 50000, write_bandwidth: 50000 };
  const twoDramOnePmem = (dram1: Record<string, number>) => ({
    nodes: [
      { id: 0, cpus: [0], ...dram },
      { id: 1, cpus: [1], ...dram1 },
      { id: 2, cpus: [], ...pmemPerf },
    ],
    distance: [
      [10, 20, 17],
      [20, 10, 28],
      [17, 28, 10],
    ],
  });

  it('a second DRAM node exactly 10 % off is tolerated (abs(diff) * 10 > ref is false)', () => {
    const m = model(twoDramOnePmem({ ...dram, read_latency: 110 }));
    assert.equal(m.dramPerf.referenceNode, 0);
    assert.equal(m.dramPerf.mismatchNode, null);
    assert.equal(m.nodes[2].adistance, 2304);
    // Node 1 also gets its own performance-based value: 576 * 210 / 200 * 200000 / 200000 = 604.
    assert.equal(m.nodes[1].adistance, 604);
  });

  it('more than 10 % off disables performance-based adistance for every node', () => {
    const m = model(twoDramOnePmem({ ...dram, write_bandwidth: 89999 }));
    assert.equal(m.dramPerf.mismatchNode, 1);
    assert.equal(m.dramPerf.usable, false);
    assert.deepEqual(
      m.nodes.map((n) => [n.adistance, n.adistanceSource]),
      [
        [576, 'class-default'],
        [576, 'class-default'],
        [2880, 'class-default'],
      ],
    );
  });

  it('a DRAM node within tolerance can still land one tier down and become a demotion target', () => {
    // Node 1: latency +10 %, bandwidth -10 %: 576 * 220 / 200 = 633, 633 * 200000 / 180000 = 703
    // -> memory_tier5. Node 0 (tier 4) then demotes to node 1, and tier 5 holds CPUs, so it is the
    // top tier boundary (703 is below 767).
    const m = model(
      twoDramOnePmem({
        read_latency: 110,
        write_latency: 110,
        read_bandwidth: 90000,
        write_bandwidth: 90000,
      }),
    );
    assert.equal(m.nodes[1].adistance, 703);
    assert.equal(m.nodes[1].tier, 5);
    assert.deepEqual(demotionOf(m)[0], { preferred: [1], fallback: [1, 2] });
    assert.deepEqual(demotionOf(m)[1], { preferred: [2], fallback: [2] });
    assert.equal(m.topTierAdistance, 767);
  });

  it('the reference is the lowest-id CPU+DRAM node that has performance data', () => {
    const topo = normalizeTopology({
      nodes: [
        { id: 0, cpus: [0] },
        { id: 1, cpus: [], class: 'dram', ...pmemPerf },
        { id: 2, cpus: [1], ...dram },
      ],
      distance: [
        [10, 20, 20],
        [20, 10, 20],
        [20, 20, 10],
      ],
    });
    assert.equal(collectDefaultDramPerf(topo).referenceNode, 2);
  });

  it('without a reference DRAM node, performance data is unused and class defaults apply', () => {
    const m = model({
      nodes: [
        { id: 0, cpus: [0] },
        { id: 1, cpus: [], class: 'cxl', ...pmemPerf },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.equal(m.dramPerf.referenceNode, null);
    assert.deepEqual([m.nodes[1].adistance, m.nodes[1].adistanceSource], [2880, 'class-default']);
  });

  it('an explicit adist wins over performance data', () => {
    const m = model({
      nodes: [
        { id: 0, cpus: [0], ...dram },
        { id: 1, cpus: [], adist: 1000, ...pmemPerf },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.deepEqual([m.nodes[1].adistance, m.nodes[1].adistanceSource], [1000, 'explicit']);
  });

  it('wraps like the kernel unsigned int arithmetic', () => {
    // 576 * 8000000 = 4608000000 -> mod 2^32 = 313032704; / 200 = 1565163; * 200000 =
    // 313032600000 -> mod 2^32 = 3794954688; / 100000 = 37949.
    const slow = {
      read_latency: 4000000,
      write_latency: 4000000,
      read_bandwidth: 50000,
      write_bandwidth: 50000,
    };
    assert.equal(mtPerfToAdistance(slow, dram), 37949);
  });

  it('an HBM node whose performance data cannot be used is refused, naming adist', () => {
    assert.throws(
      () =>
        model({
          nodes: [
            { id: 0, cpus: [0] },
            { id: 1, cpus: [], class: 'hbm', ...pmemPerf },
          ],
          distance: [
            [10, 20],
            [20, 10],
          ],
        }),
      (e: unknown) =>
        e instanceof InputError && /node 1\.adist/.test(e.message) && /no reference DRAM/.test(e.message),
    );
  });
});

describe('watermarks', () => {
  it('ZONE_MOVABLE: WMARK_MIN clamped to [32, 128], not counted in lowmem, gap from its own size', () => {
    // Normal 64GiB node: lowmem = 16777216 pages -> min_free_kbytes 32768, pages_min 8192.
    // Movable 1TiB node: managed 268435456; tmp = 8192 * 268435456 / 16777216 = 131072;
    // MIN = clamp(268435456 / 1024, 32, 128) = 128; gap = max(131072 >> 2, 268435456 * 10 / 10000)
    // = max(32768, 268435) = 268435.
    const m = model({
      nodes: [
        { id: 0, cpus: [0], size: '64GiB' },
        { id: 1, cpus: [], size: '1TiB', zone: 'movable' },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.equal(m.minFreeKbytes, 32768);
    assert.deepEqual({ ...m.nodes[0].watermarks }, { min: 8192, low: 24969, high: 41746, promo: 58523 });
    assert.deepEqual({ ...m.nodes[1].watermarks }, { min: 128, low: 268563, high: 536998, promo: 805433 });
  });

  it('min_free_kbytes is shared out over the whole host and clamped at 262144', () => {
    // 8 x 1TiB normal nodes: lowmem_kbytes = 2^33, * 16 = 2^37 -> int_sqrt = 370727 > 262144.
    // pages_min = 65536; each node's share = 65536 * 2^28 / 2^31 = 8192; gap = 268435.
    const m = model({
      nodes: [0, 1, 2, 3, 4, 5, 6, 7].map((id) => ({ id, cpus: [id], size: '1TiB' })),
      distance: [0, 1, 2, 3, 4, 5, 6, 7].map((a) => [0, 1, 2, 3, 4, 5, 6, 7].map((b) => (a === b ? 10 : 21))),
    });
    assert.equal(m.minFreeKbytes, 262144);
    assert.deepEqual({ ...m.nodes[3].watermarks }, { min: 8192, low: 276627, high: 545062, promo: 813497 });
  });

  it('honours min_free_kbytes and watermark_scale_factor overrides', () => {
    // 16GiB: managed 4194304; pages_min = 1000 >> 2 = 250; gap = max(62, 4194304 * 200 / 10000) = 83886.
    const m = model({ nodes: [{ id: 0, cpus: [0] }] }, { minFreeKbytes: 1000, watermarkScaleFactor: 200 });
    assert.equal(m.minFreeKbytes, 1000);
    assert.deepEqual({ ...m.nodes[0].watermarks }, { min: 250, low: 84136, high: 168022, promo: 251908 });
    assert.throws(() => model({ nodes: [{ id: 0, cpus: [0] }] }, { watermarkScaleFactor: 3001 }), InputError);
  });
});
