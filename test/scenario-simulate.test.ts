import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { formatNumaStat, NUMA_STAT_KEYS } from '../src/report/stats.js';
import { scenarioJsonSchema } from '../src/scenario/json-schema.js';
import { DEFAULT_SCENARIO } from '../src/scenario/default.js';
import { verifyHost } from '../src/host/verify.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const small = join(root, 'test', 'fixtures', 'scenarios', 'small.yaml');

function run(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function smallDoc(): Record<string, unknown> {
  return YAML.parse(readFileSync(small, 'utf8')) as Record<string, unknown>;
}

describe('numatier simulate', () => {
  it('writes to numatier-out/<scenario>-<seed> by default and names it relative to the working directory', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'nt-sim-cwd-'));
    const r = run(['simulate', small], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nwrote numatier-out\/small-7\n$/);
    assert.ok(existsSync(join(cwd, 'numatier-out', 'small-7', 'summary.json')));
  });

  it('writes summary.json and timeseries.csv, identical bytes for the same scenario and seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nt-sim-'));
    const a = run(['simulate', small, '--out', join(dir, 'a')]);
    const b = run(['simulate', small, '--out', join(dir, 'b')]);
    const c = run(['simulate', small, '--out', join(dir, 'c'), '--seed', '8']);
    for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
    for (const f of ['summary.json', 'timeseries.csv']) {
      assert.equal(
        readFileSync(join(dir, 'a', f), 'utf8'),
        readFileSync(join(dir, 'b', f), 'utf8'),
        `${f} differs between two runs`,
      );
    }
    assert.notEqual(
      readFileSync(join(dir, 'a', 'summary.json'), 'utf8'),
      readFileSync(join(dir, 'c', 'summary.json'), 'utf8'),
    );
    const s = JSON.parse(readFileSync(join(dir, 'a', 'summary.json'), 'utf8'));
    assert.equal(s.scenario, 'small');
    assert.equal(s.seed, 7);
    assert.equal(s.simulated_ms, 300);
    for (const key of [
      'pgfault',
      'pgsteal_kswapd',
      'pgsteal_direct',
      'pswpin',
      'pswpout',
      'pgdemote_kswapd',
      'pgdemote_direct',
      'pgpromote_success',
      'pgpromote_candidate',
      'numa_hint_faults',
      'pgmigrate_success',
      'pgmigrate_fail',
      'oom_kill',
    ]) {
      assert.equal(typeof s.vmstat[key], 'number', key);
    }
    for (const vm of s.vms) {
      for (const key of [
        'name',
        'cgroup',
        'accesses',
        'amat_ns',
        'slowdown',
        'fast_tier_hit_ratio',
        'pages_by_node',
      ])
        assert.ok(key in vm, key);
      assert.ok(vm.slowdown >= 1, 'slowdown is relative to the all-local-DRAM ideal');
      assert.ok(vm.fast_tier_hit_ratio >= 0 && vm.fast_tier_hit_ratio <= 1);
      assert.deepEqual(Object.keys(vm.pages_by_node), ['0', '1']);
    }
    const csv = readFileSync(join(dir, 'a', 'timeseries.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = csv[0].split(',');
    assert.ok(
      header.includes('node0_free_pages') &&
        header.includes('pgdemote_kswapd') &&
        header.includes('vm_a_fast_share'),
    );
    assert.equal(csv.length - 1, 31, 'one sample every 10 ms over 300 ms, plus time 0');
  });

  it('exercises reclaim, demotion and promotion on the small host, with consistent counters', () => {
    const r = runScenario(loadScenario(small), 7);
    const v = r.summary.vmstat;
    assert.ok(v.pgdemote_kswapd > 0, 'DRAM pressure demotes');
    assert.ok(v.pgpromote_success > 0, 'hot slow-tier pages are promoted');
    assert.ok(v.numa_hint_faults >= v.pgpromote_success);
    assert.equal(
      v.pgsteal_kswapd + v.pgsteal_direct + v.pgsteal_proactive >= v.pgdemote_kswapd + v.pgdemote_direct,
      true,
    );
    assert.equal(verifyHost(r.run.host), null);
    // memory.current of each group equals the pages its VMs map plus kernel pages.
    const cg = r.summary.cgroups.find((c) => c.path === '/vms/a');
    assert.ok(cg !== undefined);
    const anon = Object.values(cg.numa_stat.anon).reduce((x, y) => x + y, 0);
    const file = Object.values(cg.numa_stat.file).reduce((x, y) => x + y, 0);
    assert.equal(anon + file, cg.memory_current);
    assert.ok(cg.memory_current <= 96 * 2 ** 20, 'memory.max holds');
    // memory.stat sums its groups' events: the root's promotions are the host's. Node-only
    // counters (pgpromote_candidate drives the per-node rate limit) are not in memory.stat.
    const root = r.summary.cgroups.find((c) => c.path === '/');
    assert.equal(root?.memory_stat.pgpromote_success, v.pgpromote_success);
    assert.ok(v.pgpromote_candidate > 0);
    assert.equal(root?.memory_stat.pgpromote_candidate, undefined);
  });

  it("memory.numa_stat has the kernel's keys in order and one N<id>= field per memory node (SPEC CE-6.3)", () => {
    const fixture = readFileSync(join(root, 'test', 'fixtures', 'kernel-ce6-numa-stat.txt'), 'utf8');
    const kernelKeys = fixture
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(' ')[0]);
    assert.deepEqual([...NUMA_STAT_KEYS], kernelKeys);
    const r = runScenario(loadScenario(small, ['duration_ms=50']), 7);
    const text = formatNumaStat(r.summary.cgroups[1].numa_stat);
    for (const line of text.trim().split('\n')) assert.match(line, /^[a-z_]+ N0=\d+ N1=\d+$/);
  });

  it('--set overrides any field and --json prints the summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nt-set-'));
    const r = run([
      'simulate',
      small,
      '--out',
      join(dir, 'o'),
      '--json',
      '--set',
      'duration_ms=40',
      '--set',
      'vms[1].workload.pattern=uniform',
      '--set',
      'vms.1.workload.shift_every_accesses=null',
    ]);
    assert.equal(r.code, 2, 'a field of another pattern is refused');
    assert.match(r.stderr, /shift_every_accesses/);
    const ok = run([
      'simulate',
      small,
      '--out',
      join(dir, 'o'),
      '--json',
      '--set',
      'duration_ms=40',
      '--set',
      'kernel.numa_balancing=0',
      '--set',
      'cgroups[1].memory.low=64MiB',
      '--set',
      'cgroups.1.memory.max=max',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const s = JSON.parse(ok.stdout);
    assert.equal(s.simulated_ms, 40);
    assert.equal(s.vmstat.numa_hint_faults, 0);
    // A cgroup control file keeps its dot: memory.low, not memory → low.
    const used = JSON.parse(readFileSync(join(dir, 'o', 'scenario.json'), 'utf8'));
    assert.equal(used.cgroups[1]['memory.low'], '64MiB');
    assert.equal(used.cgroups[1]['memory.max'], 'max');
    assert.equal(s.cgroups.find((c: { path: string }) => c.path === used.cgroups[1].path).memory_max, 'max');
  });
});

