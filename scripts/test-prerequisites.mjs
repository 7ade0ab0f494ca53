#!/usr/bin/env node
// Run by `npm test` before the suite: the system programs some tests need. The report test
// opens report.html in Debian's headless chromium; the trace tests build the project's
// valgrind tool with make and gcc and record real programs under valgrind. Those tests fail
// (never skip) without them, so a missing one is installed here when we may (root with
// apt-get, as on a fresh Debian machine or in CI), and otherwise named in one line with the
// command that installs it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import process from 'node:process';

/** Program on PATH → Debian package that provides it. */
const NEEDED = [
  ['chromium', 'chromium'],
  ['valgrind', 'valgrind'],
  ['make', 'make'],
  ['gcc', 'gcc'],
];

function onPath(cmd) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}

const missing = NEEDED.filter(([cmd]) => !onPath(cmd)).map(([, pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  process.stderr.write(
    `npm test: the suite needs ${missing.join(', ')}, not found on PATH; install with: sudo ${command}\n`,
  );
  process.exit(1);
}

process.stderr.write(`npm test: installing ${missing.join(', ')} (${command})\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    process.stderr.write(
      `npm test: \`apt-get ${args.join(' ')}\` failed (exit ${r.status}); run: ${command}\n`,
    );
    process.exit(1);
  }
}
const still = NEEDED.filter(([cmd]) => !onPath(cmd)).map(([cmd]) => cmd);
if (still.length > 0) {
  process.stderr.write(`npm test: ${still.join(', ')} still not on PATH after installing; run: ${command}\n`);
  process.exit(1);
}
