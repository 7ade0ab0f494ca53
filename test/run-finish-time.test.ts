import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { throughput } from '../src/experiments/catalogue/util.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { TraceWriter } from '../src/traces/writer.js';
import { twoTierTopology } from './scenario-support.js';
import { scratchDir } from './trace-support.js';

/**
 * A run whose VMs have all finished ends at the exact time the last one finished, not at the next
 * sample, so that rates over the run (accesses/s) reflect the runtime.
 */

const dir = scratchDir('finish');
const trace = path.join(dir, 'once.ntrace');
const w = TraceWriter.create(trace, { source: 'finish-time test' });
for (let i = 0; i < 30_000; i++) w.append(((i * 7919) % 200) * 64, i % 4 === 0);
w.close();

function run(computeNs: number, vms = 1) {
  const doc = {
    name: 'finish',
    duration_ms: 1000,
    // Far coarser than the runtime differences below: rounding to a sample would hide them.
    sample_interval_ms: 50,
    topology: twoTierTopology({ dram: '64MiB', slow: '64MiB' }),
    vms: Array.from({ length: vms }, (_, i) => ({
      name: `vm${i}`,
      workload: { pattern: 'trace', trace, compute_ns: computeNs + i * 50 },
    })),
  };
  const r = runScenario(resolveScenario(doc, dir, 'finish'), 1);
  return { label: `compute ${computeNs}`, summary: r.summary, series: r.series };
}

describe('the end of a run whose VMs finished', () => {
  it('is the exact finish time, and accesses/s are computed from it', () => {
    const fast = run(100);
    const slow = run(110);
    for (const r of [fast, slow]) {
      const v = r.summary.vms[0];
      assert.equal(v.finished, true);
      assert.equal(v.accesses, 30_000);
      // Started at 0 and never waited: the VM's clock at its end is its busy time.
      assert.ok(v.finished_ms !== null && Math.abs(v.finished_ms - v.busy_ms) < 1e-6, `${v.finished_ms}`);
      assert.equal(r.summary.simulated_ms, v.finished_ms);
      assert.notEqual(r.summary.simulated_ms % 50, 0, 'not rounded to a sample');
      const last = r.series.rows[r.series.rows.length - 1];
      assert.equal(last[0], r.summary.simulated_ms, 'the final sample is taken at the end');
      assert.ok(Math.abs(throughput(r) - v.accesses / (v.busy_ms / 1000)) < 1e-6 * throughput(r));
    }
    assert.ok(slow.summary.simulated_ms > fast.summary.simulated_ms);
    assert.ok(throughput(fast) > throughput(slow), `${throughput(fast)} vs ${throughput(slow)}`);
  });

  it('a VM that finishes before its neighbour is timed to its own finish', () => {
    const r = run(100, 2);
    const [a, b] = r.summary.vms;
    assert.ok(a.finished_ms !== null && b.finished_ms !== null && a.finished_ms < b.finished_ms);
    assert.equal(r.summary.simulated_ms, b.finished_ms);
    const expected = a.accesses / (a.finished_ms / 1000) + b.accesses / (b.finished_ms / 1000);
    assert.ok(Math.abs(throughput(r) - expected) < 1e-6 * expected);
  });
});
