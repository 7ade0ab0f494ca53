import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTopologyFile, normalizeTopology, parseTopologyText } from '../src/topology/load.js';
import { buildTopologyModel } from '../src/topology/model.js';
import { formatNodelist, parseCpulist } from '../src/topology/nodemask.js';
import { calculateMinFreeKbytes, intSqrt } from '../src/topology/watermarks.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'numatier-topology-load-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const YAML_DOC = `
name: two-tier
nodes:
  - id: 0
    cpus: [0, 1]
    size: 32GiB
  - id: 1
    cpus: []
    size: 128GiB
    zone: movable
distance:
  - [10, 17]
  - [17, 10]
`;

describe('topology file formats', () => {
  it('YAML, JSON and an extension-less file give the same topology', () => {
    const fromYaml = loadTopologyFile(write('t.yaml', YAML_DOC));
    const json = JSON.stringify(parseTopologyText(YAML_DOC, 't.yaml'));
    const fromJson = loadTopologyFile(write('t.json', json));
    const sniffed = loadTopologyFile(write('t-noext', json));
    assert.deepEqual(fromJson, fromYaml);
    assert.deepEqual(sniffed, fromYaml);
    assert.equal(fromYaml.name, 'two-tier');
    assert.equal(fromYaml.nodes[1].sizeBytes, 128 * 2 ** 30);
    assert.equal(fromYaml.nodes[1].zone, 'movable');
  });

  it('the distance map form equals the matrix form (diagonal implied, one direction mirrored)', () => {
    const nodes = [
      { id: 0, cpus: [0] },
      { id: 1, cpus: [] },
      { id: 2, cpus: [] },
    ];
    const matrix = normalizeTopology({
      nodes,
      distance: [
        [10, 20, 30],
        [20, 10, 25],
        [31, 25, 10],
      ],
    });
    const map = normalizeTopology({
      nodes,
      distance: { 0: { 1: 20, 2: 30 }, 1: { 2: 25 }, 2: { 0: 31, 2: 10 } },
    });
    assert.deepEqual(map, matrix);
  });

  it('defaults: 16GiB size, class dram with CPUs and pmem without, zone normal', () => {
    const t = normalizeTopology({
      nodes: [
        { id: 0, cpu: true },
        { id: 1, cpu: false },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.deepEqual(
      t.nodes.map((n) => [n.sizeBytes, n.memoryClass, n.zone]),
      [
        [16 * 2 ** 30, 'dram', 'normal'],
        [16 * 2 ** 30, 'pmem', 'normal'],
      ],
    );
  });

  it('"cpu: true" nodes get 4 CPUs each from the lowest ids not listed explicitly, in node order', () => {
    const t = normalizeTopology({
      nodes: [
        { id: 3, cpu: false },
        { id: 2, cpu: true },
        { id: 1, cpus: [1, 0] },
        { id: 0, cpu: true },
      ],
      distance: [0, 1, 2, 3].map((a) => [0, 1, 2, 3].map((b) => (a === b ? 10 : 20))),
    });
    assert.deepEqual(
      t.nodes.map((n) => [n.id, [...n.cpus]]),
      [
        [0, [2, 3, 4, 5]],
        [1, [0, 1]],
        [2, [6, 7, 8, 9]],
        [3, []],
      ],
    );
  });
});

describe('CPU lists as the kernel writes them', () => {
  it('"0-3,8-11" and a stride "0-15:2/4" give the CPUs bitmap_parselist() gives', () => {
    assert.deepEqual(parseCpulist('0-3,8-11'), [0, 1, 2, 3, 8, 9, 10, 11]);
    // first 2 of every 4 CPUs in 0-15 (Documentation/admin-guide/kernel-parameters.rst, cpu lists)
    assert.deepEqual(parseCpulist('0-15:2/4'), [0, 1, 4, 5, 8, 9, 12, 13]);
    assert.deepEqual(parseCpulist('7'), [7]);
    assert.deepEqual(parseCpulist(''), []);
    assert.match(String(parseCpulist('0-')), /expected a CPU list/);
    assert.match(String(parseCpulist('1-15:5/4')), /stride/);
  });

  it("a node's cpus may be a CPU list, the same topology as the list of ids", () => {
    const d = (cpus: unknown) => ({
      nodes: [
        { id: 0, cpus },
        { id: 1, cpus: [] },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    });
    assert.deepEqual(normalizeTopology(d('0-3,6')), normalizeTopology(d([0, 1, 2, 3, 6])));
  });
});

describe('numatier topology of a scenario', () => {
  const dir = mkdtempSync(join(tmpdir(), 'numatier-topology-scenario-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const topo = (...args: string[]) =>
    spawnSync(process.execPath, [cli, 'topology', ...args], { encoding: 'utf8' });

  it('shows the host of a scenario whose topology is a file, as `topology FILE` does', () => {
    const file = resolve(root, 'examples/topologies/cxl-expander.yaml');
    writeFileSync(
      join(dir, 's.yaml'),
      `name: s\nduration_ms: 10\ntopology: ${file}\nvms: [{ name: a, workload: { footprint: 1MiB, pattern: uniform } }]\n`,
    );
    const a = topo(join(dir, 's.yaml'));
    const b = topo(file);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  it("applies the scenario's watermark_scale_factor; the built-in scenario's host without a file", () => {
    const file = resolve(root, 'examples/topologies/cxl-expander.yaml');
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: w\nduration_ms: 10\ntopology: ${file}\nkernel: { watermark_scale_factor: 100 }\nvms: [{ name: a, workload: { footprint: 1MiB, pattern: uniform } }]\n`,
    );
    const scaled = topo(join(dir, 'w.yaml'), '--json');
    const flag = topo(file, '--json', '--watermark-scale-factor', '100');
    assert.equal(scaled.status, 0, scaled.stderr);
    assert.equal(scaled.stdout, flag.stdout);
    assert.notEqual(scaled.stdout, topo(file, '--json').stdout);
    const builtIn = topo();
    assert.equal(builtIn.status, 0, builtIn.stderr);
    assert.match(builtIn.stdout, /^available: 4 nodes \(0-3\)$/m);
  });
});

describe('bundled examples', () => {
  const cases: Array<[string, Array<[number, number[]]>, Record<number, number>]> = [
    [
      'pmem-2socket.yaml',
      [
        [4, [0, 1]],
        [29, [2, 3]],
      ],
      { 0: 576, 1: 576, 2: 3791, 3: 3791 },
    ],
    [
      'cxl-expander.yaml',
      [
        [4, [0]],
        [47, [1]],
      ],
      { 0: 576, 1: 6135 },
    ],
    [
      'hbm-dram-pmem.yaml',
      [
        [1, [1]],
        [4, [0]],
        [22, [2]],
      ],
      { 0: 576, 1: 255, 2: 2880 },
    ],
  ];
  for (const [file, tiers, adist] of cases) {
    it(`${file}: tiers and abstract distances`, () => {
      const m = buildTopologyModel(loadTopologyFile(resolve(root, 'examples/topologies', file)));
      assert.deepEqual(
        m.tiers.map((t) => [t.id, [...t.nodes]]),
        tiers,
      );
      assert.deepEqual(Object.fromEntries(m.nodes.map((n) => [n.id, n.adistance])), adist);
    });
  }

  it('CLI output is identical from run to run (report and JSON)', () => {
    const file = resolve(root, 'examples/topologies/pmem-2socket.yaml');
    for (const extra of [[], ['--json']]) {
      const a = spawnSync(process.execPath, [cli, 'topology', file, ...extra], { encoding: 'utf8' });
      const b = spawnSync(process.execPath, [cli, 'topology', file, ...extra], { encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      assert.equal(a.stdout, b.stdout);
      assert.ok(a.stdout.length > 100);
    }
  });

  it('CLI JSON has the documented shape', () => {
    const file = resolve(root, 'examples/topologies/pmem-2socket.yaml');
    const r = spawnSync(process.execPath, [cli, 'topology', file, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & { nodes: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.nodes[0]).sort(), [
      'adistance',
      'adistance_source',
      'capacity_pages',
      'class',
      'cpus',
      'id',
      'size_bytes',
      'tier',
      'toptier',
      'watermarks',
      'zone',
    ]);
    assert.deepEqual(doc.tiers, [
      { id: 4, adistance_start: 512, nodes: [0, 1] },
      { id: 29, adistance_start: 3712, nodes: [2, 3] },
    ]);
    assert.deepEqual(doc.demotion, {
      0: { preferred: [2], fallback: [2, 3] },
      1: { preferred: [3], fallback: [2, 3] },
      2: { preferred: [], fallback: [] },
      3: { preferred: [], fallback: [] },
    });
    assert.equal(doc.top_tier_adistance, 639);
    assert.equal(typeof doc.min_free_kbytes, 'number');
    assert.deepEqual(doc.nodes[0].cpus, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(doc.nodes[0].capacity_pages, (192 * 2 ** 30) / 4096);
  });
});

describe('helpers', () => {
  it('formatNodelist prints %*pbl range lists', () => {
    assert.equal(formatNodelist([]), '');
    assert.equal(formatNodelist([3]), '3');
    assert.equal(formatNodelist([0, 1, 2]), '0-2');
    assert.equal(formatNodelist([0, 2]), '0,2');
    assert.equal(formatNodelist([7, 6, 4, 1, 0]), '0-1,4,6-7');
  });

  it('intSqrt is the floor square root, exact for 64-bit values', () => {
    assert.equal(intSqrt(0n), 0n);
    assert.equal(intSqrt(1n), 1n);
    assert.equal(intSqrt(15n), 3n);
    assert.equal(intSqrt(16n), 4n);
    const big = (1n << 64n) - 1n;
    const r = intSqrt(big);
    assert.ok(r * r <= big && (r + 1n) * (r + 1n) > big);
    assert.equal(r, 4294967295n);
  });

  it('calculate_min_free_kbytes clamps to [128, 262144]', () => {
    assert.equal(calculateMinFreeKbytes(0n), 128);
    assert.equal(calculateMinFreeKbytes(1024n), 128);
    assert.equal(calculateMinFreeKbytes(1n << 20n), 4096);
    assert.equal(calculateMinFreeKbytes(1n << 40n), 262144);
  });
});
