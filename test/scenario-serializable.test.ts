import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DEFAULT_SCENARIO } from '../src/scenario/default.js';
import { loadScenario, resolveScenario, type ResolvedScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { deserializeScenario, serializeScenario } from '../src/scenario/serialize.js';

/**
 * A resolved scenario is data: no closures (a VM's stream is opened from its `source` at run
 * time), so it survives structuredClone() unchanged, and a copy runs to the same bytes as the
 * original (what sending it to a worker needs). As JSON text (another machine) it goes through
 * serializeScenario(), which tags the topology model's Maps and the Infinity of "max" limits.
 */

function assertNoFunctions(v: unknown, path: string): void {
  assert.notEqual(typeof v, 'function', `${path} is a function`);
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    for (const [k, x] of entries) assertNoFunctions(x, `${path}.${String(k)}`);
  }
}

const small = fileURLToPath(new URL('../../test/fixtures/scenarios/small.yaml', import.meta.url));

function shortDefault(): ResolvedScenario {
  const raw = structuredClone(DEFAULT_SCENARIO) as Record<string, unknown>;
  raw.duration_ms = 200;
  return resolveScenario(raw, process.cwd(), 'default');
}

const outputOf = (sc: ResolvedScenario): string => {
  const r = runScenario(sc, sc.seed);
  return JSON.stringify(r.summary) + '\n' + JSON.stringify(r.series);
};

describe('resolved scenario: plain serializable data', () => {
  for (const [name, load] of [
    ['the default scenario', shortDefault],
    ['test/fixtures/scenarios/small.yaml', () => loadScenario(small, ['duration_ms=300'])],
  ] as const) {
    it(`${name}: a structuredClone gives the same data and the same run`, () => {
      const sc = load();
      assertNoFunctions(sc, 'scenario');
      const clone = structuredClone(sc);
      assert.deepStrictEqual(clone, sc, 'structuredClone changed the resolved scenario');
      assert.deepStrictEqual(
        JSON.parse(JSON.stringify(sc.tiering)),
        sc.tiering,
        'the tiering choice is not JSON data',
      );
      assert.deepStrictEqual(
        JSON.parse(JSON.stringify(sc.vms.map((v) => v.source))),
        sc.vms.map((v) => v.source),
        'a stream source is not JSON data',
      );
      assert.equal(outputOf(clone), outputOf(sc), 'the clone ran differently');
    });

    it(`${name}: as JSON text and back, the same data and the same run`, () => {
      const sc = load();
      const text = serializeScenario(sc);
      const back = deserializeScenario(text);
      assert.deepStrictEqual(back, sc, 'the JSON round trip changed the resolved scenario');
      assert.equal(outputOf(back), outputOf(sc), 'the copy from JSON ran differently');
      assert.equal(serializeScenario(back), text, 'serializing is deterministic');
    });
  }
});
