import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

/** A real program's trace, recorded with the project's valgrind tool, replayed by simulate. */
describe('trace replay', () => {
  it('records python3 from Debian and replays the trace through numatier simulate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nt-replay-'));
    const trace = join(dir, 'py.ntrace');
    const rec = spawnSync(
      process.execPath,
      [
        cli,
        'trace',
        'record',
        '--out',
        trace,
        '--',
        '/usr/bin/python3.11',
        '-c',
        'd = {i: str(i) for i in range(200000)}; print(len(d))',
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    assert.equal(rec.status, 0, rec.stderr);
    const stats = spawnSync(process.execPath, [cli, 'trace', 'stats', trace, '--json'], { encoding: 'utf8' });
    assert.equal(stats.status, 0, stats.stderr);
    const st = JSON.parse(stats.stdout) as { records: number; distinct_pages: number };
    assert.ok(st.records > 1_000_000, `records ${st.records}`);
    assert.ok(st.distinct_pages > 1000, `distinct pages ${st.distinct_pages}`);
    const out = join(dir, 'out');
    const sim = spawnSync(
      process.execPath,
      [
        cli,
        'simulate',
        join(root, 'examples', 'scenarios', 'trace-replay.yaml'),
        '--set',
        `vms[0].workload.trace=${trace}`,
        '--set',
        'duration_ms=200',
        '--out',
        out,
        '--json',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(sim.status, 0, sim.stderr);
    const s = JSON.parse(sim.stdout) as { vms: { accesses: number; rss_pages: number }[] };
    assert.ok(s.vms[0].accesses > 100_000, `accesses ${s.vms[0].accesses}`);
    assert.ok(
      s.vms[0].rss_pages > 0 && s.vms[0].rss_pages <= st.distinct_pages,
      "the footprint is the trace's distinct pages",
    );
    assert.ok(existsSync(join(out, 'report.html')));
    assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).scenario, 'trace-replay');
  });

  it('a scenario naming a missing trace is refused with the field, exit 2', () => {
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'simulate',
        join(root, 'examples', 'scenarios', 'trace-replay.yaml'),
        '--out',
        join(tmpdir(), 'nt-none'),
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /recorded\.ntrace/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
