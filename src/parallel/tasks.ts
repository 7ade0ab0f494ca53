import { buildSummary, type Summary } from '../report/summary.js';
import type { ResolvedScenario } from '../scenario/load.js';
import { buildRun } from '../scenario/build.js';
import { runScenario } from '../scenario/run.js';
import { runShard } from '../sweep/shard.js';

/**
 * The units of work a pool runs: each is plain data (a resolved scenario survives structured
 * clone as it is), deterministic for its inputs, and independent of the others, so the results
 * are the same whether they run one after another here or spread over worker threads.
 */
export type Task = ScenarioTask | StopAfterTask | SweepShardTask;

/** One scenario, one seed, run to its end: what simulate, compare, experiments and sweeps run. */
export interface ScenarioTask {
  kind: 'scenario';
  scenario: ResolvedScenario;
  seed: number;
}

/**
 * One scenario run until the VM at `vm` has made `accesses` accesses (or the run ends): an SLA
 * point replaying exactly the accesses of its counting run. `accesses: null` runs to the end.
 */
export interface StopAfterTask {
  kind: 'stop-after';
  scenario: ResolvedScenario;
  seed: number;
  vm: number;
  accesses: number | null;
}

/** One shard of a planned sweep: runs its points and writes its file (see sweep/shard.ts). */
export interface SweepShardTask {
  kind: 'sweep-shard';
  dir: string;
  index: number;
}

export interface ScenarioOutcome {
  summary: Summary;
  series: { columns: string[]; rows: number[][] };
}

export interface StopAfterOutcome {
  summary: Summary;
}

export type Outcome<T extends Task> = T extends ScenarioTask
  ? ScenarioOutcome
  : T extends SweepShardTask
    ? 'ran' | 'done before'
    : StopAfterOutcome;

export function runTask<T extends Task>(task: T): Outcome<T> {
  if (task.kind === 'scenario') {
    const r = runScenario(task.scenario, task.seed);
    return { summary: r.summary, series: { columns: r.series.columns, rows: r.series.rows } } as Outcome<T>;
  }
  if (task.kind === 'sweep-shard') return runShard(task.dir, task.index) as Outcome<T>;
  return runStopAfter(task as StopAfterTask) as Outcome<T>;
}

function runStopAfter(task: StopAfterTask): StopAfterOutcome {
  const sc = task.scenario;
  const run = buildRun(sc, task.seed);
  try {
    if (task.accesses === null) {
      run.sim.run();
    } else {
      // Neighbours never finish: stop at the first sample after this VM has replayed its
      // accesses (the VM itself stops at exactly that count).
      const t0 = run.sim.tasks[task.vm];
      const step = sc.sampleIntervalNs;
      for (let t = step; !t0.finished && t0.as.alive && t < sc.durationNs + step; t += step)
        run.sim.runUntil(t);
      run.sim.finish();
    }
    return { summary: buildSummary(run) };
  } finally {
    run.close();
  }
}
