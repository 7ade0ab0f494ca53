import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './trace-support.js';

/**
 * `trace record` onto a full device says so. A 64 KiB tmpfs, mounted in a private mount
 * namespace (unshare; as an unprivileged user through a user namespace), holds the output;
 * the recording of a Python program outgrows it.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'src', 'cli', 'main.js');
const dir = scratchDir('enospc');

describe('trace record on a full device', () => {
  it('names ENOSPC and the directory, leaves nothing behind, exits non-zero', () => {
    const mnt = path.join(dir, 'small');
    fs.mkdirSync(mnt);
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const script = [
      `mount -t tmpfs -o size=64k tmpfs "${mnt}"`,
      `"${process.execPath}" "${cli}" trace record --out "${mnt}/t.ntrace" -- /usr/bin/python3 -c "print(sum(range(300000)))" >/dev/null`,
      'echo "rc=$?" >&2',
      `ls -A "${mnt}" >&2`,
    ].join('; ');
    const r = spawnSync(
      'unshare',
      [...(root ? [] : ['--user', '--map-root-user']), '--mount', 'sh', '-c', script],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.error, undefined, `unshare could not run: ${String(r.error)}`);
    // The first recording on a fresh clone builds the tool and says so; that line is not the point.
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('numatier: building the numatrace'));
    assert.match(
      lines[0],
      /^numatier: trace record: no space left on the device holding .*small \(ENOSPC\)/,
      r.stderr,
    );
    assert.equal(lines[1], 'rc=1', r.stderr);
    assert.equal(lines.length, 2, `files left on the full device: ${lines.slice(2).join(' ')}`);
  });
});
