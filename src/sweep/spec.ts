import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_SCENARIO } from '../scenario/default.js';
import { applyOverrides, readScenarioFile, resolveScenario } from '../scenario/load.js';
import { applyCombination, combinations } from '../scenario/vary.js';
import { readDocumentFile } from '../util/document.js';
import { InputError } from '../util/errors.js';
import { parseWith } from '../util/validate.js';
import type { SweepManifest, SweepPoint } from './manifest.js';

/**
 * A sweep specification (SPEC.yaml): a base scenario, axes of --set paths with their values,
 * combined as a product or zipped, and seeds. `sweep plan` turns it into a manifest of points
 * packed into shards.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const SweepSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -')
      .optional(),
    /** A scenario file (relative to the spec), a scenario inline, or nothing: the built-in one. */
    scenario: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    set: z.array(z.string()).optional(),
    /** path → values, in the order given; the first axis varies slowest. */
    axes: z.record(z.string().min(1), z.array(scalar).min(1)),
    combine: z.enum(['product', 'zip']).default('product'),
    /** How many seeds per point, from `seed`; or the seeds themselves. */
    seeds: z
      .union([z.number().int().min(1).max(10000), z.array(z.number().int().nonnegative()).min(1)])
      .default(1),
    seed: z.number().int().nonnegative().optional(),
    points_per_shard: z.number().int().min(1).max(100000).default(1),
  })
  .strict();

export type SweepSpec = z.infer<typeof SweepSpecSchema>;

/** The most points a sweep may plan: beyond it the manifest itself becomes the problem. */
export const MAX_POINTS = 1_000_000;

/** Validates a sweep spec document (as read from a file), naming the field at fault. */
export function parseSweepSpec(doc: unknown): SweepSpec {
  return parseWith(SweepSpecSchema, doc);
}

export function loadSweepSpec(path: string): { spec: SweepSpec; baseDir: string; defaultName: string } {
  const doc = readDocumentFile(path, 'sweep spec');
  return {
    spec: parseSweepSpec(doc),
    baseDir: dirname(resolve(path)),
    defaultName: basename(path, extname(path)),
  };
}

/** Every point of the sweep, each resolved once so that a bad value fails at plan time. */
export function planSweep(spec: SweepSpec, specDir: string, specName: string): SweepManifest {
  let raw: unknown;
  let baseDir = specDir;
  let scenarioName: string;
  if (spec.scenario === undefined) {
    raw = DEFAULT_SCENARIO;
    scenarioName = DEFAULT_SCENARIO.name;
  } else if (typeof spec.scenario === 'string') {
    const file = isAbsolute(spec.scenario) ? spec.scenario : resolve(specDir, spec.scenario);
    raw = readScenarioFile(file);
    baseDir = dirname(file);
    scenarioName = basename(file, extname(file));
  } else {
    raw = spec.scenario;
    scenarioName = specName;
  }
  raw = applyOverrides(raw, spec.set ?? []);
  const base = resolveScenario(raw, baseDir, scenarioName);
  const axes = Object.entries(spec.axes).map(([path, values]) => ({ path, values: values.map(String) }));
  if (axes.some((a) => a.path === 'seed'))
    throw new InputError('axes.seed: use seeds (and seed) to choose seeds');
  const combos = combine(axes, spec.combine);
  const seed0 = spec.seed ?? base.seed;
  const seeds =
    typeof spec.seeds === 'number' ? Array.from({ length: spec.seeds }, (_, k) => seed0 + k) : spec.seeds;
  if (combos.length * seeds.length > MAX_POINTS)
    throw new InputError(`axes: ${combos.length * seeds.length} points; at most ${MAX_POINTS} per sweep`);
  const points: SweepPoint[] = [];
  for (const combo of combos) {
    // Checked once per combination: a value that does not resolve names its axis.
    applyCombination(raw, combo, baseDir, scenarioName, 'axes');
    for (const seed of seeds) points.push({ index: points.length, seed, set: combo });
  }
  return {
    numatier_sweep: 1,
    name: spec.name ?? specName,
    scenario: { raw, baseDir, name: base.name },
    axes,
    combine: spec.combine,
    seeds,
    points_per_shard: spec.points_per_shard,
    shards: Math.ceil(points.length / spec.points_per_shard),
    points,
  };
}

function combine(
  axes: readonly { path: string; values: string[] }[],
  how: 'product' | 'zip',
): Record<string, string>[] {
  if (how === 'zip') {
    const n = axes[0]?.values.length ?? 1;
    for (const a of axes)
      if (a.values.length !== n)
        throw new InputError(
          `axes.${a.path}: combine zip needs every axis to have ${n} values, got ${a.values.length}`,
        );
    return Array.from({ length: n }, (_, i) => Object.fromEntries(axes.map((a) => [a.path, a.values[i]])));
  }
  return combinations(axes);
}
