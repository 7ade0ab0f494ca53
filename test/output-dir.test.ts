import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RESULT_MARKER, isResultDir, recoverOutputDir, writeOutputDir } from '../src/report/output.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

/** --out: numatier replaces its own results atomically and nothing else (users' data is sacred). */

const here = dirname(fileURLToPath(import.meta.url));
const outputModule = join(here, '..', 'src', 'report', 'output.js');
const work = mkdtempSync(join(tmpdir(), 'numatier-out-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const fresh = (): string => {
  const d = join(work, `t${++seq}`);
  mkdirSync(d);
  return d;
};

/** The files of version `v` of a result: every file says which version it belongs to. */
function versionFiles(v: number, files = 3, bytes = 64): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < files; i++) out[`f${i}.txt`] = `v${v};`.repeat(bytes);
  return out;
}

/** The version a directory holds, if it is one whole version with its marker; else null. */
function versionOf(dir: string, files: number): number | null {
  if (!isResultDir(dir)) return null;
  const names = readdirSync(dir).filter((n) => n !== RESULT_MARKER);
  if (names.length !== files) return null;
  const vs = new Set(names.map((n) => readFileSync(join(dir, n), 'utf8').split(';')[0]));
  return vs.size === 1 ? Number([...vs][0].slice(1)) : null;
}

describe('--out and what is already there', () => {
  it('a directory that is not a result is refused, its files intact; --force replaces it', () => {
    const d = fresh();
    const out = join(d, 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'my notes');
    assert.throws(
      () => writeOutputDir(out, versionFiles(1), { kind: 'test' }),
      (e: unknown) => e instanceof InputError && /not a numatier result.*--force/.test(e.message),
    );
    assert.deepEqual(readdirSync(out), ['notes.txt']);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'my notes');
    assert.deepEqual(readdirSync(d), ['mine'], 'nothing left beside it');
    writeOutputDir(out, versionFiles(1), { kind: 'test', force: true });
    assert.equal(versionOf(out, 3), 1);
  });

  it('a file at the path is refused and intact', () => {
    const d = fresh();
    const out = join(d, 'notes.txt');
    writeFileSync(out, 'keep me');
    assert.throws(() => writeOutputDir(out, versionFiles(1), { kind: 'test' }), /is a file; refusing/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    assert.deepEqual(readdirSync(d), ['notes.txt']);
  });

  it('a file the user added to an earlier result is not deleted without --force', () => {
    const d = fresh();
    const out = join(d, 'r');
    writeOutputDir(out, versionFiles(1), { kind: 'test' });
    writeFileSync(join(out, 'my-notes.md'), 'mine');
    assert.throws(
      () => writeOutputDir(out, versionFiles(2), { kind: 'test' }),
      /earlier numatier result with files numatier did not write \(my-notes\.md\)/,
    );
    assert.equal(readFileSync(join(out, 'my-notes.md'), 'utf8'), 'mine');
    assert.equal(versionOf(join(d, 'r'), 4), null, 'four files: the result was left as it was');
    writeOutputDir(out, versionFiles(2), { kind: 'test', force: true });
    assert.equal(versionOf(out, 3), 2);
  });

  it('a working directory inside the result whose name starts with ".." is still inside it', () => {
    const d = fresh();
    const out = join(d, 'r');
    writeOutputDir(out, versionFiles(1), { kind: 'test' });
    mkdirSync(join(out, '..notes'));
    const prev = process.cwd();
    process.chdir(join(out, '..notes'));
    try {
      assert.throws(
        () => writeOutputDir(out, versionFiles(2), { kind: 'test', force: true }),
        /working directory or one of its parents/,
      );
    } finally {
      process.chdir(prev);
    }
    assert.ok(existsSync(join(out, '..notes')));
  });

  it('the working directory and its parents are refused, even with --force', () => {
    const d = fresh();
    const prev = process.cwd();
    process.chdir(d);
    try {
      for (const out of ['.', '..', d]) {
        assert.throws(
          () => writeOutputDir(out, versionFiles(1), { kind: 'test', force: true }),
          /working directory or one of its parents/,
        );
      }
    } finally {
      process.chdir(prev);
    }
    assert.deepEqual(readdirSync(d), []);
  });

  it('an empty directory and an earlier result are replaced; the marker says who wrote it', () => {
    const d = fresh();
    const out = join(d, 'r');
    mkdirSync(out);
    writeOutputDir(out, versionFiles(1), { kind: 'test' });
    assert.equal(versionOf(out, 3), 1);
    writeOutputDir(out, versionFiles(2, 2), { kind: 'test' });
    assert.equal(versionOf(out, 2), 2, 'the old files are gone, not merged');
    const marker = JSON.parse(readFileSync(join(out, RESULT_MARKER), 'utf8'));
    assert.equal(marker.kind, 'test');
    assert.match(marker.numatier, /^\d+\.\d+\.\d+/);
    assert.deepEqual(readdirSync(d), ['r'], 'no temporary or old sibling left');
  });

  it('a failed write leaves the earlier result and no directory it created', () => {
    const d = fresh();
    const out = join(d, 'a', 'b', 'r');
    // A file name leading out of the result fails after the temporary directory exists.
    assert.throws(
      () => writeOutputDir(out, { 'ok.txt': 'x', '../escape.txt': 'x' }, { kind: 'test' }),
      /cannot write results/,
    );
    assert.deepEqual(readdirSync(d), [], 'the parents it made are removed again');
    const kept = join(d, 'kept');
    writeOutputDir(kept, versionFiles(1), { kind: 'test' });
    assert.throws(() => writeOutputDir(kept, { 'a/../../escape.txt': 'x' }, { kind: 'test' }));
    assert.equal(versionOf(kept, 3), 1);
    assert.deepEqual(readdirSync(d), ['kept']);
  });

  it('files in folders are written, and the folders count as the result’s own', () => {
    const d = fresh();
    const out = join(d, 'r');
    writeOutputDir(
      out,
      { 'variants/1-a/summary.json': '{}', 'variants/2-b/summary.json': '[]', 'table.txt': 't' },
      { kind: 'test' },
    );
    assert.equal(readFileSync(join(out, 'variants', '2-b', 'summary.json'), 'utf8'), '[]');
    // Replacing it needs no --force: nothing in it is foreign.
    writeOutputDir(out, { 'table.txt': 'u' }, { kind: 'test' });
    assert.ok(!existsSync(join(out, 'variants')));
    assert.equal(readFileSync(join(out, 'table.txt'), 'utf8'), 'u');
  });

  it('temporary names carry the process, the thread and a random part', async () => {
    const d = fresh();
    const src = `
      const { workerData, parentPort, threadId } = require('node:worker_threads');
      const fs = require('node:fs');
      import(workerData.mod).then((m) => {
        const seen = [];
        for (let i = 0; i < 5; i++) {
          m.writeOutputDir(workerData.out, { 'f.txt': 'x' }, {
            kind: 'test',
            beforeSwap: () => seen.push(...fs.readdirSync(workerData.parent).filter((n) => n.includes('numatier-tmp'))),
          });
        }
        parentPort.postMessage({ threadId, seen });
      });`;
    const run = (name: string) =>
      new Promise<{ threadId: number; seen: string[] }>((res, rej) => {
        const w = new Worker(src, {
          eval: true,
          workerData: { mod: outputModule, out: join(d, name), parent: d },
        });
        w.on('message', res);
        w.on('error', rej);
      });
    const results = await Promise.all([run('a'), run('b')]);
    const all = new Set<string>();
    for (const r of results) {
      const mine = r.seen.filter((n) => n.includes(`-${process.pid}-${r.threadId}-`));
      assert.ok(mine.length >= 5, `thread ${r.threadId} saw ${r.seen.join(' ')}`);
      for (const n of mine) {
        assert.match(n, /^\.[ab]\.numatier-tmp-\d+-\d+-[0-9a-f]{8}$/);
        all.add(n);
      }
    }
    assert.ok(results[0].threadId !== results[1].threadId);
    assert.ok(all.size >= 10, 'every write has its own temporary name');
    assert.deepEqual(readdirSync(d).sort(), ['a', 'b']);
  });
});

