import { buildRun, type BuiltRun } from '../scenario/build.js';
import { resolveScenario } from '../scenario/load.js';

/** Builds the run of a benchmark's scenario document, measures it, and closes it whatever happens. */
export function withBenchRun<T>(doc: unknown, seed: number, measure: (run: BuiltRun) => T): T {
  const run = buildRun(resolveScenario(doc, process.cwd(), 'bench'), seed);
  try {
    return measure(run);
  } finally {
    run.close();
  }
}
