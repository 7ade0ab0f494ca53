import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { vmFigures } from '../compare/figures.js';
import { writeFileAtomic } from '../report/output.js';
import { csvField } from '../report/timeseries.js';
import { InputError } from '../util/errors.js';
import { indexRanges, missingShards, readManifest, shardFile, type SweepManifest } from './manifest.js';
import { sweepReport } from './report.js';
import type { ShardResult } from './shard.js';

/**
 * `sweep collect`: every shard's points as one table, one row per point and VM — CSV and JSON
 * lines always, Parquet on request — and a comparative report. Rows follow the manifest's
 * order, so the bytes depend on the plan alone, not on where or when shards ran.
 */
export type SweepRow = Record<string, string | number | boolean>;

export const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type SweepFormat = (typeof FORMATS)[number];

export function collectRows(dir: string, m: SweepManifest = readManifest(dir)): SweepRow[] {
  const missing = missingShards(dir, m);
  if (missing.length > 0)
    throw new InputError(
      `${dir}: ${missing.length} of ${m.shards} shards missing (${indexRanges(missing)}); run them first (sweep run, sweep run-shard or sweep submit)`,
    );
  const rows: SweepRow[] = [];
  for (let s = 0; s < m.shards; s++) {
    const file = shardFile(dir, s);
    let r: ShardResult;
    try {
      r = JSON.parse(readFileSync(file, 'utf8')) as ShardResult;
    } catch (e) {
      throw new InputError(
        `${file}: not a shard result (${(e as Error).message}); remove it and rerun shard ${s}`,
      );
    }
    if (r.shard !== s || !Array.isArray(r.points))
      throw new InputError(`${file}: not the result of shard ${s}; remove it and rerun the shard`);
    for (const p of r.points) {
      for (const v of p.summary.vms) {
        const f = vmFigures(p.summary, v);
        rows.push({
          point: p.index,
          seed: p.seed,
          ...Object.fromEntries(m.axes.map((a) => [a.path, p.set[a.path]])),
          vm: v.name,
          accesses: v.accesses,
          busy_ms: v.busy_ms,
          ...f,
          oom_killed: v.oom_killed,
        });
      }
    }
  }
  return rows;
}

export function rowsCSV(rows: readonly SweepRow[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]);
  return (
    [cols.map(csvField).join(','), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(','))].join('\n') +
    '\n'
  );
}

export function rowsJSONL(rows: readonly SweepRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

/** Writes the table in each format asked and report.html; returns the files written. */
export async function collectSweep(dir: string, formats: readonly SweepFormat[]): Promise<string[]> {
  const m = readManifest(dir);
  const rows = collectRows(dir, m);
  const written: string[] = [];
  const jsonl = rowsJSONL(rows);
  if (formats.includes('csv')) {
    writeFileAtomic(join(dir, 'results.csv'), rowsCSV(rows));
    written.push('results.csv');
  }
  if (formats.includes('jsonl') || formats.includes('parquet')) {
    writeFileAtomic(join(dir, 'results.jsonl'), jsonl);
    written.push('results.jsonl');
  }
  if (formats.includes('parquet')) {
    await writeParquet(join(dir, 'results.jsonl'), join(dir, 'results.parquet'));
    written.push('results.parquet');
  }
  writeFileAtomic(join(dir, 'report.html'), sweepReport(m, rows));
  written.push('report.html');
  return written;
}

/**
 * Parquet through DuckDB's Node API, an optional dependency: the core install stays small, and
 * a user who wants Parquet installs it (`npm install @duckdb/node-api`).
 */
async function writeParquet(jsonl: string, out: string): Promise<void> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch {
    throw new InputError(
      '--format parquet: needs the optional package @duckdb/node-api (npm install @duckdb/node-api)',
    );
  }
  const tmp = `${out}.numatier-tmp-${process.pid}`;
  const q = (p: string): string => `'${p.replace(/'/g, "''")}'`;
  const db = await duckdb.DuckDBInstance.create(':memory:');
  try {
    const con = await db.connect();
    // One thread: row order and file layout do not depend on the machine's cores.
    await con.run('SET threads = 1');
    await con.run(
      `COPY (SELECT * FROM read_json(${q(jsonl)}, format = 'newline_delimited')) TO ${q(tmp)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    con.closeSync();
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof InputError) throw e;
    throw new InputError(`${out}: cannot write Parquet (${(e as Error).message})`);
  } finally {
    db.closeSync();
  }
}
