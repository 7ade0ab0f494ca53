import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { formatInspection } from '../src/inspect/format.js';
import { inspectHost, parseNumaMaps, parseNumaStat } from '../src/inspect/read-host.js';
import { scenarioOfHost } from '../src/inspect/to-scenario.js';
import { resolveScenario } from '../src/scenario/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'src', 'cli', 'main.js');
const fixture = path.join(here, '..', '..', 'test', 'fixtures', 'hosts', 'two-tier-hmat');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function copyFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-inspect-'));
  fs.cpSync(fixture, dir, { recursive: true });
  return dir;
}

describe('numatier inspect: a two-tier guest with HMAT (fixture tree)', () => {
  const h = inspectHost(fixture);

  it('reads nodes, distances, HMAT, tiers and knobs as the kernel reports them', () => {
    assert.deepEqual(
      h.nodes.map((n) => [n.id, n.cpus, n.mem_total_kib, n.distances, n.tier]),
      [
        [0, [0, 1], 524288, [10, 20], 4],
        [1, [], 524288, [20, 10], 54],
      ],
    );
    assert.deepEqual(h.nodes[1].hmat, {
      read_latency: 300,
      write_latency: 300,
      read_bandwidth: 5000,
      write_bandwidth: 5000,
    });
    assert.deepEqual(h.tiers, [
      { tier: 4, nodes: [0] },
      { tier: 54, nodes: [1] },
    ]);
    assert.equal(h.demotion_enabled, true);
    assert.equal(h.numa_balancing.mode, 2);
    assert.equal(h.numa_balancing.hot_threshold_ms, 1000);
    assert.equal(h.numa_balancing.scan_period_max_ms, null, 'absent file: unknown, not an error');
    assert.equal(h.nodes[0].vmstat.pgdemote_direct, 16896);
    assert.equal(h.nodes[0].vmstat.nr_free_pages, undefined, 'only tiering counters are kept');
    assert.deepEqual(h.unreadable, []);
  });

  it('reads the cgroup tree with memory.numa_stat per node, and placement from numa_maps', () => {
    assert.equal(h.cgroup_version, 2);
    assert.deepEqual(
      h.cgroups.map((g) => g.path),
      ['/', '/idle', '/tenant'],
    );
    const t = h.cgroups[2];
    assert.equal(t.memory_current, 128 << 20);
    assert.equal(t.memory_max, 'max');
    assert.equal(t.memory_min, 32 << 20);
    assert.deepEqual(t.numa_stat?.anon, { 0: 96 << 20, 1: 32 << 20 });
    assert.deepEqual(t.procs, [1234]);
    assert.equal(h.cgroups[1].memory_max, 256 << 20);
    // The kernel thread (empty numa_maps) is not a process with memory.
    assert.deepEqual(
      h.processes.map((p) => [p.pid, p.comm, p.cgroup, p.node_bytes, p.vmas]),
      [
        [1, 'init', '/', { 0: 68 * 4096 }, 2],
        [1234, 'node', '/tenant', { 0: (2048 + 24576) * 4096, 1: 8192 * 4096 }, 2],
      ],
    );
  });

  it('prints numactl/numastat-like text', () => {
    const text = formatInspection(h);
    assert.match(text, /^2 memory tiers: memory_tier4 \[0\] > memory_tier54 \[1\]$/m);
    assert.match(text, /^available: 2 nodes \(0,1\)$/m);
    assert.match(text, /^node 1 cpus:$/m);
    assert.match(text, /^1:\s+20\s+10$/m);
    assert.match(text, /^\/tenant\s+128\s+96\s+32\s+1$/m);
    assert.match(text, /^numa_balancing: 2 \(memory tiering\)$/m);
    assert.doesNotMatch(text, /could not read/);
  });

  it('writes a scenario that numatier loads, whose model puts the nodes in the same tiers', () => {
    const doc = scenarioOfHost(h);
    const sc = resolveScenario(structuredClone(doc), fixture, 'inspected');
    assert.deepEqual(
      sc.model.nodes.map((n) => [n.id, n.tier]),
      h.nodes.map((n) => [n.id, n.tier]),
    );
    assert.deepEqual(
      sc.vms.map((v) => [v.name, v.cgroup, v.footprintPages]),
      [['tenant', '/tenant', (128 << 20) / 4096]],
    );
    assert.deepEqual(
      sc.cgroups.map((c) => [c.path, c.memoryMax, c.memoryMin]),
      [
        ['/idle', (256 << 20) / 4096, 0],
        ['/tenant', Infinity, (32 << 20) / 4096],
      ],
    );
    assert.equal(sc.demotionEnabled, true);
    assert.equal(sc.numaBalancing, 2);
  });

  it('says what it could not read, and goes on', () => {
    const dir = copyFixture();
    fs.rmSync(path.join(dir, 'proc/vmstat'));
    fs.mkdirSync(path.join(dir, 'proc/vmstat')); // reading a directory fails even as root
    const u = inspectHost(dir);
    assert.deepEqual(u.unreadable, [{ path: '/proc/vmstat', why: 'EISDIR' }]);
    assert.deepEqual(u.vmstat, {});
    assert.equal(u.nodes.length, 2);
    assert.match(formatInspection(u), /could not read:\n {2}\/proc\/vmstat \(EISDIR\)/);
  });

  it('without HMAT, a CPU-less node in the DRAM tier is modelled in that tier (as the kernel did)', () => {
    const dir = copyFixture();
    const node = (id: number): string => path.join(dir, `sys/devices/system/node/node${id}`);
    const tiers = path.join(dir, 'sys/devices/virtual/memory_tiering');
    for (const id of [0, 1]) fs.rmSync(path.join(node(id), 'access0'), { recursive: true });
    fs.rmSync(path.join(tiers, 'memory_tier54'), { recursive: true });
    fs.writeFileSync(path.join(tiers, 'memory_tier4/nodelist'), '0-1\n');
    const one = inspectHost(dir);
    const doc = scenarioOfHost(one);
    const sc = resolveScenario(structuredClone(doc), dir, 'inspected');
    assert.deepEqual(
      sc.model.nodes.map((n) => [n.id, n.tier]),
      [
        [0, 4],
        [1, 4],
      ],
    );
    // A CPU-less node the kernel put lower without HMAT (dax/kmem) keeps its tier too.
    fs.writeFileSync(path.join(tiers, 'memory_tier4/nodelist'), '0\n');
    fs.mkdirSync(path.join(tiers, 'memory_tier22'));
    fs.writeFileSync(path.join(tiers, 'memory_tier22/nodelist'), '1\n');
    const low = resolveScenario(scenarioOfHost(inspectHost(dir)), dir, 'inspected');
    assert.deepEqual(
      low.model.nodes.map((n) => [n.id, n.tier]),
      [
        [0, 4],
        [1, 22],
      ],
    );
  });

  it('a single-node host says it has no tiers', () => {
    const dir = copyFixture();
    fs.writeFileSync(path.join(dir, 'sys/devices/system/node/online'), '0\n');
    fs.rmSync(path.join(dir, 'sys/devices/virtual/memory_tiering/memory_tier54'), { recursive: true });
    const s = inspectHost(dir);
    assert.equal(s.nodes.length, 1);
    assert.match(formatInspection(s), /^one NUMA node: no memory tiers/m);
  });
});