describe('a writer killed at random points', () => {
  it('leaves one complete result, old or new, every time (seeded kill times)', async () => {
    const d = fresh();
    const out = join(d, 'r');
    const files = 40;
    writeOutputDir(out, versionFiles(0, files), { kind: 'test' });
    const child = `
      import(process.argv[1]).then((m) => {
        const files = Number(process.argv[3]);
        for (let v = 1; ; v++) {
          const f = {};
          for (let i = 0; i < files; i++) f['f' + i + '.txt'] = ('v' + v + ';').repeat(20000);
          m.writeOutputDir(process.argv[2], f, { kind: 'test' });
          process.stdout.write('.');
        }
      });`;
    const rng = new Rng(2026);
    let seenNew = 0;
    for (let round = 0; round < 12; round++) {
      const p = spawn(process.execPath, ['-e', child, outputModule, out, String(files)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // Kill after a first write has begun: some rounds mid-write, some between files.
      await new Promise<void>((res) => p.stdout.once('data', () => res()));
      await new Promise((res) => setTimeout(res, rng.nextInt(40)));
      p.kill('SIGKILL');
      await new Promise((res) => p.once('exit', res));
      // At this instant: the result is whole, or (killed between the two renames) the old one
      // sits aside, whole, and the next write or recoverOutputDir() puts it back.
      if (!existsSync(out)) {
        const aside = readdirSync(d).filter((n) => n.includes('numatier-old'));
        assert.ok(
          aside.some((n) => versionOf(join(d, n), files) !== null),
          readdirSync(d).join(' '),
        );
      }
      recoverOutputDir(out);
      const v = versionOf(out, files);
      assert.notEqual(v, null, `round ${round}: no complete result in ${readdirSync(out).length} files`);
      if ((v as number) > 0) seenNew++;
      assert.deepEqual(readdirSync(d), ['r'], `round ${round}: leftovers ${readdirSync(d).join(' ')}`);
    }
    assert.ok(seenNew > 0, 'the kills never let a new result land: the test did not exercise the swap');
  });
});
