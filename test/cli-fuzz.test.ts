import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import YAML from 'yaml';
import { readFileSync } from 'node:fs';
import { runCli } from '../src/cli/run.js';
import { isResultDir } from '../src/report/output.js';
import { TraceWriter } from '../src/traces/writer.js';

/**
 * Whatever a user types, numatier either runs it or refuses it with one line naming what is
 * wrong and exit code 2: never a stack trace, never a result directory left behind by a
 * refused run, never a prototype polluted. Seeded and bounded: the same mutations every run.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const small = join(root, 'test', 'fixtures', 'scenarios', 'small.yaml');
const work = mkdtempSync(join(tmpdir(), 'numatier-fuzz-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command line in this process, capturing what it prints. */
async function cli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => (
    out.push(String(s)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (
    err.push(String(s)),
    true
  )) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runCli(args);
  } catch (e) {
    code = 70;
    err.push(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The base every mutation starts from: small.yaml, cut to 20 ms so that a run is quick. */
function baseDoc(): Record<string, unknown> {
  const d = YAML.parse(readFileSync(small, 'utf8')) as Record<string, unknown>;
  d.duration_ms = 20;
  d.sample_interval_ms = 5;
  return d;
}

let seq = 0;
/** A fresh directory holding only the inputs of one case. */
function caseDir(): string {
  const d = join(work, `case-${++seq}`);
  mkdirSync(d);
  return d;
}

/** Outcomes of the mutation properties: the fuzz must reach the simulator, not only the parser. */
const outcomes = { ran: 0, refused: 0 };

/** Accepted and ran (a complete result), or refused cleanly — and nothing else. */
function assertCleanOutcome(r: CliResult, out: string, dir: string, inputs: string[], what: string): void {
  const ctx = `${what}\nexit ${r.code}\nstderr: ${r.stderr.slice(0, 2000)}`;
  assert.equal(
    Object.prototype.hasOwnProperty.call(Object.prototype, 'x'),
    false,
    `prototype polluted: ${ctx}`,
  );
  if (r.code === 0) {
    assert.ok(isResultDir(out), `exit 0 without a complete result: ${ctx}`);
    outcomes.ran++;
    return;
  }
  outcomes.refused++;
  assert.equal(r.code, 2, ctx);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `more than one line: ${ctx}`);
  assert.match(lines[0], /^numatier: /, ctx);
  assert.doesNotMatch(r.stderr, /\bat .*\.(js|ts):\d+/, `stack frame: ${ctx}`);
  assert.ok(lines[0].length <= 600, `a message of ${lines[0].length} characters: ${ctx}`);
  assert.equal(existsSync(out), false, `a refused run left ${out}: ${ctx}`);
  assert.deepEqual(readdirSync(dir).sort(), [...inputs].sort(), `files left behind: ${ctx}`);
}

/** Values a mutation puts somewhere: wrong types, edge numbers, sizes, hostile keys. */
const nastyValue = fc.oneof(
  fc.constantFrom<unknown>(
    -1,
    0,
    1,
    0.5,
    2 ** 53,
    1e308,
    -1e-9,
    '',
    'x',
    '5',
    '0',
    '64MiB',
    '1GiB',
    '-1GiB',
    '1.5KiB',
    '0-3',
    '1:3',
    'max',
    'none',
    true,
    null,
    [],
    {},
    [0, 1],
    { __proto__: { x: 1 } },
    JSON.parse('{"__proto__": {"x": 1}}'),
    { constructor: { prototype: { x: 1 } } },
  ),
  fc.integer({ min: -5, max: 300 }),
  fc.string({ maxLength: 8 }),
);

type Doc = Record<string, unknown> | unknown[];

/** Every path to a value in the document (maps and lists alike). */
function paths(
  d: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (d === null || typeof d !== 'object') return out;
  const entries: [string | number, unknown][] = Array.isArray(d)
    ? d.map((v, i) => [i, v])
    : Object.entries(d as Record<string, unknown>);
  for (const [k, v] of entries) {
    out.push([...prefix, k]);
    paths(v, [...prefix, k], out);
  }
  return out;
}

function parentAt(d: unknown, path: (string | number)[]): Doc {
  let v = d;
  for (const k of path.slice(0, -1)) v = (v as Record<string | number, unknown>)[k];
  return v as Doc;
}

/** One mutation of a document, picked by `pick` (a number from the seeded generator). */
function mutate(d: Record<string, unknown>, pick: number, value: unknown, key: string): string {
  const all = paths(d);
  const path = all[pick % all.length];
  const parent = parentAt(d, path) as Record<string | number, unknown>;
  const last = path[path.length - 1];
  switch (pick % 5) {
    case 0:
      parent[last] = value;
      return `set ${path.join('.')} = ${JSON.stringify(value)}`;
    case 1:
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      return `delete ${path.join('.')}`;
    case 2: {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
        return `add key ${path.join('.')}.${key}`;
      }
      parent[last] = value;
      return `set ${path.join('.')} = ${JSON.stringify(value)}`;
    }
    case 3: {
      // Lists in another order (cgroups: "/" after "/vms" must not matter).
      const target = parent[last];
      if (Array.isArray(target)) target.reverse();
      else if (Array.isArray(parent)) parent.reverse();
      return `reverse around ${path.join('.')}`;
    }
    default: {
      const target = parent[last];
      if (Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
      else parent[last] = [value];
      return `duplicate in ${path.join('.')}`;
    }
  }
}

/** A JSON or YAML text of a document, keeping own __proto__ keys (YAML.stringify drops them). */
function serialise(d: unknown, json: boolean): string {
  return json ? JSON.stringify(d) : YAML.stringify(JSON.parse(JSON.stringify(d)));
}

describe('fuzz: scenarios, --set paths, topologies and traces', () => {
  it('the reproducers found by hand each get one line and exit 2, or run', async () => {
    const big = join(root, 'examples', 'topologies', 'pmem-2socket.yaml');
    const deepJson = `{"name":"x","extra":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const deepYaml = `name: x\nextra: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;
    const cases: { what: string; files?: Record<string, string>; args: string[]; expect?: RegExp }[] = [
      {
        what: 'host over the frame cap',
        args: ['simulate', '--set', `topology=${big}`],
        expect: /topology\.nodes: .*at most 1 TiB/,
      },
      {
        what: 'unknown key in a phase',
        args: ['simulate', '--set', 'vms[3].workload.phases[0].extra=1'],
        expect: /vms\[3\]\.workload\.phases\[0\]: unknown key "extra"/,
      },
      {
        what: '__proto__ in --set',
        args: ['simulate', '--set', '__proto__.x=1'],
        expect: /"__proto__" is not allowed/,
      },
      {
        what: 'constructor in --set',
        args: ['simulate', '--set', 'kernel.constructor.prototype.x=1'],
        expect: /"constructor" is not allowed/,
      },
      {
        what: 'deep JSON',
        files: { 'deep.json': deepJson },
        args: ['simulate', 'deep.json'],
        expect: /nested more than 32/,
      },
      {
        what: 'deep YAML',
        files: { 'deep.yaml': deepYaml },
        args: ['simulate', 'deep.yaml'],
        expect: /nested more than 32/,
      },
      {
        what: 'deep --set value',
        args: ['simulate', '--set', `extra=${'['.repeat(3000)}${']'.repeat(3000)}`],
        expect: /nested more than 32/,
      },
      { what: 'NaN', args: ['simulate', '--set', 'kernel.swappiness=.nan'], expect: /got NaN/ },
      { what: 'Infinity', args: ['simulate', '--set', 'kernel.swappiness=-.inf'], expect: /got -Infinity/ },
      {
        what: 'a size without a unit',
        args: ['simulate', '--set', 'vms[0].workload.footprint=5'],
        expect: /a size with a unit .*"5GiB"/,
      },
      {
        what: 'duration 2^53',
        args: ['simulate', '--set', 'duration_ms=9007199254740992'],
        expect: /duration_ms: at most/,
      },
      {
        what: 'sample interval 1e-9',
        args: ['simulate', '--set', 'sample_interval_ms=1e-9'],
        expect: /at most 100000/,
      },
      {
        what: 'a field of a topology that is a file',
        files: {
          's.yaml': YAML.stringify({ ...baseDoc(), topology: big }),
        },
        args: ['simulate', 's.yaml', '--set', 'topology.nodes[0].size=1GiB'],
        expect: /topology is the file/,
      },
    ];
    for (const c of cases) {
      const dir = caseDir();
      for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), text);
      const out = join(dir, 'out');
      const prev = process.cwd();
      process.chdir(dir);
      let r: CliResult;
      try {
        r = await cli([...c.args, '--out', out]);
      } finally {
        process.chdir(prev);
      }
      assertCleanOutcome(r, out, dir, Object.keys(c.files ?? {}), c.what);
      assert.equal(r.code, 2, `${c.what}: ${r.stderr}`);
      if (c.expect) assert.match(r.stderr, c.expect, c.what);
    }
  });

  it('the reproducers that are valid input run: "/" listed after "/vms", madvise beside a ratio, CPU lists', async () => {
    const cases: [string, (d: Record<string, unknown>) => void][] = [
      ['root cgroup listed last', (d) => (d.cgroups as unknown[]).push({ path: '/' })],
      [
        'madvise fast in a group without a ratio, a sibling with one',
        (d) => {
          (d.cgroups as Record<string, unknown>[])[2]['memory.tier_ratio'] = '1:3';
          const vm = (d.vms as Record<string, unknown>[])[0];
          vm.madvise = [{ at_ms: 10, advice: 'fast', range: { from: '0', to: '80MiB' } }];
        },
      ],
      [
        'a CPU list as the kernel writes it',
        (d) => (((d.topology as Record<string, unknown>).nodes as Record<string, unknown>[])[0].cpus = '0-1'),
      ],
    ];
    for (const [what, change] of cases) {
      const dir = caseDir();
      const d = baseDoc();
      change(d);
      d.duration_ms = 60;
      writeFileSync(join(dir, 's.yaml'), YAML.stringify(d));
      const out = join(dir, 'out');
      const r = await cli(['simulate', join(dir, 's.yaml'), '--out', out]);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.ok(isResultDir(out), what);
    }
  });

  it('mutated scenario files (YAML and JSON) run or are refused in one line', async () => {
    outcomes.ran = outcomes.refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.nat(), nastyValue, fc.constantFrom('extra', '__proto__', 'constructor', 'prototype')),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.boolean(),
        async (muts, json) => {
          const d = baseDoc();
          const log = muts.map(([pick, value, key]) => mutate(d, pick, value, key));
          // Keep every run short and small: the bounds on time and size are tested above.
          if (typeof d.duration_ms === 'number' && d.duration_ms > 40) d.duration_ms = 40;
          const dir = caseDir();
          const name = json ? 's.json' : 's.yaml';
          writeFileSync(join(dir, name), serialise(d, json));
          const out = join(dir, 'out');
          const r = await cli(['simulate', join(dir, name), '--out', out]);
          assertCleanOutcome(r, out, dir, [name], log.join('; '));
        },
      ),
      { seed: 20261201, numRuns: 150 },
    );
    assert.ok(
      outcomes.ran >= 10 && outcomes.refused >= 10,
      `ran ${outcomes.ran}, refused ${outcomes.refused}`,
    );
    console.log(`# ${JSON.stringify(outcomes)}`);
    outcomes.ran = outcomes.refused = 0;
  });

  it('random --set paths and values run or are refused in one line', async () => {
    outcomes.ran = outcomes.refused = 0;
    const base = baseDoc();
    const known = paths(base).map((p) =>
      p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join(''),
    );
    const segment = fc.oneof(
      fc.constantFrom('x', '__proto__', 'constructor', 'prototype', '[0]', '[99]', '[-1]', 'memory.low', ''),
      fc.string({ maxLength: 5 }),
    );
    const valueText = fc.oneof(
      fc.constantFrom(
        '1',
        '0',
        '-1',
        '.nan',
        '.inf',
        '"4GiB"',
        '4GiB',
        '[1, 2]',
        '{a: 1}',
        '{',
        ']',
        'null',
        '~',
        '0-3',
      ),
      fc.string({ maxLength: 6 }),
    );
    const plausible = fc.oneof(
      fc.integer({ min: 0, max: 200 }).map(String),
      fc.constantFrom(
        '0.5',
        'true',
        'false',
        '"16MiB"',
        '"1:3"',
        '"max"',
        'default',
        'bind',
        '[0]',
        '[0, 1]',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            // Mostly a field that exists, set to a value of about the right kind…
            { arbitrary: fc.tuple(fc.constantFrom(...known), fc.constant(undefined), plausible), weight: 3 },
            // …and sometimes anything, under a path that may not exist.
            {
              arbitrary: fc.tuple(
                fc.constantFrom(...known),
                fc.option(segment, { nil: undefined }),
                valueText,
              ),
              weight: 1,
            },
          ),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        async (sets) => {
          const dir = caseDir();
          writeFileSync(join(dir, 's.yaml'), YAML.stringify(base));
          const args = sets.flatMap(([path, extra, value]) => [
            '--set',
            `${path}${extra === undefined ? '' : extra.startsWith('[') ? extra : `.${extra}`}=${value}`,
          ]);
          // The run is kept short whatever the sets say about time.
          args.push('--set', 'duration_ms=20');
          const out = join(dir, 'out');
          const r = await cli(['simulate', join(dir, 's.yaml'), ...args, '--out', out]);
          assertCleanOutcome(r, out, dir, ['s.yaml'], args.join(' '));
        },
      ),
      { seed: 1201, numRuns: 150 },
    );
    assert.ok(
      outcomes.ran >= 10 && outcomes.refused >= 10,
      `ran ${outcomes.ran}, refused ${outcomes.refused}`,
    );
    console.log(`# ${JSON.stringify(outcomes)}`);
    outcomes.ran = outcomes.refused = 0;
  });

  it('mutated topology files are described by `numatier topology` or refused in one line', async () => {
    const topo = (baseDoc().topology ?? {}) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), nastyValue, fc.constantFrom('extra', '__proto__', 'prototype')), {
          minLength: 1,
          maxLength: 3,
        }),
        async (muts) => {
          const d = structuredClone(topo);
          const log = muts.map(([pick, value, key]) => mutate(d, pick, value, key));
          const dir = caseDir();
          writeFileSync(join(dir, 't.json'), JSON.stringify(d));
          const r = await cli(['topology', join(dir, 't.json')]);
          const ctx = `${log.join('; ')}\nexit ${r.code}\n${r.stderr}`;
          if (r.code === 0) {
            assert.match(r.stdout, /^available: \d+ nodes/m, ctx);
            return;
          }
          assert.equal(r.code, 2, ctx);
          assert.equal(r.stderr.trimEnd().split('\n').length, 1, ctx);
          assert.doesNotMatch(r.stderr, /\bat .*\.(js|ts):\d+/, ctx);
        },
      ),
      { seed: 77, numRuns: 150 },
    );
  });

  it('damaged traces replayed by a scenario run or are refused in one line', async () => {
    outcomes.ran = outcomes.refused = 0;
    const dir = caseDir();
    const good = join(dir, 'good.ntrace');
    const w = TraceWriter.create(good, { source: 'fuzz', blockPayload: 256 });
    for (let i = 0; i < 4000; i++) w.append((i * 7919) % 1500, i % 3 === 0);
    w.close();
    const bytes = readFileSync(good);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 0,
          maxLength: 4,
        }),
        fc.option(fc.nat({ max: bytes.length }), { nil: undefined }),
        async (muts, cut) => {
          const data = Buffer.from(bytes);
          for (const [at, v] of muts) data[at] = v;
          const trace = cut === undefined ? data : data.subarray(0, cut);
          const c = caseDir();
          writeFileSync(join(c, 't.ntrace'), trace);
          const d = baseDoc();
          d.vms = [{ name: 't', workload: { pattern: 'trace', trace: 't.ntrace' } }];
          d.cgroups = [];
          writeFileSync(join(c, 's.yaml'), YAML.stringify(d));
          const out = join(c, 'out');
          const r = await cli(['simulate', join(c, 's.yaml'), '--out', out]);
          assertCleanOutcome(
            r,
            out,
            c,
            ['s.yaml', 't.ntrace'],
            `trace bytes ${JSON.stringify(muts)} cut ${cut}`,
          );
        },
      ),
      { seed: 4242, numRuns: 80 },
    );
    assert.ok(
      outcomes.ran >= 3 && outcomes.refused >= 10,
      `ran ${outcomes.ran}, refused ${outcomes.refused}`,
    );
    console.log(`# ${JSON.stringify(outcomes)}`);
    outcomes.ran = outcomes.refused = 0;
  });
});
