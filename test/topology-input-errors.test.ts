import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Every refusal of a bad topology goes through the CLI: exit code 2, nothing on stdout, exactly one
// line on stderr naming the field, and no stack trace.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = resolve(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'numatier-topology-bad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const good = () => ({
  nodes: [
    { id: 0, cpus: [0, 1], size: '64GiB' },
    { id: 1, cpus: [2, 3], size: '64GiB' },
    { id: 2, cpus: [], size: '256GiB' },
  ],
  distance: [
    [10, 21, 17],
    [21, 10, 28],
    [17, 28, 10],
  ] as unknown,
});
type Doc = ReturnType<typeof good> & Record<string, unknown>;
const edit = (f: (d: Doc) => void): Doc => {
  const d = good() as Doc;
  f(d);
  return d;
};
const node = (d: Doc, i: number) => d.nodes[i] as Record<string, unknown>;

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

function expectRefusal(args: string[], field: string | RegExp) {
  const r = run(args);
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^numatier: [^\n]+\n$/, 'exactly one line on stderr');
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, 'no stack trace');
  if (typeof field === 'string') assert.ok(r.stderr.includes(field), `stderr names ${field}: ${r.stderr}`);
  else assert.match(r.stderr, field);
}

let n = 0;
function file(doc: unknown, ext = '.json'): string {
  const p = join(tmp, `t${n++}${ext}`);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

const cases: Array<[string, unknown, string | RegExp]> = [
  ['unknown top-level key', edit((d) => (d.foo = 1)), '(top level): unknown key "foo"'],
  ['the harness key "expect" in a topology file', edit((d) => (d.expect = {})), 'unknown key "expect"'],
  ['unknown node key', edit((d) => (node(d, 1).speed = 3)), 'nodes[1]: unknown key "speed"'],
  [
    'non-square matrix',
    edit(
      (d) =>
        (d.distance = [
          [10, 21, 17],
          [21, 10],
          [17, 28, 10],
        ]),
    ),
    'distance[1]: has 2 entries',
  ],
  [
    'row count differs from node count',
    edit(
      (d) =>
        (d.distance = [
          [10, 21],
          [21, 10],
        ]),
    ),
    'distance: has 2 rows but there are 3 nodes',
  ],
  ['diagonal other than 10', edit((d) => ((d.distance as number[][])[2][2] = 12)), 'distance[2][2]'],
  ['off-diagonal equal to 10', edit((d) => ((d.distance as number[][])[0][1] = 10)), 'distance[0][1]'],
  ['off-diagonal below 10', edit((d) => ((d.distance as number[][])[1][0] = 5)), 'distance[1][0]'],
  ['distance above 255', edit((d) => ((d.distance as number[][])[1][2] = 300)), 'distance[1][2]'],
  ['non-integer distance', edit((d) => ((d.distance as unknown[][])[1][2] = 'far')), 'distance[1][2]'],
  [
    'distance that is neither matrix nor map',
    edit((d) => (d.distance = 'near')),
    /numatier: distance: expected a matrix/,
  ],
  [
    'missing distance for two nodes',
    edit((d) => delete (d as Record<string, unknown>).distance),
    'distance: required',
  ],
  [
    'map key naming a missing node',
    edit((d) => (d.distance = { 0: { 1: 21, 2: 17 }, 7: { 1: 28 } })),
    'distance.7: node "7" does not exist',
  ],
  [
    'inner map key naming a missing node',
    edit((d) => (d.distance = { 0: { 1: 21, 9: 17 } })),
    'distance.0.9',
  ],
  ['map without one pair', edit((d) => (d.distance = { 0: { 1: 21, 2: 17 } })), 'distance.1.2: missing'],
  ['duplicate node ids', edit((d) => (node(d, 2).id = 1)), 'nodes[2].id: duplicate node id 1'],
  ['negative size', edit((d) => (node(d, 0).size = '-4GiB')), /nodes\[0\]\.size: a size cannot be negative/],
  ['unit-less size string', edit((d) => (node(d, 1).size = '64')), 'nodes[1].size'],
  ['numeric size', edit((d) => (node(d, 1).size = 64)), 'nodes[1].size'],
  ['unknown size unit', edit((d) => (node(d, 1).size = '64XB')), 'nodes[1].size'],
  [
    'partial performance attributes',
    edit((d) => Object.assign(node(d, 2), { read_latency: 300, write_latency: 100, read_bandwidth: 30000 })),
    'nodes[2].write_bandwidth: required',
  ],
  [
    'zero latency',
    edit((d) =>
      Object.assign(node(d, 2), { read_latency: 0, write_latency: 1, read_bandwidth: 1, write_bandwidth: 1 }),
    ),
    'nodes[2].read_latency',
  ],
  ['string node id', edit((d) => (node(d, 0).id = 'zero')), 'nodes[0].id: expected number'],
  ['fractional node id', edit((d) => (node(d, 0).id = 0.5)), 'nodes[0].id: expected an integer'],
  ['negative node id', edit((d) => (node(d, 0).id = -1)), 'nodes[0].id'],
  [
    'cpus as a malformed CPU list',
    edit((d) => (node(d, 0).cpus = '0-3x')),
    'nodes[0].cpus: expected a CPU list such as "0-3,8-11"',
  ],
  [
    'a CPU id past NR_CPUS',
    edit((d) => (node(d, 0).cpus = [8192])),
    'nodes[0].cpus[0]: must be at most 8191',
  ],
  [
    'a CPU list past NR_CPUS',
    edit((d) => (node(d, 0).cpus = '0-1000000')),
    'nodes[0].cpus: CPU id 1000000 is too large',
  ],
  [
    'cpus as a backward range',
    edit((d) => (node(d, 0).cpus = '3-0')),
    'nodes[0].cpus: range "3-0" ends before',
  ],
  ['negative adist', edit((d) => (node(d, 2).adist = -5)), 'nodes[2].adist'],
  ['unknown class', edit((d) => (node(d, 2).class = 'nvme')), 'nodes[2].class: expected one of'],
  ['unknown zone', edit((d) => (node(d, 2).zone = 'dma32')), 'nodes[2].zone'],
  [
    'hbm without adist or performance data',
    edit((d) => (node(d, 2).class = 'hbm')),
    'nodes[2].adist: required for class "hbm"',
  ],
  ['both cpus and cpu', edit((d) => (node(d, 0).cpu = true)), 'nodes[0]: give either "cpus"'],
  ['neither cpus nor cpu', edit((d) => delete node(d, 2).cpus), 'nodes[2].cpus: required'],
  [
    'a CPU on two nodes',
    edit((d) => (node(d, 1).cpus = [1, 2])),
    'nodes[1].cpus[0]: CPU 1 is already on node 0',
  ],
  [
    'no node with CPUs',
    edit((d) => d.nodes.forEach((x) => ((x as Record<string, unknown>).cpus = []))),
    'nodes: no node has CPUs',
  ],
  [
    'only movable memory',
    edit((d) => d.nodes.forEach((x) => ((x as Record<string, unknown>).zone = 'movable'))),
    'nodes: every node is zone "movable"',
  ],
  ['empty node list', { nodes: [], distance: [] }, 'nodes: must not be empty'],
  ['top level is a list', [1, 2], '(top level): expected object'],
  ['bad type of name', edit((d) => (d.name = 5)), 'name: expected string'],
];

describe('bad topology files are refused with exit code 2 and one line naming the field', () => {
  for (const [what, doc, field] of cases) {
    it(what, () => expectRefusal(['topology', file(doc)], field));
  }

  it('invalid YAML names the file', () => {
    const p = file('nodes:\n  - id: 0\n    cpus: [0\n', '.yaml');
    expectRefusal(['topology', p], `${p}: not valid YAML`);
  });

  it('invalid JSON names the file', () => {
    const p = file('{"nodes": [', '.json');
    expectRefusal(['topology', p], `${p}: not valid JSON`);
  });

  it('a missing file names the file', () => {
    const p = join(tmp, 'does-not-exist.yaml');
    expectRefusal(['topology', p], `${p}: cannot read topology file`);
  });

  it('bad flag values name the flag', () => {
    const p = file(good());
    expectRefusal(['topology', p, '--watermark-scale-factor', '0'], '--watermark-scale-factor');
    expectRefusal(['topology', p, '--watermark-scale-factor', '3001'], '--watermark-scale-factor');
    expectRefusal(['topology', p, '--min-free-kbytes', 'lots'], '--min-free-kbytes');
    expectRefusal(['topology', p, '--node-load', 'random'], '--node-load');
  });

  it('the same file without the defect is accepted (the cases above fail for their own reason)', () => {
    const r = run(['topology', file(good()), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const asym = edit((d) => ((d.distance as number[][])[0][1] = 30));
    assert.equal(run(['topology', file(asym)]).status, 0, 'an asymmetric SLIT is allowed');
  });
});
