import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../report/output.js';
import { InputError } from '../util/errors.js';

/**
 * A planned sweep on disk: DIR/manifest.json says what every point is; DIR/shards/I.json is
 * shard I's results, written under a temporary name and renamed, so a file there is a finished
 * shard and a killed one leaves nothing. Any machine that sees DIR can run any shard.
 */
export interface SweepPoint {
  index: number;
  seed: number;
  /** The axis values of this point: --set path → value. */
  set: Record<string, string>;
}

export interface SweepManifest {
  numatier_sweep: 1;
  name: string;
  /** The base scenario document (spec's `set` applied) and the folder its paths are relative to. */
  scenario: { raw: unknown; baseDir: string; name: string };
  axes: { path: string; values: string[] }[];
  combine: 'product' | 'zip';
  seeds: number[];
  points_per_shard: number;
  shards: number;
  points: SweepPoint[];
}

export const MANIFEST = 'manifest.json';
export const SHARDS = 'shards';

export function shardFile(dir: string, index: number): string {
  return join(dir, SHARDS, `${index}.json`);
}

/** The points shard `index` runs. */
export function shardPoints(m: SweepManifest, index: number): SweepPoint[] {
  return m.points.slice(index * m.points_per_shard, (index + 1) * m.points_per_shard);
}

export function manifestText(m: SweepManifest): string {
  return JSON.stringify(m, null, 1) + '\n';
}

/**
 * Writes a new sweep's manifest. An existing sweep is left alone: re-planning the same spec is
 * a no-op, a different plan over it is refused (its shards would no longer match).
 */
export function writeManifest(dir: string, m: SweepManifest): 'planned' | 'unchanged' {
  const text = manifestText(m);
  const path = join(dir, MANIFEST);
  if (existsSync(path)) {
    if (readFileSync(path, 'utf8') === text) return 'unchanged';
    throw new InputError(
      `--out ${dir}: holds another sweep's manifest; refusing to replace it (choose another --out)`,
    );
  }
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new InputError(
      `--out ${dir}: is a directory that is not a numatier sweep; refusing to write into it`,
    );
  try {
    mkdirSync(join(dir, SHARDS), { recursive: true });
  } catch (e) {
    throw new InputError(
      `--out ${dir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  writeFileAtomic(path, text);
  return 'planned';
}

export function readManifest(dir: string): SweepManifest {
  const path = join(dir, MANIFEST);
  let m: Partial<SweepManifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<SweepManifest>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `${dir}: no ${MANIFEST}; plan the sweep first (numatier sweep plan SPEC --out ${dir})`
        : `${path}: not a sweep manifest (${code ?? (e as Error).message})`,
    );
  }
  if (m.numatier_sweep !== 1 || !Array.isArray(m.points) || typeof m.shards !== 'number')
    throw new InputError(`${path}: not a numatier sweep manifest (numatier_sweep: 1 expected)`);
  return m as SweepManifest;
}

/** Indices of the shards whose result file exists. */
export function doneShards(dir: string, m: SweepManifest): Set<number> {
  const done = new Set<number>();
  let names: string[];
  try {
    names = readdirSync(join(dir, SHARDS));
  } catch {
    return done;
  }
  for (const n of names) {
    const x = /^(\d+)\.json$/.exec(n);
    if (x !== null && Number(x[1]) < m.shards) done.add(Number(x[1]));
  }
  return done;
}

export function missingShards(dir: string, m: SweepManifest): number[] {
  const done = doneShards(dir, m);
  const out: number[] = [];
  for (let i = 0; i < m.shards; i++) if (!done.has(i)) out.push(i);
  return out;
}

/** Sorted indices as SLURM's --array takes them: `0-3,7,9-10`. */
export function indexRanges(xs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