/** The map at a path of a parsed scenario document, for the mutations below. */
function at(d: Record<string, unknown>, ...path: (string | number)[]): Record<string, unknown> {
  let v: unknown = d;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v as Record<string, unknown>;
}

describe('bad scenarios', () => {
  const cases: [string, (d: Record<string, unknown>) => void, RegExp][] = [
    ['unknown key', (d) => (at(d, 'kernel').swapiness = 10), /kernel: unknown key "swapiness"/],
    [
      'unit-less size',
      (d) => (at(d, 'vms', 0, 'workload').footprint = '4096'),
      /vms\[0\]\.workload\.footprint/,
    ],
    ['negative size', (d) => (at(d, 'cgroups', 1)['memory.max'] = '-1GiB'), /cgroups\[1\]\.memory\.max/],
    ['impossible size', (d) => (at(d, 'vms', 0).file_backed = '1TiB'), /vms\[0\]\.file_backed/],
    [
      'policy naming a missing node',
      (d) => (at(d, 'vms', 0).mempolicy = { mode: 'bind', nodes: [5] }),
      /vms\[0\]\.mempolicy\.nodes\[0\]: node 5 does not exist/,
    ],
    ['weight 0', (d) => (at(d, 'kernel').weighted_interleave = { 0: 0 }), /kernel\.weighted_interleave\.0/],
    [
      'VM in a missing cgroup',
      (d) => (at(d, 'vms', 1).cgroup = '/vms/zzz'),
      /vms\[1\]\.cgroup: no cgroup "\/vms\/zzz"/,
    ],
    ['CPU-less cpu_node', (d) => (at(d, 'vms', 1).cpu_node = 1), /vms\[1\]\.cpu_node: node 1 has no CPUs/],
    [
      'bad enum',
      (d) => (d.tiering = { promotion_filter: 'sometimes' }),
      /tiering\.promotion_filter: expected one of/,
    ],
    [
      'more nodes than a simulated host holds',
      (d) => {
        const n = 256;
        d.topology = {
          nodes: Array.from({ length: n }, (_, id) => ({ id, cpus: id === 0 ? [0] : [], size: '64MiB' })),
          distance: Array.from({ length: n }, (_, i) =>
            Array.from({ length: n }, (_, j) => (i === j ? 10 : 20)),
          ),
        };
      },
      /topology\.nodes: a simulated host has at most 255 nodes, got 256/,
    ],
    [
      'cyclic one-way paths',
      (d) => (d.tiering = { demotion_policy: 'one-way', demotion_paths: { 0: [1], 1: [0] } }),
      /cycle 0 -> 1 -> 0/,
    ],
  ];
  for (const [name, mutate, message] of cases) {
    it(`refuses ${name} with one line naming the field, exit 2, and no output directory`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'nt-bad-'));
      const d = smallDoc();
      mutate(d);
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, YAML.stringify(d));
      const out = join(dir, 'out');
      const r = run(['simulate', file, '--out', out]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
      assert.equal(existsSync(out), false);
      assert.deepEqual(readdirSync(dir).sort(), ['bad.yaml']);
    });
  }
});

