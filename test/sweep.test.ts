import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { indexRanges } from '../src/sweep/manifest.js';
import { parseSweepSpec, planSweep } from '../src/sweep/spec.js';
import { InputError } from '../src/util/errors.js';

/** `numatier sweep`: plan, run (here, one shard, or on SLURM), status, collect. */

const dir = mkdtempSync(join(tmpdir(), 'numatier-sweep-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIO = {
  name: 'small',
  duration_ms: 120,
  topology: {
    nodes: [
      { id: 0, cpus: [0, 1], size: '32MiB', class: 'dram' },
      { id: 1, cpus: [], size: '128MiB', class: 'cxl' },
    ],
    distance: [
      [10, 20],
      [20, 10],
    ],
  },
  kernel: { swap: 'none', demotion_enabled: true, numa_balancing: 2 },
  vms: [
    { name: 'a', workload: { footprint: '48MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 } },
    { name: 'b', workload: { footprint: '16MiB', pattern: 'uniform', compute_ns: 20 } },
  ],
};

const spec = (extra: Record<string, unknown> = {}) => ({
  name: 'small',
  scenario: SCENARIO,
  axes: { 'tiering.promotion_filter': ['always', 'hot-threshold'], 'vms.0.workload.theta': [0.8, 0.99] },
  seeds: 2,
  points_per_shard: 3,
  ...extra,
});

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', env });

function writeSpec(name: string, s: unknown): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(s));
  return p;
}

function planned(name: string, s: unknown = spec()): string {
  const out = join(dir, name);
  const r = cli(['sweep', 'plan', writeSpec(name, s), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const status = (d: string) => cli(['sweep', 'status', d, '--json']);

describe('sweep plan', () => {
  it('product: every combination × seed, the first axis slowest, packed into shards', () => {
    const m = planSweep(parseSweepSpec(spec()), dir, 'x');
    assert.equal(m.points.length, 8);
    assert.equal(m.shards, 3, '8 points, 3 per shard');
    assert.deepEqual(
      m.points
        .slice(0, 4)
        .map((p) => [p.set['tiering.promotion_filter'], p.set['vms.0.workload.theta'], p.seed]),
      [
        ['always', '0.8', 1],
        ['always', '0.8', 2],
        ['always', '0.99', 1],
        ['always', '0.99', 2],
      ],
    );
    assert.deepEqual(
      m.points.map((p) => p.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('zip pairs the axes value by value; seeds can be listed', () => {
    const m = planSweep(parseSweepSpec(spec({ combine: 'zip', seeds: [7, 9] })), dir, 'x');
    assert.deepEqual(
      m.points.map((p) => [p.set['tiering.promotion_filter'], p.set['vms.0.workload.theta'], p.seed]),
      [
        ['always', '0.8', 7],
        ['always', '0.8', 9],
        ['hot-threshold', '0.99', 7],
        ['hot-threshold', '0.99', 9],
      ],
    );
  });

  for (const [s, re] of [
    [
      spec({ combine: 'zip', axes: { 'kernel.swappiness': [1, 2], 'kernel.numa_balancing': [0] } }),
      /^axes\.kernel\.numa_balancing: combine zip needs every axis to have 2 values, got 1$/,
    ],
    [
      spec({ axes: { 'tiering.promotion_filter': ['always', 'magic'] } }),
      /^axes tiering\.promotion_filter=magic: /,
    ],
    [spec({ axes: { 'kernel.nope': [1] } }), /^axes kernel\.nope=1: /],
    [spec({ axes: { seed: [1, 2] } }), /^axes\.seed: use seeds/],
    [spec({ axes: { 'kernel.swappiness': [] } }), /axes/],
    [spec({ points_per_shard: 0 }), /points_per_shard/],
    [spec({ shards: 4 }), /shards/],
  ] as const) {
    it(`refuses a bad spec in one line: ${re.source}`, () => {
      const out = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
      const r = cli(['sweep', 'plan', writeSpec('bad', s), '--out', out]);
      assert.equal(r.status, 2, r.stdout);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim().replace(/^numatier: /, ''), re);
      assert.ok(!existsSync(out), 'nothing written');
    });
  }

  it('re-planning the same spec is a no-op; another plan over it, or a foreign directory, is refused', () => {
    const out = planned('again');
    const same = cli(['sweep', 'plan', join(dir, 'again.json'), '--out', out]);
    assert.equal(same.status, 0);
    assert.match(same.stdout, /^already planned/);
    const other = cli(['sweep', 'plan', writeSpec('other', spec({ seeds: 3 })), '--out', out]);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /holds another sweep's manifest/);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'mine.txt'), 'user data');
    const r = cli(['sweep', 'plan', join(dir, 'again.json'), '--out', foreign]);
    assert.equal(r.status, 2);
    assert.deepEqual(readdirSync(foreign), ['mine.txt']);
  });

  it('index ranges: what SLURM --array takes, and exactly the indices given', () => {
    assert.equal(indexRanges([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10');
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(200)), (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const back = indexRanges(sorted)
          .split(',')
          .filter((s) => s !== '')
          .flatMap((part) => {
            const [a, b = a] = part.split('-').map(Number);
            return Array.from({ length: b - a + 1 }, (_, k) => a + k);
          });
        assert.deepEqual(back, sorted);
      }),
    );
  });

  it('planSweep throws InputError, not a crash, for a value that does not resolve', () => {
    assert.throws(
      () => planSweep(parseSweepSpec(spec({ axes: { 'kernel.swappiness': [500] } })), dir, 'x'),
      (e: unknown) => e instanceof InputError && /^axes kernel\.swappiness=500: /.test(e.message),
    );
  });
});

describe('sweep run, run-shard, status, collect', () => {
  it('one worker or two, or shard by shard from the scheduler variables: the same bytes', () => {
    const one = planned('one');
    const two = planned('two');
    const byShard = planned('by-shard');
    assert.equal(cli(['sweep', 'run', one, '--jobs', '1']).status, 0);
    assert.equal(cli(['sweep', 'run', two, '--jobs', '2']).status, 0);
    for (const [i, env] of [
      [0, { SLURM_ARRAY_TASK_ID: '0' }],
      [1, { JOB_COMPLETION_INDEX: '1' }],
      [2, {}],
    ] as const) {
      const r = cli(['sweep', 'run-shard', byShard, ...(i === 2 ? ['--index', '2'] : [])], {
        ...process.env,
        ...env,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `shard ${i}: done\n`);
    }
    const again = cli(['sweep', 'run-shard', byShard, '--index', '1']);
    assert.equal(again.stdout, 'shard 1: done before, skipped\n');
    for (const d of [one, two, byShard]) assert.equal(cli(['sweep', 'collect', d]).status, 0);
    for (const f of ['results.csv', 'results.jsonl', 'report.html', 'shards/0.json', 'shards/2.json']) {
      assert.equal(readFileSync(join(two, f), 'utf8'), readFileSync(join(one, f), 'utf8'), f);
      assert.equal(readFileSync(join(byShard, f), 'utf8'), readFileSync(join(one, f), 'utf8'), f);
    }
    const csv = readFileSync(join(one, 'results.csv'), 'utf8').trim().split('\n');
    assert.equal(
      csv[0].split(',').slice(0, 5).join(','),
      'point,seed,tiering.promotion_filter,vms.0.workload.theta,vm',
    );
    assert.equal(csv.length, 1 + 8 * 2, 'a row per point and VM');
    // Seeds and axes really change the runs.
    const slow = csv.slice(1).map((l) => l.split(',')[7]);
    assert.ok(new Set(slow).size > 4, `slowdowns ${slow.join(' ')}`);
    const html = readFileSync(join(one, 'report.html'), 'utf8');
    assert.match(html, /tiering\.promotion_filter: mean over the 4 points per value/);
  });

  it('collect refuses while shards are missing; status names them as ranges', () => {
    const d = planned('partial', spec({ points_per_shard: 1 }));
    for (const i of ['0', '1', '5']) assert.equal(cli(['sweep', 'run-shard', d, '--index', i]).status, 0);
    assert.deepEqual(JSON.parse(status(d).stdout), {
      sweep: 'small',
      points: 8,
      shards: 8,
      done: 3,
      missing: '2-4,6-7',
    });
    const r = cli(['sweep', 'collect', d]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /5 of 8 shards missing \(2-4,6-7\)/);
    assert.ok(!existsSync(join(d, 'results.csv')));
    const bad = cli(['sweep', 'run-shard', d, '--index', '8']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--index: expected a shard from 0 to 7, got 8/);
    const none = cli(['sweep', 'run-shard', d], {
      ...process.env,
      SLURM_ARRAY_TASK_ID: undefined,
      JOB_COMPLETION_INDEX: undefined,
    });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--index: required outside a SLURM array/);
  });

  it('a shard killed while it runs leaves no file, counts as missing, and reruns', async () => {
    const long = spec({
      scenario: { ...SCENARIO, duration_ms: 60_000 },
      axes: { 'kernel.swappiness': [60] },
      seeds: 1,
    });
    const d = planned('killed', long);
    const child = spawn(process.execPath, ['dist/src/cli/main.js', 'sweep', 'run-shard', d, '--index', '0'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.deepEqual(readdirSync(join(d, 'shards')), [], 'no shard file, no temporary left');
    assert.equal(JSON.parse(status(d).stdout).missing, '0');
  });

  it('submit --slurm --print: an sbatch array over the missing shards only, running run-shard', () => {
    const d = planned('submit', spec({ points_per_shard: 1 }));
    for (const i of ['0', '3']) assert.equal(cli(['sweep', 'run-shard', d, '--index', i]).status, 0);
    const r = cli(['sweep', 'submit', d, '--slurm', '--print', '--', '--partition=debug', '--time=10']);
    assert.equal(r.status, 0, r.stderr);
    const argv = r.stdout.trim().split(' ');
    assert.equal(argv[0], 'sbatch');
    assert.ok(argv.includes('--array=1-2,4-7'), r.stdout);
    assert.ok(argv.includes('--partition=debug') && argv.includes('--time=10'));
    const script = readFileSync(argv[argv.length - 1], 'utf8');
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /sweep run-shard /);
    const no = cli(['sweep', 'submit', d]);
    assert.equal(no.status, 2);
    assert.match(no.stderr, /--slurm: required/);
  });

  it('Parquet through DuckDB holds the same rows as the CSV', async () => {
    const d = planned('parquet');
    assert.equal(cli(['sweep', 'run', d, '--jobs', '2']).status, 0);
    const r = cli(['sweep', 'collect', d, '--format', 'csv,parquet']);
    assert.equal(r.status, 0, r.stderr);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const q = (f: string) => `'${join(d, f).replace(/'/g, "''")}'`;
    const pq = (
      await con.runAndReadAll(`SELECT point, vm, slowdown FROM ${q('results.parquet')} ORDER BY point, vm`)
    ).getRowObjectsJson();
    const csv = (
      await con.runAndReadAll(
        `SELECT point, vm, slowdown FROM read_csv(${q('results.csv')}) ORDER BY point, vm`,
      )
    ).getRowObjectsJson();
    con.closeSync();
    db.closeSync();
    assert.equal(pq.length, 16);
    assert.deepEqual(pq, csv);
    const bad = cli(['sweep', 'collect', d, '--format', 'xlsx']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format: expected some of csv,jsonl,parquet/);
  });
});
