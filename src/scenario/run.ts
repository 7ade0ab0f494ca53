import { MetricsHub, type MetricsListener } from '../metrics/listeners.js';
import { buildSummary, type Summary } from '../report/summary.js';
import { TimeSeries } from '../report/timeseries.js';
import { buildRun, type BuildOptions, type BuiltRun } from './build.js';
import type { ResolvedScenario } from './load.js';

export interface RunResult {
  run: BuiltRun;
  summary: Summary;
  series: TimeSeries;
}

/** Builds and runs one scenario with one seed; deterministic for a given (scenario, seed). */
export function runScenario(
  sc: ResolvedScenario,
  seed: number,
  opts: Omit<BuildOptions, 'onSample'> & {
    /** Called once the run is built, before it starts (tests observe the host through it). */
    onBuilt?: (run: BuiltRun) => void;
    /** More listeners to the run's samples and snapshots, called after the time series. */
    listeners?: readonly MetricsListener[];
  } = {},
): RunResult {
  const series = new TimeSeries();
  const { onBuilt, listeners = [], ...build } = opts;
  const hub = new MetricsHub([series, ...listeners]);
  const run = buildRun(sc, seed, { ...build, onSample: (r, now) => hub.emit(r, now) });
  try {
    onBuilt?.(run);
    run.sim.run();
    return { run, summary: buildSummary(run), series };
  } finally {
    run.close();
  }
}
