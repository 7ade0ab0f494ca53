import type { ResolvedScenario } from './load.js';

/**
 * A resolved scenario as JSON text, and back: what goes to another machine (a sweep shard, a
 * SLURM job) so that it runs exactly what was resolved here. A resolved scenario is plain data
 * except for the topology model's Maps (distances, demotion targets, zonelists) and Infinity
 * standing for "max" in cgroup limits; both are written as tagged objects. A worker thread needs
 * none of this: structured clone keeps Maps and Infinity as they are.
 */
const MAP_TAG = '$numatier:map';
const NUMBER_TAG = '$numatier:number';

export function serializeScenario(sc: ResolvedScenario): string {
  return JSON.stringify(sc, function (this: unknown, _key: string, value: unknown) {
    if (value instanceof Map) return { [MAP_TAG]: [...value.entries()] };
    if (typeof value === 'number' && !Number.isFinite(value)) return { [NUMBER_TAG]: String(value) };
    return value;
  });
}

export function deserializeScenario(text: string): ResolvedScenario {
  return JSON.parse(text, (_key: string, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (keys.length !== 1) return value;
    const v = (value as Record<string, unknown>)[keys[0]];
    if (keys[0] === MAP_TAG && Array.isArray(v)) return new Map(v as [unknown, unknown][]);
    if (keys[0] === NUMBER_TAG && typeof v === 'string') return Number(v);
    return value;
  }) as ResolvedScenario;
}
