import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { twoTierTopology } from './scenario-support.js';

/** `numatier compare`: the user's own scenarios and --vary combinations, side by side. */

const dir = mkdtempSync(join(tmpdir(), 'numatier-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A hot set that moves after a warm-up, on a host with a CPU-less slow node: promotion has work.
const scenario = (filter: string, slow = '128MiB') => ({
  name: `app-${filter}`,
  duration_ms: 400,
  sample_interval_ms: 20,
  topology: twoTierTopology({ dram: '32MiB', slow }),
  kernel: {
    swap: 'none',
    demotion_enabled: true,
    numa_balancing: 2,
    watermark_scale_factor: 100,
    // Time-scaled NUMA balancing (as the catalogue's experiments): scans start at once.
    numa_balancing_scan_delay_ms: 20,
    numa_balancing_scan_period_min_ms: 20,
    numa_balancing_scan_period_max_ms: 200,
    numa_balancing_hot_threshold_ms: 50,
  },
  tiering: { promotion_filter: filter },
  vms: [
    {
      name: 'app',
      workload: {
        footprint: '48MiB',
        pattern: 'phases',
        phases: [
          { accesses: 300000, pattern: 'zipfian', theta: 0.99, footprint: '24MiB' },
          { accesses: 1e9, pattern: 'zipfian', theta: 0.99 },
        ],
        compute_ns: 20,
      },
    },
  ],
});
const always = join(dir, 'always.json');
const hot = join(dir, 'hot.json');
const bigger = join(dir, 'bigger.json');
writeFileSync(always, JSON.stringify(scenario('always')));
writeFileSync(hot, JSON.stringify(scenario('hot-threshold')));
writeFileSync(bigger, JSON.stringify(scenario('hot-threshold', '256MiB')));

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });

/** Every file under `root`, relative path → bytes. */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p, 'latin1'));
    }
  };
  walk(root);
  return out;
}

interface CompareJson {
  seeds: number[];
  differs: string[];
  table: { variant: string; vm: string; slowdown: { mean: number; min: number; max: number } }[];
  variants: { label: string; runs: { seed: number; scenario_file: string; summary: { seed: number } }[] }[];
}

describe('numatier compare', () => {
  it('two scenario files: one table, one report, every run rerunnable; same bytes on 1 or 2 workers', () => {
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    const a = cli('compare', always, hot, '--seeds', '2', '--jobs', '1', '--out', one);
    assert.equal(a.status, 0, a.stderr);
    const b = cli('compare', always, hot, '--seeds', '2', '--jobs', '2', '--out', two);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout.replace(two, ''), a.stdout.replace(one, ''));
    assert.deepEqual(tree(two), tree(one));

    const res = JSON.parse(readFileSync(join(one, 'results.json'), 'utf8')) as CompareJson;
    assert.deepEqual(res.seeds, [1, 2]);
    assert.deepEqual(
      res.variants.map((v) => v.label),
      ['app-always', 'app-hot-threshold'],
    );
    assert.deepEqual(res.differs, [], 'same host and workload: only the policy differs');
    for (const row of res.table)
      assert.ok(row.slowdown.min <= row.slowdown.mean && row.slowdown.mean <= row.slowdown.max);
    assert.match(a.stdout, /^app-always\s+app\s/m);
    assert.match(a.stdout, /^app-hot-threshold\s+app\s/m);
    assert.match(readFileSync(join(one, 'report.html'), 'utf8'), /app-always vs app-hot-threshold/);
    // The policies really differ: naive promotion moves more pages.
    const promoted = (i: number) =>
      (
        JSON.parse(
          readFileSync(
            join(one, res.variants[i].runs[0].scenario_file.replace('scenario.json', 'summary.json')),
            'utf8',
          ),
        ) as { vms: { promoted_pages: number }[] }
      ).vms[0].promoted_pages;
    assert.ok(promoted(0) > promoted(1), `always ${promoted(0)} vs hot-threshold ${promoted(1)}`);

    // Any row reruns alone with simulate, byte for byte.
    const run = res.variants[1].runs[1];
    assert.equal(run.seed, 2);
    const re = join(dir, 're');
    const s = cli('simulate', join(one, run.scenario_file), '--out', re);
    assert.equal(s.status, 0, s.stderr);
    const folder = join(one, run.scenario_file, '..');
    assert.equal(
      readFileSync(join(re, 'summary.json'), 'utf8'),
      readFileSync(join(folder, 'summary.json'), 'utf8'),
    );
    assert.equal(
      readFileSync(join(re, 'timeseries.csv'), 'utf8'),
      readFileSync(join(folder, 'timeseries.csv'), 'utf8'),
    );
  });

  it('--vary makes one variant per combination, labelled by its values; a differing host is named', () => {
    const out = join(dir, 'vary');
    const r = cli(
      'compare',
      hot,
      bigger,
      '--vary',
      'tiering.promotion_filter=always,two-reference',
      '--set',
      'duration_ms=100',
      '--seed',
      '5',
      '--json',
      '--out',
      out,
    );
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as CompareJson;
    assert.deepEqual(
      res.variants.map((v) => v.label),
      [
        'app-hot-threshold#1 tiering.promotion_filter=always',
        'app-hot-threshold#1 tiering.promotion_filter=two-reference',
        'app-hot-threshold#2 tiering.promotion_filter=always',
        'app-hot-threshold#2 tiering.promotion_filter=two-reference',
      ],
    );
    assert.deepEqual(res.seeds, [5]);
    assert.ok(res.variants.every((v) => v.runs.every((x) => x.summary.seed === 5)));
    assert.deepEqual(res.differs, ['topology']);
    assert.equal(readFileSync(join(out, 'results.json'), 'utf8'), r.stdout);
    const scen = JSON.parse(readFileSync(join(out, res.variants[1].runs[0].scenario_file), 'utf8')) as {
      tiering: { promotion_filter: string };
      seed: number;
      duration_ms: number;
    };
    assert.deepEqual([scen.tiering.promotion_filter, scen.seed, scen.duration_ms], ['two-reference', 5, 100]);
  });

  for (const [args, re] of [
    [
      ['--vary', 'tiering.promotion_filter=always,magic'],
      /^numatier: --vary tiering\.promotion_filter=magic: /,
    ],
    [['--vary', 'kernel.nope=1'], /^numatier: --vary kernel\.nope=1: /],
    [['--vary', 'seed=1,2'], /^numatier: --vary seed: use --seed and --seeds/],
    [['--seeds', '0'], /^numatier: --seeds: expected a whole number from 1/],
    [['--seeds', 'x'], /^numatier: --seeds: expected a whole number/],
    [['--jobs', '0'], /^numatier: --jobs: expected a whole number of workers/],
  ] as const) {
    it(`exits 2 with one line, and writes nothing, for ${args.join(' ')}`, () => {
      const out = join(dir, `bad-${args.join('_').replace(/[^a-z0-9]/gi, '')}`);
      const r = cli('compare', hot, '--out', out, ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(!existsSync(out));
    });
  }
});
