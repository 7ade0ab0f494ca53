import * as fs from 'node:fs';
import * as path from 'node:path';

/** One row of the differential suite: what the kernel reported, what numatier computed. */
export interface CaseResult {
  topology: string;
  /** The item: tiers, watermarks, placement, reclaim, promotion. */
  item: string;
  case: string;
  kernel: string;
  simulator: string;
  tolerance: string;
  /** `same` / `within band`, or `differs` for a documented difference (`why`). */
  verdict: 'same' | 'within band' | 'differs';
  why?: string;
}

export interface SuiteResults {
  kernel: string;
  cases: CaseResult[];
}

/** Writes the results where NUMATIER_KERNEL_DIFF_JSON says (for `npm run docs:kernel-diff`). */
export function writeResults(r: SuiteResults): void {
  const file = process.env.NUMATIER_KERNEL_DIFF_JSON;
  if (file === undefined || file === '') return;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown table of docs/kernel-diff.md. */
export function resultsTable(r: SuiteResults): string {
  const rows = [
    '| guest | item | case | kernel | numatier | tolerance | result |',
    '| ----- | ---- | ---- | ------ | -------- | --------- | ------ |',
  ];
  for (const c of r.cases) {
    const verdict = c.verdict === 'differs' ? `differs: ${c.why ?? ''}` : c.verdict;
    rows.push(
      `| ${[c.topology, c.item, c.case, c.kernel, c.simulator, c.tolerance, verdict].map(cell).join(' | ')} |`,
    );
  }
  return rows.join('\n');
}
