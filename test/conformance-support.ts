import { verifyHost } from '../src/host/verify.js';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PolicyModule } from '../src/policies/registry.js';
import { resolveScenario, type ResolvedScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { twoTierTopology } from './scenario-support.js';

/**
 * Shared by the conformance suites: a check a module may skip (naming it in its `conformance`
 * field with the reason), and a small tiered scenario the run-level checks use.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function check(m: PolicyModule<any, any, any, any>, name: string, body: () => void): void {
  const reason = m.conformance?.skip[name];
  if (reason !== undefined) it(`${name} (skipped: ${reason})`, { skip: reason }, () => undefined);
  else it(name, body);
}

/** One DRAM node, one CPU-less slow node, one VM bigger than DRAM: reclaim and promotion both work. */
export function tieredScenario(tiering: Record<string, unknown>): ResolvedScenario {
  return resolveScenario(
    {
      name: 'conformance',
      seed: 3,
      duration_ms: 250,
      sample_interval_ms: 50,
      topology: twoTierTopology({ dram: '24MiB', slow: '96MiB' }),
      kernel: {
        demotion_enabled: true,
        numa_balancing: 2,
        swap: '64MiB',
        min_free_kbytes: 1024,
        numa_balancing_scan_delay_ms: 10,
        numa_balancing_scan_period_min_ms: 20,
        numa_balancing_scan_period_max_ms: 100,
        numa_balancing_hot_threshold_ms: 50,
      },
      tiering,
      vms: [
        {
          name: 'app',
          workload: { footprint: '48MiB', pattern: 'zipfian', theta: 0.9, write_ratio: 0.2 },
        },
      ],
    },
    process.cwd(),
    'conformance',
  );
}

/** Runs a scenario; fails unless the host's own recount (verify()) agrees at the end. */
export function runVerified(sc: ResolvedScenario): {
  bytes: string;
  summary: ReturnType<typeof runScenario>['summary'];
} {
  const r = runScenario(sc, sc.seed);
  const bad = verifyHost(r.run.host);
  assert.equal(bad, null, `host invariants after the run: ${String(bad)}`);
  return { bytes: JSON.stringify(r.summary) + JSON.stringify(r.series), summary: r.summary };
}
