import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../report/output.js';
import { InputError } from '../util/errors.js';
import { indexRanges, missingShards, readManifest } from './manifest.js';

/**
 * `sweep submit --slurm`: an sbatch job array over exactly the missing shards. Each array task
 * runs `numatier sweep run-shard DIR`, which reads its index from SLURM_ARRAY_TASK_ID. SLURM
 * moves no files: DIR must be visible to the compute nodes at the same path.
 */
export interface SlurmSubmission {
  /** The indices submitted, as --array takes them; empty when nothing was missing. */
  array: string;
  script: string | null;
  /** The sbatch command line, as run (or as it would run with --print). */
  argv: string[];
  jobId: string | null;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function submitSlurm(dir: string, sbatchOptions: readonly string[], print: boolean): SlurmSubmission {
  const m = readManifest(dir);
  const missing = missingShards(dir, m);
  if (missing.length === 0) return { array: '', script: null, argv: [], jobId: null };
  const array = indexRanges(missing);
  const slurmDir = join(dir, 'slurm');
  mkdirSync(slurmDir, { recursive: true });
  const n = readdirSync(slurmDir).filter((x) => x.endsWith('.sbatch')).length;
  const script = join(slurmDir, `submit-${n + 1}.sbatch`);
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  writeFileAtomic(
    script,
    [
      '#!/bin/sh',
      `# numatier sweep ${m.name}: shards ${array} of 0-${m.shards - 1}, written by numatier sweep submit.`,
      '# Each array task runs one shard; a finished shard is skipped, so resubmitting is safe.',
      `exec ${[process.execPath, main, 'sweep', 'run-shard', dir].map(shellQuote).join(' ')}`,
      '',
    ].join('\n'),
  );
  const argv = [
    'sbatch',
    '--parsable',
    `--array=${array}`,
    `--job-name=numatier-${m.name}`,
    `--output=${join(slurmDir, '%A_%a.out')}`,
    '--cpus-per-task=1',
    ...sbatchOptions,
    script,
  ];
  if (print) return { array, script, argv, jobId: null };
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.error !== undefined)
    throw new InputError(
      `sbatch: cannot run it (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); is SLURM installed here?`,
      1,
    );
  if (r.status !== 0)
    throw new InputError(`sbatch: exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`, 1);
  // --parsable prints "jobid" or "jobid;cluster".
  return { array, script, argv, jobId: r.stdout.trim().split(';')[0] };
}
