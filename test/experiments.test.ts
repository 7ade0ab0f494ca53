import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS } from '../src/experiments/catalogue/index.js';
import { runExperiment, selectExperiments } from '../src/experiments/run.js';
import { verdictOf } from '../src/experiments/types.js';

/**
 * Every experiment of the catalogue runs (quick scale) and the conclusions the debate predicts
 * hold — asserted as inequalities on the figures, not as fixed numbers.
 */
describe('experiment catalogue', () => {
  for (const e of EXPERIMENTS) {
    it(`${e.name}: the predicted conclusions hold`, async () => {
      const run = await runExperiment(e, 1, 'quick', { jobs: 2 });
      assert.equal(run.results.length, e.variants('quick').length);
      const predictions = run.conclusions.filter((c) => c.kind === 'prediction');
      // A prediction the runs say nothing about (not applicable) is not a failure; but each
      // experiment must confirm at least one.
      for (const c of predictions) assert.notEqual(verdictOf(c), 'fails', `${c.claim}: ${c.detail}`);
      assert.ok(
        predictions.some((c) => verdictOf(c) === 'holds'),
        'an experiment confirms at least one prediction',
      );
      // Same workload and seed across variants: the VMs and their footprints match.
      const names = run.results.map((r) => r.summary.vms.map((v) => v.name).join(','));
      assert.equal(new Set(names).size, 1);
    });
  }

  it('"published" names the family of published-* experiments; their reports are compared, not asserted', () => {
    const family = selectExperiments('published').map((e) => e.name);
    assert.deepEqual(family, [
      'published-migrate-on-reclaim',
      'published-hot-page-selection',
      'published-rate-limit',
      'published-tpp',
      'published-weighted-interleave',
      'published-tmts',
      'published-pmbench',
    ]);
    assert.equal(selectExperiments('all').length, EXPERIMENTS.length);
    assert.deepEqual(
      selectExperiments('memory-mode').map((e) => e.name),
      ['memory-mode'],
    );
  });

  it('numatier experiment list / run write a table, results.json and report.html', () => {
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
    const list = spawnSync(process.execPath, [cli, 'experiment', 'list'], { encoding: 'utf8' });
    assert.equal(list.status, 0);
    for (const e of EXPERIMENTS) assert.match(list.stdout, new RegExp(`^${e.name} `, 'm'));
    const out = mkdtempSync(join(tmpdir(), 'nt-exp-'));
    const r = spawnSync(
      process.execPath,
      [cli, 'experiment', 'run', 'dentry-placement', '--quick', '--out', out],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[holds\] \(prediction\)/);
    const dir = join(out, 'dentry-placement-1');
    for (const f of ['results.json', 'table.txt', 'report.html']) assert.ok(existsSync(join(dir, f)), f);
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.equal(json.table.length, 3);
    const bad = spawnSync(process.execPath, [cli, 'experiment', 'run', 'nonsense'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown; known: promotion-filters/);
  });
});
