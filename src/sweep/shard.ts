import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Summary } from '../report/summary.js';
import { writeFileAtomic } from '../report/output.js';
import { resolveScenario } from '../scenario/load.js';
import type { ScenarioInput } from '../scenario/schema.js';
import { runScenario } from '../scenario/run.js';
import { applyCombination } from '../scenario/vary.js';
import { InputError } from '../util/errors.js';
import { readManifest, shardFile, shardPoints, type SweepManifest, type SweepPoint } from './manifest.js';

/** What a shard's file holds: each of its points with the run's summary. */
export interface ShardResult {
  shard: number;
  points: (SweepPoint & { summary: Summary })[];
}

/** The scenario document of one point: the base with the point's axis values and seed. */
export function pointInput(m: SweepManifest, p: SweepPoint): ScenarioInput {
  const { raw, baseDir, name } = m.scenario;
  const doc = applyCombination(raw, p.set, baseDir, name, 'axes');
  return { ...resolveScenario(doc, baseDir, name).input, seed: p.seed } as ScenarioInput;
}

/**
 * Runs shard `index` unless its file is there, and writes the file under a temporary name, then
 * renames it: a killed shard leaves no file, so it counts as missing and can simply be rerun.
 */
export function runShard(
  dir: string,
  index: number,
  m: SweepManifest = readManifest(dir),
): 'ran' | 'done before' {
  if (!Number.isInteger(index) || index < 0 || index >= m.shards)
    throw new InputError(`--index: expected a shard from 0 to ${m.shards - 1}, got ${index}`);
  const file = shardFile(dir, index);
  if (existsSync(file)) return 'done before';
  const points = shardPoints(m, index).map((p) => {
    const sc = resolveScenario(pointInput(m, p), m.scenario.baseDir, m.scenario.name);
    return { ...p, summary: runScenario(sc, p.seed).summary };
  });
  const result: ShardResult = { shard: index, points };
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(result) + '\n');
  return 'ran';
}
