import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'src', 'cli', 'main.js');
const dir = scratchDir('out-file');
const lackey = path.join(fixtures, 'small.lackey');

function importTo(out: string, ...extra: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [cli, 'trace', 'import', '--from', 'lackey', lackey, '--out', out, ...extra],
    {
      encoding: 'utf8',
    },
  );
  return { code: r.status, stderr: r.stderr };
}

describe('trace import --out: what it may replace', () => {
  it('replaces an earlier numatier trace, plain or gzip-compressed', () => {
    for (const name of ['again.ntrace', 'again.ntrace.gz']) {
      const out = path.join(dir, name);
      assert.equal(importTo(out).code, 0);
      const first = fs.readFileSync(out);
      if (!name.endsWith('.gz')) {
        // Still a trace by its header, but not the bytes an import writes: replaced below.
        const changed = Buffer.from(first);
        changed[changed.length - 1] ^= 0xff;
        fs.writeFileSync(out, changed);
      }
      const r = importTo(out);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fs.readFileSync(out), first);
    }
  });

  it('refuses a file that is not a trace, and leaves it as it was', () => {
    for (const [name, bytes] of [
      ['notes.txt', Buffer.from('my notes\n')],
      ['empty', Buffer.alloc(0)],
      ['other.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])],
    ] as const) {
      const out = path.join(dir, name);
      fs.writeFileSync(out, bytes);
      const r = importTo(out);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^numatier: --out .*: is a file that is not a numatier trace; refusing to replace it \(choose another path, or add --force\)\n$/,
      );
      assert.deepEqual(fs.readFileSync(out), bytes, `${name} untouched`);
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.includes('tmp')),
        [],
        'no temporary file left behind',
      );
    }
  });

  it('--force replaces it; a directory is refused even then; a symbolic link needs --force', () => {
    const out = path.join(dir, 'forced.txt');
    fs.writeFileSync(out, 'x');
    assert.equal(importTo(out, '--force').code, 0);
    assert.notEqual(fs.readFileSync(out, 'utf8'), 'x');
    const sub = path.join(dir, 'a-dir');
    fs.mkdirSync(sub, { recursive: true });
    const r = importTo(sub, '--force');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a directory/);
    const target = path.join(dir, 'target.txt');
    fs.writeFileSync(target, 'keep');
    const link = path.join(dir, 'link.ntrace');
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
    const l = importTo(link);
    assert.equal(l.code, 2);
    assert.match(l.stderr, /is a symbolic link/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'keep');
  });

  it('trace record checks --out before it starts the program', () => {
    const out = path.join(dir, 'record-notes.txt');
    fs.writeFileSync(out, 'mine');
    const r = spawnSync(process.execPath, [cli, 'trace', 'record', '--out', out, '--', '/bin/true'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a file that is not a numatier trace/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'mine');
  });
});
