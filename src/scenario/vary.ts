import { InputError } from '../util/errors.js';
import { applyOverrides, resolveScenario } from './load.js';

/**
 * Variation of a scenario by --set paths (`--vary PATH=a,b` in sla and compare, the axes of a
 * sweep): each combination of values is the scenario with those overrides applied.
 */
export interface Vary {
  path: string;
  values: readonly string[];
}

/** --vary PATH=a,b[,c]: a --set path and the values to try, split at the first '='. */
export function parseVary(v: string): Vary {
  const eq = v.indexOf('=');
  const values =
    eq < 0
      ? []
      : v
          .slice(eq + 1)
          .split(',')
          .map((x) => x.trim());
  if (eq <= 0 || values.some((x) => x === ''))
    throw new InputError(
      `--vary ${JSON.stringify(v)}: expected PATH=a,b such as ratio.promotion=exchange,refuse`,
    );
  return { path: v.slice(0, eq).trim(), values };
}

/** Refuses an empty path or value and a path given twice. */
export function checkVaryPaths(vary: readonly Vary[], flag = '--vary'): void {
  const seen = new Set<string>();
  for (const v of vary) {
    if (v.path === '' || v.values.length === 0 || v.values.some((x) => x === ''))
      throw new InputError(`${flag} ${v.path}: expected PATH=a,b such as ratio.promotion=exchange,refuse`);
    if (seen.has(v.path)) throw new InputError(`${flag} ${v.path}: given twice`);
    seen.add(v.path);
  }
}

/** Every combination of the varied values, the first path varying slowest. */
export function combinations(vary: readonly Vary[]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const v of vary) out = out.flatMap((c) => v.values.map((x) => ({ ...c, [v.path]: x })));
  return out;
}

/**
 * The scenario document with one combination applied, each value checked as it is applied so
 * that an error names the value that caused it (`flag PATH=VALUE: …`).
 */
export function applyCombination(
  raw: unknown,
  combo: Readonly<Record<string, string>>,
  baseDir: string,
  defaultName: string,
  flag = '--vary',
): unknown {
  for (const [path, value] of Object.entries(combo)) {
    const set = `${path}=${value}`;
    try {
      raw = applyOverrides(raw, [set]);
      resolveScenario(raw, baseDir, defaultName);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(`${flag} ${set}: ${e.message.replace(/^--set [^:]*: /, '')}`);
    }
  }
  return raw;
}
