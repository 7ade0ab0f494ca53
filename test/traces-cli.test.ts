import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'src', 'cli', 'main.js');
const dir = scratchDir('cli');

function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit code 2 and a single "numatier: …" line on stderr, no stack trace. */
function expectUserError(args: string[], re: RegExp, env?: NodeJS.ProcessEnv): void {
  const r = run(args, env);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('numatier trace (CLI)', () => {
  const trace = path.join(dir, 'small.ntrace');

  it('import then stats --json', () => {
    const imp = run([
      'trace',
      'import',
      '--from',
      'lackey',
      path.join(fixtures, 'small.lackey'),
      '--out',
      trace,
    ]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /11 records from 9 data accesses \(15 lines, 2 instruction fetches skipped\)/);
    const st = run(['trace', 'stats', trace, '--json']);
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout) as { records: number; distinct_pages: number; writes: number };
    assert.deepEqual([s.records, s.distinct_pages, s.writes], [11, 5, 3]);
    const text = run(['trace', 'stats', trace]);
    assert.match(text.stdout, /distinct pages: +5 of 4096 bytes/);
  });

  it('exit code 2 for bad input', () => {
    expectUserError(
      ['trace', 'stats', path.join(dir, 'nope.ntrace')],
      /^numatier: .*nope\.ntrace: cannot open trace: ENOENT\n$/,
    );
    const cut = path.join(dir, 'cut.ntrace');
    fs.writeFileSync(cut, fs.readFileSync(trace).subarray(0, 50));
    expectUserError(['trace', 'stats', cut], /^numatier: .*cut\.ntrace: byte \d+: truncated .*\n$/);
    expectUserError(
      ['trace', 'import', '--from', 'pin', 'x', '--out', path.join(dir, 'o.ntrace')],
      /--from: expected "lackey", got "pin"/,
    );
    const bad = path.join(dir, 'bad.lackey');
    fs.writeFileSync(bad, ' L 1000,8\n L 1000;8\n');
    expectUserError(
      ['trace', 'import', '--from', 'lackey', bad, '--out', path.join(dir, 'o.ntrace')],
      /bad\.lackey: line 2: /,
    );
    assert.equal(fs.existsSync(path.join(dir, 'o.ntrace')), false);
    expectUserError(
      [
        'trace',
        'import',
        '--from',
        'lackey',
        bad,
        '--out',
        path.join(dir, 'o.ntrace'),
        '--llc-size',
        '1000B',
      ],
      /--llc-size: expected a multiple of 64 bytes × 16 ways/,
    );
    expectUserError(
      ['trace', 'import', '--from', 'lackey', bad, '--out', path.join(dir, 'o.ntrace'), '--llc-ways', '4'],
      /--llc-ways: only meaningful together with --llc-size/,
    );
    expectUserError(
      [
        'trace',
        'record',
        '--out',
        path.join(dir, 'r.ntrace'),
        '--llc-size',
        '32MiB',
        '--llc-ways',
        'x',
        '--',
        '/bin/true',
      ],
      /--llc-ways: expected an integer/,
    );
    expectUserError(
      ['trace', 'record', '--out', path.join(dir, 'no', 'such', 'dir', 'r.ntrace'), '--', '/bin/true'],
      /--out: directory .* does not exist/,
    );
    expectUserError(['trace', 'stats'], /missing required argument/);
  });

  it('record: a clear exit-2 error when valgrind is not installed', () => {
    // An empty PATH hides valgrind whether or not this machine has it.
    expectUserError(
      ['trace', 'record', '--out', path.join(dir, 'r.ntrace'), '--', '/bin/true'],
      /^numatier: trace record: valgrind is not installed or not on PATH/,
      {
        ...process.env,
        PATH: path.join(dir, 'empty-path'),
      },
    );
  });
});
