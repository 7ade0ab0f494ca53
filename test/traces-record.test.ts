import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LlcFilter } from '../src/traces/llc.js';
import { TraceReader } from '../src/traces/reader.js';
import { recordTrace, valgrindVersion } from '../src/traces/recorder.js';
import { traceStats } from '../src/traces/stats.js';
import { InputError } from '../src/util/errors.js';
import { scratchDir } from './trace-support.js';

/**
 * Records real programs with Valgrind. The numatrace tool is built on first use into the cache
 * (node_modules/.cache/numatier), which takes a few seconds once.
 */
const valgrind = valgrindVersion();
const skip = valgrind === null ? 'valgrind is not installed on this machine' : false;
const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => fs.existsSync(p)) ?? null;
const dir = scratchDir('record');
const quiet = { stdio: 'ignore' as const, log: (): void => undefined };

function readAll(file: string): { units: number[]; writes: boolean[] } {
  const r = TraceReader.open(file);
  const units: number[] = [];
  const writes: boolean[] = [];
  while (r.next() > 0) {
    for (let i = 0; i < r.count; i++) {
      units.push(r.units[i]);
      writes.push(r.writes[i] === 1);
    }
  }
  r.close();
  return { units, writes };
}

describe('trace record (Valgrind)', { skip }, () => {
  it('records /bin/true with the numatrace tool: a plausible, valid trace', async () => {
    const out = path.join(dir, 'true.ntrace');
    const r = await recordTrace({ out, command: ['/bin/true'], ...quiet });
    assert.equal(r.method, 'numatrace');
    assert.equal(r.exitCode, 0);
    const s = traceStats(out);
    assert.equal(s.records, r.records);
    // The dynamic loader and libc start-up alone make tens of thousands of data accesses, a third
    // or so of them writes, over a few dozen pages (stack, loader, libc data, TLS).
    assert.ok(s.records > 10_000 && s.records < 2_000_000, `records ${s.records}`);
    assert.ok(
      r.accesses !== null && r.accesses > 10_000 && s.records >= r.accesses,
      `accesses ${r.accesses}`,
    );
    assert.ok(s.write_share > 0.1 && s.write_share < 0.6, `write share ${s.write_share}`);
    assert.ok(s.distinct_pages > 10 && s.distinct_pages < 5000, `distinct pages ${s.distinct_pages}`);
    assert.match(s.source, /numatrace: \/bin\/true/);
    assert.equal(s.llc_filtered, false);
  });

  it(
    'records a Python list of 100 000 pointers: at least its 800 KB are touched',
    { skip: python === null ? 'no python3' : false },
    async () => {
      const out = path.join(dir, 'py.ntrace.gz');
      const r = await recordTrace({ out, command: [python ?? '', '-c', 'x = [0] * 100000'], ...quiet });
      assert.equal(r.exitCode, 0);
      const s = traceStats(out);
      // [0] * 100000 writes 100 000 8-byte pointers: 800 000 bytes = 196 pages at least, all written.
      assert.ok(s.distinct_pages >= 196, `distinct pages ${s.distinct_pages}`);
      assert.ok(s.writes >= 800_000 / 64, `writes ${s.writes}`);
      assert.deepEqual([...fs.readFileSync(out).subarray(0, 2)], [0x1f, 0x8b], 'a .gz output is compressed');
    },
  );

  it('the in-process LLC filter agrees with the TypeScript model run on a raw trace of the same program', async () => {
    // Two runs of /bin/true differ in a handful of stack addresses (auxv randomness), so the
    // comparison allows a small difference; a broken filter (no write-backs, wrong LRU, wrong
    // sets) is off by far more.
    const raw = path.join(dir, 'raw.ntrace');
    const filtered = path.join(dir, 'filtered.ntrace');
    const llc = { sizeBytes: 64 * 1024, ways: 4 };
    await recordTrace({ out: raw, command: ['/bin/true'], ...quiet });
    const rf = await recordTrace({ out: filtered, command: ['/bin/true'], llc, ...quiet });
    assert.equal(traceStats(filtered).llc_filtered, true);
    const model: string[] = [];
    const f = new LlcFilter(llc.sizeBytes, llc.ways, (u, w) => model.push(`${w ? 'W' : 'R'}${u}`));
    const rawRecs = readAll(raw);
    for (let i = 0; i < rawRecs.units.length; i++) f.access(rawRecs.units[i], rawRecs.writes[i]);
    f.flush();
    const got = readAll(filtered);
    const c = got.units.map((u, i) => `${got.writes[i] ? 'W' : 'R'}${u}`);
    assert.equal(c.length, rf.records);
    assert.ok(c.length < rawRecs.units.length / 5, 'the filter removes most accesses');
    const count = (xs: string[], w: string): number => xs.filter((x) => x.startsWith(w)).length;
    for (const kind of ['R', 'W']) {
      const a = count(c, kind);
      const b = count(model, kind);
      assert.ok(Math.abs(a - b) <= Math.max(5, 0.01 * b), `${kind}: tool ${a}, model ${b}`);
    }
    // Same multiset of (line, kind) up to the noise.
    const bag = new Map<string, number>();
    for (const x of model) bag.set(x, (bag.get(x) ?? 0) + 1);
    let unmatched = 0;
    for (const x of c) {
      const k = bag.get(x) ?? 0;
      if (k > 0) bag.set(x, k - 1);
      else unmatched++;
    }
    assert.ok(
      unmatched <= Math.max(10, 0.02 * c.length),
      `${unmatched} of ${c.length} records not produced by the model`,
    );
  });

  it('a shell that forks and execs: only the shell is recorded and the trace is complete', async () => {
    const out = path.join(dir, 'sh.ntrace');
    const r = await recordTrace({ out, command: ['/bin/sh', '-c', '/bin/true; exec /bin/true'], ...quiet });
    assert.equal(r.exitCode, 0);
    assert.ok(traceStats(out).records > 1000);
  });

  it('lackey (the fallback) and the numatrace tool record the same program alike', async () => {
    // Not identical: the tool's run has VALGRIND_LIB in its environment, which moves the stack
    // and gives libc's getenv() a few hundred more bytes to scan (measured: 0.7 % more records).
    const tool = path.join(dir, 'tool.ntrace');
    const lackey = path.join(dir, 'lackey.ntrace');
    await recordTrace({ out: tool, command: ['/bin/true'], ...quiet });
    const rl = await recordTrace({ out: lackey, command: ['/bin/true'], method: 'lackey', ...quiet });
    assert.equal(rl.method, 'lackey');
    const a = traceStats(tool);
    const b = traceStats(lackey);
    assert.match(b.source, /lackey/);
    assert.ok(
      Math.abs(a.records - b.records) <= 0.02 * a.records,
      `records: tool ${a.records}, lackey ${b.records}`,
    );
    assert.ok(
      Math.abs(a.writes - b.writes) <= 0.02 * a.writes,
      `writes: tool ${a.writes}, lackey ${b.writes}`,
    );
    assert.ok(
      Math.abs(a.distinct_pages - b.distinct_pages) <= 2,
      `pages: tool ${a.distinct_pages}, lackey ${b.distinct_pages}`,
    );
  });

  it('counts instructions: the totals agree with the blocks and lackey, and scale with a loop', async () => {
    const out = path.join(dir, 'true-timed.ntrace');
    const r = await recordTrace({ out, command: ['/bin/true'], ...quiet });
    const s = traceStats(out);
    assert.equal(s.format_version, 2);
    // The tool's own total, the header's and the end marker's are one number; the blocks hold the
    // instructions up to the last record, at most that.
    const h = TraceReader.open(out);
    const header = h.header;
    h.close();
    assert.equal(r.instructions, s.instructions);
    assert.equal(header.instructions, s.instructions);
    assert.equal(header.dataAccesses, r.accesses);
    assert.equal(s.data_accesses, r.accesses);
    assert.ok(s.instructions! >= s.instructions_in_blocks! && s.instructions_in_blocks! > 0);
    // The loader and libc start-up: some 10^5 instructions, a few per data access.
    assert.ok(s.instructions! > 20_000 && s.instructions! < 10_000_000, `instructions ${s.instructions}`);
    // lackey's I lines, one per instruction, count the same program alike (the environment differs
    // by VALGRIND_LIB, see above; in the same environment the two counts are equal).
    const lk = path.join(dir, 'true-lackey.ntrace');
    await recordTrace({ out: lk, command: ['/bin/true'], method: 'lackey', ...quiet });
    const l = traceStats(lk);
    assert.ok(
      Math.abs(l.instructions! - s.instructions!) <= 0.02 * s.instructions!,
      `instructions: tool ${s.instructions}, lackey ${l.instructions}`,
    );
    if (python === null) return;
    const loop = async (n: number): Promise<number> => {
      const f = path.join(dir, `loop-${n}.ntrace`);
      await recordTrace({
        out: f,
        command: [python, '-S', '-c', `for i in range(${n}): pass`],
        llc: { sizeBytes: 8 << 20, ways: 16 },
        ...quiet,
      });
      const st = traceStats(f);
      return st.instructions!;
    };
    // Python randomises its string hashes per run, which moved a 100 000-iteration count by 1.7 M
    // instructions between two runs (and once made 200 000 iterations look 1.53× 100 000); a fixed
    // seed makes each count the same on every run.
    const seed = process.env.PYTHONHASHSEED;
    process.env.PYTHONHASHSEED = '0';
    let counts: number[];
    try {
      counts = [await loop(0), await loop(100_000), await loop(200_000)];
    } finally {
      if (seed === undefined) delete process.env.PYTHONHASHSEED;
      else process.env.PYTHONHASHSEED = seed;
    }
    const [i0, i1, i2] = counts;
    const d1 = i1 - i0;
    const d2 = i2 - i0;
    // Each iteration of the interpreter's loop is tens to hundreds of instructions, and twice the
    // iterations take twice the instructions.
    assert.ok(d1 > 100_000 * 20 && d1 < 100_000 * 2000, `100 000 iterations: ${d1} instructions`);
    assert.ok(Math.abs(d2 / d1 - 2) < 0.3, `200 000 iterations took ${d2}, 100 000 took ${d1}`);
  });

  it('falls back to lackey, saying so, when the tool cannot be built; refuses when the tool is required', async () => {
    const lines: string[] = [];
    const out = path.join(dir, 'fallback.ntrace');
    // A cache directory that cannot be created stands for any build failure.
    const r = await recordTrace({
      out,
      command: ['/bin/true'],
      cacheDir: '/dev/null/cache',
      stdio: 'ignore',
      log: (l) => lines.push(l),
    });
    assert.equal(r.method, 'lackey');
    assert.ok(traceStats(out).records > 10_000);
    assert.match(lines.join('\n'), /cannot build the numatrace Valgrind tool: .*\n.*falling back to lackey/);
    await assert.rejects(
      recordTrace({ out, command: ['/bin/true'], cacheDir: '/dev/null/cache', method: 'tool', ...quiet }),
      (e: unknown) => e instanceof InputError && /cannot build the numatrace Valgrind tool/.test(e.message),
    );
  });

  it('the Makefile builds the tool from a clean directory', () => {
    const out = path.join(dir, 'build');
    const src = path.join(
      path.dirname(new URL(import.meta.url).pathname),
      '..',
      '..',
      'native',
      'valgrind-tool',
    );
    const r = spawnSync('make', ['-s', '-C', src, `OUT=${out}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readdirSync(out).some((f) => f.startsWith('numatrace-')));
  });
});
