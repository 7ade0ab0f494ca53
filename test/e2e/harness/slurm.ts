import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import process from 'node:process';

/**
 * A one-node SLURM cluster for the sweep end-to-end: Debian's slurm-wlm and munge, installed
 * when missing (as root with apt-get, like the other harnesses), started directly — no systemd —
 * with config, state, spool, logs, sockets and pid files all under one directory, so /etc is
 * never touched; stopped by its pid files. What we found setting this up is in the project's
 * docs/sweeps.md.
 */
const PROGRAMS: [string, string][] = [
  ['sbatch', 'slurm-client'],
  ['slurmctld', 'slurmctld'],
  ['slurmd', 'slurmd'],
  ['munged', 'munge'],
];

function onPath(cmd: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}

/** Null when SLURM can run here (installing it if need be), else why not, in one line. */
export function ensureSlurm(log: (line: string) => void): string | null {
  const absent = PROGRAMS.filter(([cmd]) => !onPath(cmd)).map(([, pkg]) => pkg);
  if (absent.length === 0) return null;
  const pkgs = ['slurm-wlm', 'slurmctld', 'slurmd', 'slurm-client', 'munge'];
  const command = `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get'))
    return `SLURM tests skipped: ${absent.join(', ')} not installed; install with: sudo ${command}`;
  log(`installing SLURM (${command})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...pkgs]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); run: ${command}`);
  }
  const still = PROGRAMS.filter(([cmd]) => !onPath(cmd)).map(([cmd]) => cmd);
  if (still.length > 0)
    throw new Error(`${still.join(', ')} still missing after installing; run: ${command}`);
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

export interface SlurmCluster {
  dir: string;
  /** The environment clients (sbatch, squeue, numatier sweep submit) need: SLURM_CONF. */
  env: NodeJS.ProcessEnv;
  /** Runs a SLURM client; throws with its stderr on failure. */
  run(cmd: string, ...args: string[]): string;
  stop(): void;
}

function sbin(cmd: string): string {
  for (const d of ['/usr/sbin', '/sbin', ...(process.env.PATH ?? '').split(delimiter)])
    if (d !== '' && existsSync(join(d, cmd))) return join(d, cmd);
  return cmd;
}

function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  if (r.error !== undefined || r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}`}: ${r.stderr.trim()}`,
    );
  return r.stdout;
}

/** Starts munged, slurmctld and slurmd under `dir` and waits until the node is idle. */
export async function startSlurm(dir: string): Promise<SlurmCluster> {
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d), { recursive: true });
  const key = join(dir, 'munge.key');
  mustRun(sbin('mungekey'), ['-c', '-k', key]);
  chmodSync(key, 0o600);
  const socket = join(dir, 'munge.socket');
  mustRun(sbin('munged'), [
    '--force',
    `--key-file=${key}`,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'munged.pid')}`,
    `--log-file=${join(dir, 'munged.log')}`,
    `--seed-file=${join(dir, 'munge.seed')}`,
  ]);
  // `slurmd -C` prints this machine's node line (CPUs, sockets, memory) as slurm.conf wants it.
  const nodeLine = mustRun(sbin('slurmd'), ['-C']).split('\n')[0].trim();
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=numatier',
      `SlurmctldHost=${hostname()}`,
      `SlurmctldPort=${await freePort()}`,
      `SlurmdPort=${await freePort()}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      // No cgroup configuration needed.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      // Array tasks start at once instead of every 3 s.
      'SchedulerParameters=batch_sched_delay=0',
      'ReturnToService=2',
      `${nodeLine} State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const cluster: SlurmCluster = {
    dir,
    env,
    run: (cmd, ...args) => mustRun(cmd, args, env),
    stop: () => stopByPidFiles(dir),
  };
  try {
    mustRun(sbin('slurmctld'), ['-f', conf], env);
    mustRun(sbin('slurmd'), ['-f', conf], env);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', env });
      if (r.status === 0 && /^idle/m.test(r.stdout)) break;
      if (Date.now() > deadline) throw new Error(`SLURM node not idle after 60 s: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  } catch (e) {
    cluster.stop();
    throw e;
  }
  return cluster;
}

/** Stops the daemons this directory's pid files name, and waits until they are gone. */
function stopByPidFiles(dir: string): void {
  const pids: number[] = [];
  for (const f of ['slurmd.pid', 'slurmctld.pid', 'munged.pid']) {
    try {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid > 0) {
        process.kill(pid, 'SIGTERM');
        pids.push(pid);
      }
    } catch {
      // not started, or gone already
    }
  }
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.1']);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}
