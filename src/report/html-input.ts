import { InputError, fieldPath } from '../util/errors.js';
import type { Summary } from './summary.js';

/** A run's time series in the shape of TimeSeries (columns, then one row per sample). */
export interface SeriesTable {
  columns: string[];
  rows: number[][];
}

export interface ReportRun {
  /** What tells this run apart: the policy of an experiment, or the scenario name. */
  label: string;
  summary: Summary;
  series: SeriesTable;
  /**
   * Target fast-memory share per VM name, in [0, 1]: fast ÷ (fast + slow) of the VM's fast:slow
   * ratio. Default: each VM's `target_fast_ratio` in the summary, where it has one.
   */
  targets?: Record<string, number>;
}

export interface ReportInput {
  title: string;
  /** One run for `simulate`; several (one per policy) for an experiment. */
  runs: ReportRun[];
  /** Free-text lines shown under the title. */
  notes?: string[];
}

/** Refuses input the report could only draw wrongly, naming the field. */
export function validateReportInput(input: ReportInput): void {
  if (input.runs.length === 0) throw new InputError('runs: expected at least one run to report');
  input.runs.forEach((run, r) => {
    const at = (...p: (string | number)[]): string => fieldPath(['runs', r, ...p]);
    const { columns, rows } = run.series;
    if (!columns.includes('time_ms'))
      throw new InputError(`${at('series', 'columns')}: expected a time_ms column`);
    rows.forEach((row, i) => {
      if (row.length !== columns.length) {
        throw new InputError(
          `${at('series', 'rows', i)}: expected ${columns.length} values, got ${row.length}`,
        );
      }
    });
    const t = columns.indexOf('time_ms');
    for (let i = 1; i < rows.length; i++) {
      if (!(rows[i][t] > rows[i - 1][t])) {
        throw new InputError(
          `${at('series', 'rows', i)}: expected time_ms to increase (${rows[i - 1][t]} then ${rows[i][t]})`,
        );
      }
    }
    const names = new Set(run.summary.vms.map((v) => v.name));
    const share = (field: string, x: unknown): void => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1) {
        throw new InputError(`${field}: expected a fast-memory share between 0 and 1, got ${String(x)}`);
      }
    };
    for (const [vm, x] of Object.entries(run.targets ?? {})) {
      if (!names.has(vm)) throw new InputError(`${at('targets', vm)}: no VM named ${vm} in this run`);
      share(at('targets', vm), x);
    }
    run.summary.vms.forEach((v, i) => {
      const x = v.target_fast_ratio;
      if (x !== undefined && x !== null) share(at('summary', 'vms', i, 'target_fast_ratio'), x);
    });
  });
}

/** The fast-share targets the report draws: the explicit map, else the summary's per-VM targets. */
export function runTargets(run: ReportRun): Record<string, number> {
  if (run.targets !== undefined) return run.targets;
  const out: Record<string, number> = {};
  for (const v of run.summary.vms) {
    if (typeof v.target_fast_ratio === 'number') out[v.name] = v.target_fast_ratio;
  }
  return out;
}
