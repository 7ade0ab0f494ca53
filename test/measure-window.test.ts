import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNK } from '../src/engine/simulation.js';
import { formatSummary } from '../src/report/summary.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { InputError } from '../src/util/errors.js';
import { twoTierTopology } from './scenario-support.js';

/** The measured window (`measure:`): figures after each VM's warm-up, beside the whole run's. */

const FOOTPRINT_PAGES = 4096; // 16 MiB

function scenario(measure: unknown, workload: Record<string, unknown>, durationMs = 40) {
  return resolveScenario(
    {
      name: 'window',
      duration_ms: durationMs,
      topology: twoTierTopology({ dram: '64MiB', slow: '64MiB' }),
      vms: [{ name: 'a', workload }],
      ...(measure === undefined ? {} : { measure }),
    },
    process.cwd(),
    'window',
  );
}

/** One sequential pass over the footprint, then uniform accesses to it. */
const passThenUniform = {
  footprint: '16MiB',
  pattern: 'phases',
  phases: [
    { accesses: FOOTPRINT_PAGES, pattern: 'sequential' },
    { accesses: 10_000_000, pattern: 'uniform' },
  ],
};

describe('measure: the window after warm-up', () => {
  it('without measure: the window is the whole run, figure for figure', () => {
    const { summary } = runScenario(scenario(undefined, passThenUniform), 1);
    const v = summary.vms[0];
    assert.equal(summary.measure, 'the whole run');
    assert.ok(v.measured !== null);
    assert.equal(v.measured.from_ms, 0);
    assert.equal(v.measured.accesses, v.accesses);
    assert.equal(v.measured.slowdown, v.slowdown);
    assert.equal(v.measured.amat_ns, v.amat_ns);
    assert.equal(v.measured.fast_tier_hit_ratio, v.fast_tier_hit_ratio);
  });

  it('after_first_pass opens once every page was touched, within a slice of it', () => {
    const { summary } = runScenario(scenario({ after_first_pass: true }, passThenUniform), 1);
    const v = summary.vms[0];
    assert.equal(v.footprint_touched, 1);
    assert.ok(v.measured !== null);
    const before = v.accesses - v.measured.accesses;
    assert.ok(
      before >= FOOTPRINT_PAGES && before <= FOOTPRINT_PAGES + CHUNK,
      `opened after ${before} accesses`,
    );
    assert.ok(v.measured.from_ms > 0);
    // The first pass pays every zero-fill fault; the window after it pays none.
    assert.ok(v.measured.kernel_ns_per_access < v.kernel_ns_per_access, JSON.stringify(v.measured));
    assert.ok(v.measured.slowdown < v.slowdown);
  });

  it('warmup_accesses and warmup_ms open where they say; a window that never opens is null and shown as "-"', () => {
    const n = 50_000;
    const a = runScenario(scenario({ warmup_accesses: n }, passThenUniform), 1).summary.vms[0];
    assert.ok(a.measured !== null);
    const before = a.accesses - a.measured.accesses;
    assert.ok(before >= n && before < n + CHUNK, `opened after ${before} accesses`);
    const t = runScenario(scenario({ warmup_ms: 10 }, passThenUniform), 1).summary.vms[0];
    assert.ok(
      t.measured !== null && t.measured.from_ms >= 10 && t.measured.from_ms < 11,
      JSON.stringify(t.measured),
    );
    const never = runScenario(scenario({ warmup_ms: 1000 }, passThenUniform), 1).summary;
    assert.equal(never.vms[0].measured, null);
    const text = formatSummary(never);
    assert.match(text, /measured after 1000 ms/);
    assert.match(text, /\ba\s+-\s+-\s+-\s+-/);
    assert.match(text, /a: the measured window never opened/);
  });

  it("warmup_ms counts the VM's own time: from its start_ms, not from the run's start", () => {
    const sc = resolveScenario(
      {
        name: 'late',
        duration_ms: 40,
        topology: twoTierTopology({ dram: '64MiB', slow: '64MiB' }),
        vms: [{ name: 'a', start_ms: 15, workload: passThenUniform }],
        measure: { warmup_ms: 10 },
      },
      process.cwd(),
      'late',
    );
    const v = runScenario(sc, 1).summary.vms[0];
    assert.ok(
      v.measured !== null && v.measured.from_ms >= 25 && v.measured.from_ms < 26,
      JSON.stringify(v.measured),
    );
  });

  it('a VM that has not touched its whole footprint is flagged in the summary and the table', () => {
    const wl = { footprint: '64MiB', pattern: 'uniform' };
    const { summary } = runScenario(scenario(undefined, wl, 2), 1);
    const v = summary.vms[0];
    assert.ok(v.footprint_touched > 0 && v.footprint_touched < 1, String(v.footprint_touched));
    assert.match(formatSummary(summary), /a: had not touched all of its footprint when the run ended/);
    assert.equal(runScenario(scenario({ after_first_pass: true }, wl, 2), 1).summary.vms[0].measured, null);
  });

  it('one rule at a time', () => {
    assert.throws(
      () => scenario({ warmup_ms: 1, warmup_accesses: 2 }, passThenUniform),
      (e: unknown) =>
        e instanceof InputError &&
        /measure: give exactly one of .* not warmup_ms and warmup_accesses/.test(e.message),
    );
    assert.throws(() => scenario({}, passThenUniform), /measure: give exactly one/);
  });
});
