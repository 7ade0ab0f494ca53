import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBench } from '../src/bench/standard.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'src', 'cli', 'main.js');

// Short windows: these check what the benchmark reports, not how fast it runs (that is
// `numatier bench`'s job, never a unit test's).
describe('numatier bench', () => {
  it('reports its state sizes and the kernel activity of the measured window', () => {
    const r = runBench({ warmupAccesses: 2_000_000, measureAccesses: 1_000_000, tiering: false, seed: 1 });
    assert.ok(r.bytes_per_page <= 16, `bytes per frame ${r.bytes_per_page}`);
    assert.equal(r.simulated_pages, (12 * 2 ** 30) / 4096);
    assert.equal(r.virtual_pages, (16 * 2 ** 30) / 4096);
    assert.ok(r.measured_accesses >= 1_000_000);
    // A quarter of the footprint lives in swap, so the zipfian tail keeps faulting pages in, and
    // the window's counters are its own: fewer faults than accesses, each fault a swap-in.
    assert.ok(r.pswpin > 0 && r.pswpin === r.pgfault, `pswpin ${r.pswpin} pgfault ${r.pgfault}`);
    assert.ok(r.pgfault < r.measured_accesses / 10);
    assert.ok(r.pgscan_kswapd > 0 && r.pgdemote_kswapd > 0);
    assert.equal(r.pgpromote_success, 0);
    assert.equal(r.numa_hint_faults, 0);
    assert.ok(r.accesses_per_sec > 0 && r.peak_rss_bytes > 0);
    const slices = r.slice_accesses_per_sec;
    assert.equal(slices.length, 10);
    assert.ok(Math.min(...slices) <= r.median_slice_accesses_per_sec);
    assert.ok(r.median_slice_accesses_per_sec <= Math.max(...slices));
    // The whole window's rate is a weighted harmonic mean of the slices' rates.
    assert.ok(Math.min(...slices) <= r.accesses_per_sec && r.accesses_per_sec <= Math.max(...slices));
    // CPU time beside wall time; the bare loop walks the same page table the same number of times.
    assert.ok(r.measured_cpu_sec > 0 && r.cpu_accesses_per_sec > 0);
    // measured_cpu_sec is printed to the millisecond.
    const implied = r.cpu_accesses_per_sec * r.measured_cpu_sec;
    assert.ok(Math.abs(implied - r.measured_accesses) <= r.cpu_accesses_per_sec * 0.0005 + 1, `${implied}`);
    assert.equal(r.bare_loop.accesses, r.measured_accesses);
    // A quarter of the footprint is in swap: the bare loop meets those pages too, and skips them.
    const missing = r.bare_loop.not_resident / r.bare_loop.accesses;
    assert.ok(missing > 0 && missing < 0.5, `not resident ${missing}`);
    assert.ok(r.bare_loop.checksum > 0);
    assert.equal(
      r.ratio_to_bare_loop,
      Math.round((r.cpu_accesses_per_sec / r.bare_loop.cpu_accesses_per_sec) * 1000) / 1000,
    );
  });

  it('--tiering promotes, and --json prints the documented fields', () => {
    const out = spawnSync(
      process.execPath,
      [cli, 'bench', '--tiering', '--json', '--warmup', '2000000', '--accesses', '1000000'],
      { cwd: tmpdir(), encoding: 'utf8' },
    );
    assert.equal(out.status, 0, out.stderr);
    const r = JSON.parse(out.stdout) as Record<string, number>;
    for (const k of [
      'accesses_per_sec',
      'cpu_accesses_per_sec',
      'ratio_to_bare_loop',
      'bytes_per_page',
      'peak_rss_bytes',
      'pgpromote_success',
    ])
      assert.equal(typeof r[k], 'number', k);
    assert.ok(r.pgpromote_success > 0, `pgpromote_success ${r.pgpromote_success}`);
    // Every hint fault comes from a PTE the scanner marked, in this window or just before it.
    assert.ok(r.numa_pte_updates > 0 && r.numa_hint_faults > r.pgpromote_success);
  });

  it('refuses a bad count with one line naming the option', () => {
    const out = spawnSync(process.execPath, [cli, 'bench', '--accesses', '0'], {
      cwd: tmpdir(),
      encoding: 'utf8',
    });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--accesses: expected a positive integer/);
    assert.equal(out.stderr.trim().split('\n').length, 1);
  });
});
