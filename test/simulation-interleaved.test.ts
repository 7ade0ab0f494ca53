import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsHub } from '../src/metrics/listeners.js';
import { buildSummary } from '../src/report/summary.js';
import { TimeSeries } from '../src/report/timeseries.js';
import { buildRun, type BuiltRun } from '../src/scenario/build.js';
import { loadScenario } from '../src/scenario/load.js';

/**
 * Simulations share nothing through module state: two runs stepped alternately in one process
 * give the bytes each gives alone. Scratch arrays at module level (the access loop's results,
 * reclaim batches, the NUMA scanner's marks) would let one run's leftovers leak into the other.
 */

const SMALL = 'test/fixtures/scenarios/small.yaml';

interface Run {
  run: BuiltRun;
  series: TimeSeries;
}

function build(sets: string[]): Run {
  const sc = loadScenario(SMALL, sets);
  const series = new TimeSeries();
  const hub = new MetricsHub([series]);
  const run = buildRun(sc, sc.seed, { onSample: (r, now) => hub.emit(r, now) });
  return { run, series };
}

function output(r: Run): string {
  return JSON.stringify(buildSummary(r.run)) + '\n' + r.series.toCSV();
}

function alone(sets: string[]): string {
  const r = build(sets);
  try {
    r.run.sim.run();
    return output(r);
  } finally {
    r.run.close();
  }
}

// Two different runs: other seeds, other footprints (so other page-table and frame sizes).
const A = ['seed=3'];
const B = ['seed=11', 'vms[0].workload.footprint=72MiB', 'vms[0].workload.theta=0.8'];

describe('two simulations in one process', () => {
  it('stepped alternately, each gives the bytes it gives alone', () => {
    const soloA = alone(A);
    const soloB = alone(B);
    assert.notEqual(soloA, soloB, 'the two runs must differ for the test to mean anything');
    const a = build(A);
    const b = build(B);
    try {
      // Steps of 0.7 ms of simulated time: many task slices, kswapd runs and scans of each
      // land between the other's.
      const end = Math.max(a.run.scenario.durationNs, b.run.scenario.durationNs);
      for (let t = 7e5; t < end + 7e5; t += 7e5) {
        a.run.sim.runUntil(t);
        b.run.sim.runUntil(t);
      }
      a.run.sim.finish();
      b.run.sim.finish();
      assert.equal(output(a), soloA);
      assert.equal(output(b), soloB);
    } finally {
      a.run.close();
      b.run.close();
    }
  });
});
