import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSlurm, startSlurm, type SlurmCluster } from './harness/slurm.js';

// A 16-shard sweep through a real SLURM (Debian's, one node, started by the harness): submitted
// as a job array, one shard cancelled, `sweep status` names it, only it is resubmitted, and the
// collected table is byte for byte the one a local `sweep run` makes.

const log = (line: string): void => void process.stderr.write(`e2e: ${line}\n`);
const skip = ensureSlurm(log);
if (skip !== null) log(skip);

const work = mkdtempSync(join(tmpdir(), 'numatier-slurm-'));
const keep = process.env.NUMATIER_E2E_KEEP === '1';

const SPEC = {
  name: 'slurm-e2e',
  scenario: {
    name: 'small',
    duration_ms: 150,
    topology: {
      nodes: [
        { id: 0, cpus: [0, 1], size: '64MiB', class: 'dram' },
        { id: 1, cpus: [], size: '256MiB', class: 'cxl' },
      ],
      distance: [
        [10, 20],
        [20, 10],
      ],
    },
    kernel: { swap: 'none', demotion_enabled: true, numa_balancing: 2 },
    vms: [{ name: 'app', workload: { footprint: '96MiB', pattern: 'zipfian', theta: 0.99, compute_ns: 20 } }],
  },
  axes: {
    'tiering.promotion_filter': ['always', 'hot-threshold', 'two-reference', 'active-lru'],
    'kernel.numa_balancing_scan_period_min_ms': [10, 40],
  },
  seeds: 2,
};
const CANCELLED = 13;

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', env });

function ok(r: ReturnType<typeof cli>): string {
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function waitForJob(c: SlurmCluster, job: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (c.run('squeue', '-h', '-j', job).trim() !== '') {
    if (Date.now() > deadline) throw new Error(`SLURM job ${job} still queued after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('sweep on SLURM', { skip: skip ?? false }, () => {
  let cluster: SlurmCluster;
  before(async () => {
    const t0 = Date.now();
    cluster = await startSlurm(join(work, 'slurm'));
    log(`SLURM up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
  after(() => {
    cluster?.stop();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  });

  it('16 shards as a job array; a cancelled shard is reported missing, resubmitted alone, and the result equals a local run', async () => {
    const spec = join(work, 'spec.json');
    writeFileSync(spec, JSON.stringify(SPEC));
    const local = join(work, 'local');
    const remote = join(work, 'remote');
    const env = cluster.env;
    ok(cli(env, 'sweep', 'plan', spec, '--out', local));
    assert.match(ok(cli(env, 'sweep', 'plan', spec, '--out', remote)), /16 points in 16 shards/);
    ok(cli(env, 'sweep', 'run', local, '--jobs', '2'));
    ok(cli(env, 'sweep', 'collect', local));

    // Submitted held, so that one task can be cancelled before it starts, then released.
    const t0 = Date.now();
    const sub = ok(cli(env, 'sweep', 'submit', remote, '--slurm', '--', '--hold'));
    const job = /as SLURM job (\d+)/.exec(sub)?.[1];
    assert.ok(job !== undefined, sub);
    assert.match(sub, /submitted shards 0-15 /);
    cluster.run('scancel', `${job}_${CANCELLED}`);
    cluster.run('scontrol', 'release', job);
    await waitForJob(cluster, job);
    log(`16-task array done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    assert.equal(
      ok(cli(env, 'sweep', 'status', remote)).trim(),
      `sweep slurm-e2e: 16 points in 16 shards; 15 done; missing ${CANCELLED}`,
    );
    const refused = cli(env, 'sweep', 'collect', remote);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, new RegExp(`1 of 16 shards missing \\(${CANCELLED}\\)`));

    const again = ok(cli(env, 'sweep', 'submit', remote, '--slurm'));
    const job2 = /as SLURM job (\d+)/.exec(again)?.[1];
    assert.ok(job2 !== undefined, again);
    assert.match(again, new RegExp(`submitted shard ${CANCELLED} `));
    await waitForJob(cluster, job2);
    assert.match(ok(cli(env, 'sweep', 'status', remote)), /16 done; none missing/);
    assert.equal(
      ok(cli(env, 'sweep', 'submit', remote, '--slurm')).trim(),
      'nothing to submit: every shard is done',
    );

    ok(cli(env, 'sweep', 'collect', remote));
    for (const f of ['results.csv', 'results.jsonl', 'report.html'])
      assert.equal(readFileSync(join(remote, f), 'utf8'), readFileSync(join(local, f), 'utf8'), f);
    // Every task's log says it ran its shard; the second array ran only the cancelled one.
    const outs = readdirSync(join(remote, 'slurm')).filter((n) => n.endsWith('.out'));
    assert.equal(outs.filter((n) => n.startsWith(`${job2}_`)).length, 1);
    assert.equal(outs.filter((n) => n.startsWith(`${job}_`)).length, 15);
  });
});
