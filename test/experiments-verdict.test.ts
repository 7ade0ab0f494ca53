import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demotionVsSwap } from '../src/experiments/catalogue/demotion-vs-swap.js';
import {
  experimentJson,
  formatExperiment,
  runExperiment,
  writeExperiment,
  type ExperimentRun,
} from '../src/experiments/run.js';
import { verdictOf } from '../src/experiments/types.js';

/**
 * A claim about a quantity that is zero in every run it compares is "not applicable": no reads
 * cut from none is no cut. The verdict shows in the text table, results.json and report.html.
 */

const out = mkdtempSync(join(tmpdir(), 'nt-verdict-'));
after(() => rmSync(out, { recursive: true, force: true }));

const CLAIM = 'demotion cuts disk reads of evicted pages';

describe('conclusion verdicts', () => {
  it('"0 → 0" is not applicable, not "holds", in every output', async () => {
    const real = await runExperiment(demotionVsSwap, 1, 'quick');
    const cut = real.conclusions.find((c) => c.claim.startsWith(CLAIM));
    assert.ok(cut !== undefined);
    assert.equal(verdictOf(cut), 'holds', 'the real runs re-read pages without demotion');
    // The same runs, as if reclaim had never had to read anything back.
    const results = real.results.map((r) => ({
      ...r,
      summary: { ...r.summary, vmstat: { ...r.summary.vmstat, pswpin: 0, workingset_refault_file: 0 } },
    }));
    const run: ExperimentRun = { ...real, results, conclusions: demotionVsSwap.conclusions(results) };
    const c = run.conclusions.find((x) => x.claim.startsWith(CLAIM));
    assert.ok(c !== undefined);
    assert.equal(verdictOf(c), 'not applicable');
    assert.equal(c.detail, '0 → 0', 'no percentage of nothing');

    const text = formatExperiment(run);
    assert.match(text, new RegExp(`^\\[not applicable\\] \\(prediction\\) ${CLAIM}`, 'm'));
    assert.doesNotMatch(text, new RegExp(`\\[holds\\] \\(prediction\\) ${CLAIM}`));

    const json = experimentJson(run) as { conclusions: { claim: string; verdict: string; holds: boolean }[] };
    const j = json.conclusions.find((x) => x.claim.startsWith(CLAIM));
    assert.deepEqual([j?.verdict, j?.holds], ['not applicable', false]);
    assert.equal(json.conclusions.find((x) => x !== j)?.verdict, 'holds', 'throughput still compares');

    writeExperiment(join(out, 'na'), run);
    const html = readFileSync(join(out, 'na', 'report.html'), 'utf8');
    assert.ok(html.includes(`not applicable: ${CLAIM}`), 'report.html names the verdict');
    assert.ok(!html.includes(`holds: ${CLAIM}`));
  });
});
