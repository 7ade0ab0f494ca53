import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PLACEMENT_CASES, RECLAIM_CASES } from './e2e/kernel-diff/guest.js';
import { resultsTable } from './e2e/kernel-diff/results.js';
import { DIFF_TOPOLOGIES } from './e2e/kernel-diff/topologies.js';

// docs/kernel-diff.md is regenerated from a run of the differential suite (npm run
// docs:kernel-diff); these checks, which need no QEMU, keep it from falling behind the cases.

const page = readFileSync(new URL('../../docs/kernel-diff.md', import.meta.url), 'utf8');
const rows = page
  .split('\n')
  .filter((l) => /^\| \S/.test(l) && !l.startsWith('| guest') && !l.startsWith('| ---'))
  .map((l) =>
    l
      .slice(2, -2)
      .split(/ (?<!\\)\| /)
      .map((c) => c.trim()),
  );
const generated = rows.filter((r) => r.length === 7);

test('docs/kernel-diff.md has a row for every case of every guest', () => {
  for (const t of DIFF_TOPOLOGIES) {
    const mine = generated.filter((r) => r[0] === t.id).map((r) => `${r[1]}: ${r[2]}`);
    for (const p of PLACEMENT_CASES[t.id] ?? [])
      assert.ok(
        mine.includes(`placement: ${p.task ? 'set_mempolicy' : 'mbind'} ${p.id}`),
        `${t.id}: placement ${p.id} is not in the table`,
      );
    for (const c of ['memory_tierN/nodelist', 'demotion targets', 'node states'])
      assert.ok(mine.includes(`tiers: ${c}`), `${t.id}: ${c}`);
    assert.equal(mine.filter((m) => m.startsWith('watermarks: ')).length, 5, `${t.id}: watermark rows`);
  }
  const reclaim = generated.filter((r) => r[1] === 'reclaim').map((r) => r[2]);
  assert.deepEqual(
    reclaim,
    RECLAIM_CASES.map((c) => c.title),
  );
  assert.equal(generated.filter((r) => r[1] === 'promotion').length, 1);
});

test('every row says how it came out, and every difference why', () => {
  assert.ok(generated.length > 0, 'the generated table is there');
  for (const r of generated) {
    const result = r[6];
    assert.ok(/^(same|within band|differs: \S.{20,})$/.test(result), `${r[0]} ${r[2]}: result "${result}"`);
    assert.ok(!result.includes('UNEXPLAINED'), `${r[0]} ${r[2]}: an unexplained difference`);
    if (result === 'same')
      assert.equal(r[3], r[4].replace(/ \(page by page\)$/, ''), `${r[2]}: "same" figures differ`);
  }
});

test('the table escapes what would break a markdown row', () => {
  const md = resultsTable({
    kernel: 'k',
    cases: [
      {
        topology: 'a|b',
        item: 'i',
        case: 'c\nd',
        kernel: '1',
        simulator: '2',
        tolerance: 't',
        verdict: 'differs',
        why: 'x | y',
      },
    ],
  });
  const row = md.split('\n')[2];
  assert.equal(row, '| a\\|b | i | c d | 1 | 2 | t | differs: x \\| y |');
});
