import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { runTasks } from '../../parallel/pool.js';
import type { SweepShardTask } from '../../parallel/tasks.js';
import { collectSweep, FORMATS, type SweepFormat } from '../../sweep/collect.js';
import { doneShards, indexRanges, missingShards, readManifest, writeManifest } from '../../sweep/manifest.js';
import { runShard } from '../../sweep/shard.js';
import { submitSlurm } from '../../sweep/slurm.js';
import { loadSweepSpec, planSweep } from '../../sweep/spec.js';
import { InputError } from '../../util/errors.js';
import { displayPath, jobsOption } from '../options.js';
import { progressReporter } from '../progress.js';

/** The shard index of this array task: --index, else SLURM's or Kubernetes' own variable. */
function shardIndex(flag: string | undefined): number {
  const from: [string, string | undefined][] = [
    ['--index', flag],
    ['SLURM_ARRAY_TASK_ID', process.env.SLURM_ARRAY_TASK_ID],
    ['JOB_COMPLETION_INDEX', process.env.JOB_COMPLETION_INDEX],
  ];
  for (const [name, v] of from) {
    if (v === undefined) continue;
    if (!/^\d+$/.test(v))
      throw new InputError(`${name}: expected a shard index (0, 1, …), got ${JSON.stringify(v)}`);
    return Number(v);
  }
  throw new InputError('--index: required outside a SLURM array or Kubernetes indexed job');
}

function parseFormats(v: string): SweepFormat[] {
  const parts = v.split(',').map((s) => s.trim());
  for (const p of parts)
    if (!(FORMATS as readonly string[]).includes(p))
      throw new InputError(`--format: expected some of ${FORMATS.join(',')}, got ${JSON.stringify(p)}`);
  return parts as SweepFormat[];
}

export function registerSweepCommand(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('plan a sweep of --set values × seeds, run its shards here or on SLURM, collect one table');
  cmd
    .command('plan')
    .description('write the manifest of a sweep: every point, packed into shards')
    .argument('<spec>', 'sweep spec (YAML or JSON): scenario, set, axes, combine, seeds, points_per_shard')
    .option('--out <dir>', 'sweep directory (default ./numatier-out/sweep-<name>)')
    .action((spec: string, o: { out?: string }) => {
      const { spec: s, baseDir, defaultName } = loadSweepSpec(spec);
      const m = planSweep(s, baseDir, defaultName);
      const dir = resolve(o.out ?? `numatier-out/sweep-${m.name}`);
      const what = writeManifest(dir, m);
      process.stdout.write(
        `${what === 'planned' ? 'planned' : 'already planned'}: ${m.points.length} points in ${m.shards} shards (0-${m.shards - 1}) at ${displayPath(dir)}\n` +
          `next: numatier sweep run ${displayPath(dir)}   (or sweep submit ${displayPath(dir)} --slurm)\n`,
      );
    });
  cmd
    .command('run')
    .description('run the missing shards on worker threads here')
    .argument('<dir>', 'sweep directory')
    .option('--jobs <n>', 'worker threads (default: one per CPU)')
    .action(async (d: string, o: { jobs?: string }) => {
      const dir = resolve(d);
      const m = readManifest(dir);
      const missing = missingShards(dir, m);
      const jobs = jobsOption(o.jobs);
      const tasks: SweepShardTask[] = missing.map((index) => ({ kind: 'sweep-shard', dir, index }));
      const progress = progressReporter(`sweep ${m.name}: ${missing.length} shards`);
      let ran: string[];
      try {
        ran = await runTasks(tasks, { jobs, onDone: (x, t) => progress.update(x / t) });
      } finally {
        progress.stop();
      }
      const now = ran.filter((r) => r === 'ran').length;
      process.stdout.write(
        `ran ${now} shard${now === 1 ? '' : 's'}; ${doneShards(dir, m).size} of ${m.shards} done\n` +
          `next: numatier sweep collect ${displayPath(dir)}\n`,
      );
    });
  cmd
    .command('run-shard')
    .description('run one shard (index from --index, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)')
    .argument('<dir>', 'sweep directory')
    .option('--index <i>', 'shard index')
    .action((d: string, o: { index?: string }) => {
      const index = shardIndex(o.index);
      const r = runShard(resolve(d), index);
      process.stdout.write(`shard ${index}: ${r === 'ran' ? 'done' : 'done before, skipped'}\n`);
    });
  cmd
    .command('status')
    .description('how many shards are done, and the missing ones as index ranges')
    .argument('<dir>', 'sweep directory')
    .option('--json', 'print as JSON')
    .action((d: string, o: { json?: boolean }) => {
      const dir = resolve(d);
      const m = readManifest(dir);
      const missing = missingShards(dir, m);
      if (o.json) {
        const status = {
          sweep: m.name,
          points: m.points.length,
          shards: m.shards,
          done: m.shards - missing.length,
          missing: indexRanges(missing),
        };
        process.stdout.write(JSON.stringify(status) + '\n');
        return;
      }
      process.stdout.write(
        `sweep ${m.name}: ${m.points.length} points in ${m.shards} shards; ${m.shards - missing.length} done` +
          (missing.length > 0 ? `; missing ${indexRanges(missing)}\n` : '; none missing\n'),
      );
    });
  cmd
    .command('submit')
    .description('submit the missing shards as a SLURM job array (sbatch options after --)')
    .argument('<dir>', 'sweep directory')
    .argument('[sbatch...]', 'options passed to sbatch, after --')
    .option('--slurm', 'submit to SLURM with sbatch (the scheduler numatier submits to)')
    .option('--print', 'write the script and print the sbatch command without running it')
    .action((d: string, sbatch: string[], o: { slurm?: boolean; print?: boolean }) => {
      if (o.slurm !== true)
        throw new InputError('--slurm: required (SLURM is the scheduler sweep submit knows)');
      const dir = resolve(d);
      const s = submitSlurm(dir, sbatch, o.print === true);
      if (s.array === '') {
        process.stdout.write('nothing to submit: every shard is done\n');
        return;
      }
      process.stdout.write(
        o.print === true
          ? `${s.argv.join(' ')}\n`
          : `submitted shard${/^\d+$/.test(s.array) ? '' : 's'} ${s.array} as SLURM job ${s.jobId} (${basename(s.script ?? '')})\n`,
      );
    });
  cmd
    .command('collect')
    .description('once every shard is done: one table (CSV, JSON lines, Parquet) and report.html')
    .argument('<dir>', 'sweep directory')
    .option(
      '--format <list>',
      `table formats, some of ${FORMATS.join(',')} (parquet needs @duckdb/node-api)`,
      'csv,jsonl',
    )
    .action(async (d: string, o: { format: string }) => {
      const dir = resolve(d);
      const files = await collectSweep(dir, parseFormats(o.format));
      process.stdout.write(`wrote ${files.map((f) => displayPath(resolve(dir, f))).join(', ')}\n`);
    });
}
