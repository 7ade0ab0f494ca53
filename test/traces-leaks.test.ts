import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { runSla } from '../src/sla/sweep.js';
import { TraceWriter } from '../src/traces/writer.js';
import { twoTierTopology } from './scenario-support.js';
import { scratchDir } from './trace-support.js';

/**
 * Trace-driven runs release what they open: after many runs (plain and gzip traces, through
 * simulate's runScenario and through an sla sweep) the process holds no more file descriptors
 * than before, and no temporary directory is left behind.
 */

const dir = scratchDir('leaks');
const plain = path.join(dir, 'app.ntrace');
const gz = path.join(dir, 'app.ntrace.gz');

function writeTraces(): void {
  const w = TraceWriter.create(plain, { source: 'leak test', blockPayload: 4096 });
  let x = 1;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    // 400 pages of 64 lines; a hot quarter takes most accesses.
    const page = x % 4 === 0 ? (x >>> 8) % 400 : (x >>> 8) % 100;
    w.append(page * 64 + ((x >>> 20) % 64), x % 3 === 0);
  }
  w.close();
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(plain)));
}

function scenario(trace: string): Record<string, unknown> {
  return {
    name: 'leaks',
    duration_ms: 20,
    sample_interval_ms: 5,
    topology: twoTierTopology({ dram: '1MiB', slow: '8MiB' }),
    kernel: { demotion_enabled: true, numa_balancing: 2 },
    vms: [{ name: 'app', workload: { pattern: 'trace', trace, loop: true, compute_ns: 20 } }],
  };
}

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('trace-driven runs leak nothing', { skip: !fs.existsSync('/proc/self/fd') && 'needs /proc' }, () => {
  it('20 runs and sla sweeps over plain and gzip traces leave no descriptor or temporary directory', async () => {
    writeTraces();
    // Temporary files go to TMPDIR; a private one shows exactly what these runs leave.
    const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const simulate = (trace: string): number => {
        const r = runScenario(resolveScenario(scenario(trace), dir, 'leaks'), 1);
        return r.summary.vms[0].accesses;
      };
      const sweep = async (trace: string): Promise<number> =>
        (
          await runSla({
            raw: scenario(trace),
            baseDir: dir,
            defaultName: 'leaks',
            vm: 'app',
            ratios: [0.5, 1],
            maxSlowdown: 1.1,
            strategy: 'charge-retry',
            withNeighbours: false,
          })
        ).curves[0].settings.accesses_per_point;
      // Warm up first: lazily opened handles of the runtime are not leaks.
      simulate(plain);
      simulate(gz);
      const fds = openFds();
      for (let i = 0; i < 5; i++) {
        assert.ok(simulate(plain) > 0);
        assert.ok(simulate(gz) > 0);
        assert.ok((await sweep(plain)) > 0);
        assert.ok((await sweep(gz)) > 0);
      }
      assert.equal(openFds(), fds, 'open file descriptors after 20 trace-driven runs');
      assert.deepEqual(fs.readdirSync(tmp), [], 'temporary files left behind');
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });

  it('a run that fails to open its second trace closes the first', () => {
    const second = path.join(dir, 'second.ntrace');
    fs.copyFileSync(plain, second);
    const doc = scenario(plain);
    doc.vms = [
      { name: 'a', workload: { pattern: 'trace', trace: plain, loop: true } },
      { name: 'b', workload: { pattern: 'trace', trace: second, loop: true } },
    ];
    const sc = resolveScenario(doc, dir, 'leaks');
    fs.rmSync(second); // gone between loading the scenario and building the run
    const fds = openFds();
    assert.throws(() => runScenario(sc, 1), /second\.ntrace: cannot open trace/);
    assert.equal(openFds(), fds);
  });
});