describe('shipped example scenarios', () => {
  it('examples/scenarios/lowcost-vm-host.yaml is the built-in scenario, field for field', () => {
    const file = YAML.parse(
      readFileSync(join(root, 'examples', 'scenarios', 'lowcost-vm-host.yaml'), 'utf8'),
    );
    assert.deepEqual(file, JSON.parse(JSON.stringify(DEFAULT_SCENARIO)));
  });

  it("`npm start` prints what the README's first block shows, byte for byte", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const m = /```text\n\$ npm start\n([\s\S]*?)```/.exec(readme);
    assert.ok(m, 'the README has a "$ npm start" block');
    const cwd = mkdtempSync(join(tmpdir(), 'nt-readme-'));
    const r = run(['simulate'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, m[1]);
  });

  it('every example scenario without a trace resolves (the README points to them)', () => {
    for (const name of readdirSync(join(root, 'examples', 'scenarios'))) {
      if (name === 'trace-replay.yaml') continue; // needs a recorded trace: traces-replay.test.ts
      const sc = loadScenario(join(root, 'examples', 'scenarios', name));
      assert.ok(sc.vms.length > 0, name);
    }
  });
});

describe('scenario JSON Schema', () => {
  it('the published schema/scenario.schema.json is the one the loader validates with', () => {
    const published = JSON.parse(readFileSync(join(root, 'schema', 'scenario.schema.json'), 'utf8'));
    assert.deepEqual(published, scenarioJsonSchema(), 'run `numatier schema > schema/scenario.schema.json`');
  });
});
