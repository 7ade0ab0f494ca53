import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VM, VMSTAT_ITEMS } from '../src/host/vmstat.js';
import { MetricsHub, type MetricsListener } from '../src/metrics/listeners.js';
import {
  busyNs,
  diff,
  memcgEvent,
  takeSnapshot,
  totalAccesses,
  vmstatGlobal,
  type Snapshot,
} from '../src/metrics/snapshot.js';
import { buildRun } from '../src/scenario/build.js';
import { loadScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { canonicalJson, contentHash } from '../src/util/hash.js';

const SMALL = 'test/fixtures/scenarios/small.yaml';

/** The snapshot of a run, diff() and the listeners that receive them (docs/metrics.md). */
describe('metrics snapshot', () => {
  it('a snapshot copies the counters: the run going on leaves it as it was', () => {
    const sc = loadScenario(SMALL, ['duration_ms=60']);
    const run = buildRun(sc, sc.seed);
    try {
      run.sim.runUntil(20e6);
      const a = takeSnapshot(run.sim, run.numa, run.tierControl);
      const copy = structuredClone(a);
      run.sim.runUntil(60e6);
      run.sim.finish();
      const b = takeSnapshot(run.sim, run.numa, run.tierControl);
      assert.deepEqual(a, copy);
      assert.ok(totalAccesses(b) > totalAccesses(a));
      // The live counters and the snapshot agree.
      assert.equal(vmstatGlobal(b, VM.pgfault), run.host.vmstat.global(VM.pgfault));
      assert.equal(b.vms[0].accesses, run.sim.tasks[0].stats.accesses);
      assert.equal(b.vms[1].promoted, run.host.ledger.up[1]);
      assert.equal(memcgEvent(b, 2, 'max'), run.host.cgroups.eventCount(2, 'max'));
      assert.ok(b.promotion !== null);
      assert.equal(b.promotion.notHot, run.numa?.stats.notHot);
    } finally {
      run.close();
    }
  });

  it('diff() subtracts counters and keeps the later gauges', () => {
    const sc = loadScenario(SMALL, ['duration_ms=60']);
    const run = buildRun(sc, sc.seed);
    try {
      run.sim.runUntil(25e6);
      const a = takeSnapshot(run.sim, run.numa, run.tierControl);
      run.sim.runUntil(60e6);
      const b = takeSnapshot(run.sim, run.numa, run.tierControl);
      const d = diff(a, b);
      assert.equal(d.sinceNs, a.atNs);
      assert.equal(d.atNs, b.atNs);
      for (const [i, name] of VMSTAT_ITEMS.entries())
        assert.equal(vmstatGlobal(d, i), vmstatGlobal(b, i) - vmstatGlobal(a, i), name);
      for (let v = 0; v < b.vms.length; v++) {
        assert.equal(d.vms[v].accesses, b.vms[v].accesses - a.vms[v].accesses);
        assert.equal(d.vms[v].latencyNs, b.vms[v].latencyNs - a.vms[v].latencyNs);
        assert.deepEqual(d.vms[v].rssByNode, b.vms[v].rssByNode, 'resident pages are a gauge');
        assert.equal(d.vms[v].clockNs, b.vms[v].clockNs);
      }
      assert.deepEqual(d.freePages, b.freePages);
      assert.deepEqual(d.memcgUsage, b.memcgUsage);
      assert.ok(vmstatGlobal(d, VM.pgfault) > 0 && vmstatGlobal(d, VM.pgfault) < vmstatGlobal(b, VM.pgfault));
      // A snapshot minus itself: every counter 0.
      const z = diff(b, b);
      assert.equal(totalAccesses(z), 0);
      assert.ok(z.vmstat.every((x) => x === 0));
      assert.throws(() => diff(a, { ...b, vms: [] } as Snapshot), /different runs/);
    } finally {
      run.close();
    }
  });

  it('the ratio machinery is on the snapshot: a window of the monitor is a diff, the summary reads the final one', () => {
    const sc = loadScenario('examples/scenarios/cxl-tenant.yaml', [
      'duration_ms=300',
      'vms[0].workload.footprint=256MiB',
      'cgroups[0].memory.max=512MiB',
      'ratio.strategy=rebalance',
    ]);
    const run = buildRun(sc, sc.seed);
    try {
      assert.ok(run.tierControl !== null && run.tierControl.monitor !== null);
      const m = run.tierControl.monitor;
      run.sim.runUntil(150e6);
      const a = takeSnapshot(run.sim, run.numa, run.tierControl);
      const copy = structuredClone(a);
      run.sim.runUntil(300e6);
      run.sim.finish();
      const b = takeSnapshot(run.sim, run.numa, run.tierControl);
      assert.deepEqual(a, copy, "a copy, not the monitor's arrays");
      assert.ok(a.ratio !== null && b.ratio !== null);
      const id = run.sim.tasks[0].as.id;
      assert.equal(b.ratio.samples[id], m.samples[id]);
      assert.equal(b.ratio.enforcementRuns, run.tierControl.stats.runs);
      assert.ok(b.ratio.enforcementRuns > a.ratio.enforcementRuns, 'rebalance ran in the second half');
      assert.equal(b.ratio.target[id], 0.25);
      const d = diff(a, b);
      assert.ok(d.ratio !== null);
      assert.equal(d.ratio.samples[id], b.ratio.samples[id] - a.ratio.samples[id]);
      assert.ok(d.ratio.samples[id] > 0);
      assert.equal(d.ratio.errSum[id], b.ratio.errSum[id] - a.ratio.errSum[id]);
      assert.equal(d.ratio.enforcementRuns, b.ratio.enforcementRuns - a.ratio.enforcementRuns);
      assert.deepEqual(d.ratio.errMax, b.ratio.errMax, 'the maximum is a gauge');
      assert.equal(diff(b, b).ratio?.samples[id], 0);
      // A run without memory.tier_ratio has no ratio counters.
      const plain = loadScenario(SMALL, ['duration_ms=20']);
      const r2 = buildRun(plain, plain.seed);
      try {
        assert.equal(takeSnapshot(r2.sim, r2.numa, r2.tierControl).ratio, null);
      } finally {
        r2.close();
      }
    } finally {
      run.close();
    }
  });

  it('any number of listeners: each sees every sample, all share one snapshot per sample', () => {
    const sc = loadScenario(SMALL, ['duration_ms=50']);
    const samples: number[] = [];
    const snapsA: Snapshot[] = [];
    const snapsB: Snapshot[] = [];
    const listeners: MetricsListener[] = [
      { sample: (_r, now) => samples.push(now) },
      { snapshot: (s) => snapsA.push(s) },
      { snapshot: (s) => snapsB.push(s) },
    ];
    const { summary, series } = runScenario(sc, sc.seed, { listeners });
    // 0, 10, …, 50 ms; the final sample at 50 ms repeats the periodic one (the series keeps one row).
    assert.deepEqual(samples.slice(0, 6), [0, 10e6, 20e6, 30e6, 40e6, 50e6]);
    assert.equal(snapsA.length, samples.length);
    snapsA.forEach((s, i) => {
      assert.equal(s, snapsB[i]);
      assert.equal(s.atNs, samples[i]);
    });
    assert.equal(series.rows.length, 6);
    // The last snapshot is the end of the run, as the summary reports it.
    const last = snapsA[snapsA.length - 1];
    summary.vms.forEach((v, i) => {
      assert.equal(v.accesses, last.vms[i].accesses);
      assert.equal(v.busy_ms, Math.round((busyNs(last.vms[i]) / 1e6) * 1e6) / 1e6);
    });
    assert.equal(summary.vmstat.pgdemote_kswapd, vmstatGlobal(last, VM.pgdemote_kswapd));
    // The time series' interval AMAT is the diff of consecutive snapshots.
    const col = series.columns.indexOf('vm_a_amat_ns');
    const d = diff(snapsA[2], snapsA[3]).vms[0];
    assert.equal(series.rows[3][col], Math.round((d.latencyNs / d.accesses) * 1000) / 1000);
  });

  it('no snapshot is taken when no listener wants one; unsubscribing stops the calls', () => {
    const sc = loadScenario(SMALL, ['duration_ms=30']);
    const run = buildRun(sc, sc.seed);
    try {
      const hub = new MetricsHub();
      let calls = 0;
      const off = hub.subscribe({ sample: () => calls++ });
      // A run whose engine is gone: a snapshot would throw, a sample listener alone must not need one.
      const broken = { ...run, sim: undefined } as unknown as typeof run;
      hub.emit(broken, 0);
      assert.equal(calls, 1);
      off();
      hub.emit(broken, 0);
      assert.equal(calls, 1);
      let got: Snapshot | null = null;
      hub.subscribe({ snapshot: (s) => (got = s) });
      hub.emit(run, 0);
      assert.ok(got !== null);
    } finally {
      run.close();
    }
  });
});

describe('summary provenance', () => {
  it("summary.json carries numatier's version and the hash of the scenario as run", () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const base = loadScenario(SMALL, ['duration_ms=20']);
    const same = loadScenario(SMALL, ['duration_ms=20']);
    const other = loadScenario(SMALL, ['duration_ms=20', 'kernel.swappiness=10']);
    const s = runScenario(base, base.seed).summary;
    assert.equal(s.numatier_version, pkg.version);
    assert.match(s.scenario_sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(s.scenario_sha256, contentHash(base.input));
    assert.equal(contentHash(same.input), contentHash(base.input));
    assert.notEqual(contentHash(other.input), contentHash(base.input), '--set changes the hash');
  });

  it('canonical JSON sorts keys at every depth, so key order does not change the hash', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [{ d: 2, c: null }], e: undefined }),
      '{"a":[{"c":null,"d":2}],"b":1}',
    );
    assert.equal(
      contentHash({ x: 1, y: { p: 'q', o: true } }),
      contentHash({ y: { o: true, p: 'q' }, x: 1 }),
    );
    assert.notEqual(contentHash({ x: 1 }), contentHash({ x: 2 }));
    assert.equal(canonicalJson([Infinity]), '["Infinity"]');
    assert.throws(() => canonicalJson({ m: new Map() }), /not plain data/);
  });
});
