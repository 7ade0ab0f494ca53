import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import process from 'node:process';

/** Program the harness runs → Debian package that provides it. */
const NEEDED: [string, string][] = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['cpio', 'cpio'],
];

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}

/** busybox must be the static build: the guest has no libraries for it. */
function staticBusybox(): boolean {
  const r = spawnSync('busybox', ['--help'], { encoding: 'utf8' });
  if (r.error) return false;
  const ldd = spawnSync('ldd', [busyboxPath()], { encoding: 'utf8' });
  return (
    ldd.error !== undefined || /not a dynamic executable|statically linked/.test(ldd.stdout + ldd.stderr)
  );
}

export function busyboxPath(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'busybox'))) return join(dir, 'busybox');
  }
  return '/bin/busybox';
}

/** Static C programs for the guest (the kernel-differential helper): gcc and libc.a. */
function staticLibc(): boolean {
  const r = spawnSync('gcc', ['-print-file-name=libc.a'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== 'libc.a' && existsSync(r.stdout.trim());
}

export interface PrerequisiteOptions {
  /** Also gcc and a static libc (libc6-dev), to build a program for the guest. */
  cCompiler?: boolean;
}

function missing(o: PrerequisiteOptions): string[] {
  const absent = NEEDED.filter(
    ([cmd, pkg]) => !onPath(cmd) || (pkg === 'busybox-static' && !staticBusybox()),
  ).map(([, pkg]) => pkg);
  if (o.cCompiler === true) {
    if (!onPath('gcc')) absent.push('gcc', 'libc6-dev');
    else if (!staticLibc()) absent.push('libc6-dev');
  }
  return absent;
}

/**
 * The system programs a guest boot needs (Debian's QEMU, a static busybox, cpio): installed
 * with apt-get when missing and we are root (as on a fresh Debian machine or in CI), as
 * scripts/test-prerequisites.mjs does for `npm test`. Returns null when all are there, else one
 * line saying why the real-kernel tests cannot run here and how to make them.
 */
export function ensureGuestPrerequisites(
  log: (line: string) => void = () => {},
  o: PrerequisiteOptions = {},
): string | null {
  const absent = missing(o);
  if (absent.length === 0) return null;
  const command = `apt-get install -y --no-install-recommends ${absent.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    return `real-kernel tests skipped: ${absent.join(', ')} not installed; install with: sudo ${command}`;
  }
  log(`installing ${absent.join(', ')} (${command})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...absent]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); run: ${command}`);
  }
  const still = missing(o);
  if (still.length > 0)
    throw new Error(`${still.join(', ')} still missing after installing; run: ${command}`);
  return null;
}
