import type { Summary } from '../report/summary.js';

/**
 * An experiment of the catalogue: one question from the 2019 debate, a family of scenarios
 * that differ only in the policy under test (same host, workload and seed), the figures that
 * answer it, and the conclusions the debate predicts, checked on the results.
 */
export interface ExperimentVariant {
  label: string;
  /** A scenario document, as a file would hold it. */
  scenario: Record<string, unknown>;
}

export interface ExperimentResult {
  label: string;
  summary: Summary;
  series: { columns: string[]; rows: number[][] };
}

export interface ExperimentColumn {
  header: string;
  /** A figure of one run (its first VM unless the experiment says otherwise). */
  value(r: ExperimentResult): number | string;
}

export interface Conclusion {
  /** The claim, e.g. "hot-threshold promotes several-fold fewer pages than always". */
  claim: string;
  holds: boolean;
  /**
   * False when the runs say nothing about the claim, e.g. the quantity it compares is zero on
   * both sides ("0 → 0" is no cut): the verdict is then "not applicable", whatever `holds` says.
   * Default true.
   */
  applicable?: boolean;
  /** The figures behind it. */
  detail: string;
  /**
   * `prediction`: what the debate (or the mechanism's design) predicts — asserted by the tests;
   * `report`: a figure the mechanism's authors published, compared, not asserted;
   * `observation`: what this run shows where nothing was predicted.
   */
  kind: 'prediction' | 'report' | 'observation';
}

/** `quick` runs shorter and smaller, for tests; `full` is what `numatier experiment run` uses. */
export type ExperimentScale = 'quick' | 'full';

export interface Experiment {
  name: string;
  ideas: string[];
  question: string;
  /** What the family of scenarios is and what varies. */
  setup: string;
  variants(scale: ExperimentScale): ExperimentVariant[];
  columns: ExperimentColumn[];
  conclusions(results: ExperimentResult[]): Conclusion[];
}

/** What a conclusion's runs say about its claim. */
export type Verdict = 'holds' | 'fails' | 'not applicable';

export function verdictOf(c: Conclusion): Verdict {
  if (c.applicable === false) return 'not applicable';
  return c.holds ? 'holds' : 'fails';
}