describe('numatier inspect (CLI)', () => {
  it('--json, --scenario, and refusing to replace a file without --force', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-inspect-cli-'));
    const out = path.join(dir, 'host.yaml');
    const r = run(['inspect', '--root', fixture, '--json', '--scenario', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { tiers: unknown[] }).tiers.length, 2);
    const doc = parse(fs.readFileSync(out, 'utf8')) as { vms: { name: string }[] };
    assert.deepEqual(
      doc.vms.map((v) => v.name),
      ['tenant'],
    );
    const sim = run(['simulate', out, '--out', path.join(dir, 'run'), '--json']);
    assert.equal(sim.code, 0, sim.stderr);
    fs.writeFileSync(out, 'mine');
    const again = run(['inspect', '--root', fixture, '--scenario', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^numatier: --scenario .*: the file exists; refusing to replace it/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'mine');
    assert.equal(run(['inspect', '--root', fixture, '--scenario', out, '--force']).code, 0);
    assert.notEqual(fs.readFileSync(out, 'utf8'), 'mine');
  });

  it('a --root that is not a directory is one line and exit 2', () => {
    const r = run(['inspect', '--root', path.join(os.tmpdir(), 'no-such-numatier-root')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^numatier: --root .*: not a directory\n$/);
  });

  it('runs on this machine, unprivileged or not', () => {
    const r = run(['inspect']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^available: \d+ nodes/m);
  });
});

describe('inspect parsers', () => {
  it('numa_maps counts pages by node and page size', () => {
    const m = parseNumaMaps(
      '7f00 default anon=2 N0=1 N1=1 kernelpagesize_kB=4\n7f80 bind:1 huge anon=1 N1=1 kernelpagesize_kB=2048\n',
    );
    assert.deepEqual(m, { node_bytes: { 0: 4096, 1: 4096 + (2 << 20) }, vmas: 2 });
  });
  it('memory.numa_stat items by node', () => {
    assert.deepEqual(parseNumaStat('anon N0=4096 N1=0\nfile N0=8192\n'), {
      anon: { 0: 4096, 1: 0 },
      file: { 0: 8192 },
    });
  });
});
