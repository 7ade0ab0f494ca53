import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';
import { cacheDir } from './cache.js';
import { busyboxPath } from './prerequisites.js';

/** Written by /init on ttyS1 after the command's output; the host reads the status from it. */
export const END_MARKER = '@@NUMATIER-END status=';
/** Written before the output is sent again, if sending it failed part-way (EAGAIN on the port). */
export const RESEND_MARKER = '@@NUMATIER-RESEND@@';

/**
 * The guest's /init (busybox sh). The command's stdout goes to a file first and is then copied
 * to ttyS1 by a fresh open of the port: a program that made the port non-blocking (as Node
 * does with a terminal) cannot make the final writes fail with EAGAIN, and if a copy fails
 * anyway it is sent again after a marker. stderr goes straight to the console (ttyS0), with
 * the kernel's messages, so a hang shows where it hung.
 */
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root
mkdir -p /proc /sys /dev /tmp /run /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo '+memory +cpuset' > /sys/fs/cgroup/cgroup.subtree_control
mount -t debugfs debugfs /sys/kernel/debug
echo "numatier-guest: /init reached, running the command" > /dev/ttyS0
cd /app 2>/dev/null || cd /
sh /numatier/command.sh < /dev/null > /run/stdout 2> /dev/ttyS0
rc=$?
echo "numatier-guest: command exited with status $rc" > /dev/ttyS0
i=0
until cat /run/stdout > /dev/ttyS1; do
  i=$((i + 1)); [ $i -ge 10 ] && break
  sleep 1
  printf '\\n${RESEND_MARKER}\\n' > /dev/ttyS1
done
i=0
until printf '\\n${END_MARKER}%d@@\\n' "$rc" > /dev/ttyS1; do
  i=$((i + 1)); [ $i -ge 10 ] && break
  sleep 1
done
sync
poweroff -f
`;

/** Archive the tree under `dir` as a newc cpio (the format the kernel unpacks), owned by root. */
export function writeCpio(dir: string, out: string): void {
  const r = spawnSync(
    'sh',
    ['-c', 'find . -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc -R 0:0'],
    {
      cwd: dir,
      stdio: ['ignore', fs.openSync(out, 'w'), 'pipe'],
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`cpio of ${dir} failed (exit ${r.status}): ${r.stderr}`);
}

/** The shared libraries `ldd` lists for a binary, with the dynamic loader. */
function libraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ldd ${binary} failed: ${r.stderr}`);
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, file: string, as: string = file): void {
  const dst = path.join(root, as);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), dst);
  fs.chmodSync(dst, fs.statSync(fs.realpathSync(file)).mode & 0o777);
}

/**
 * The initramfs every guest shares: static busybox, the host's node binary and its libraries at
 * the paths ldd names, and /init. Built once and cached, keyed by its inputs (≈ 100 MiB,
 * uncompressed: the kernel unpacks it faster than it would decompress it under TCG).
 */
export function ensureBaseInitramfs(): string {
  const node = process.execPath;
  const busybox = busyboxPath();
  const key = createHash('sha256');
  key.update(INIT);
  for (const f of [node, busybox]) {
    const st = fs.statSync(fs.realpathSync(f));
    key.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  const dir = cacheDir();
  const name = `initramfs-base-${key.digest('hex').slice(0, 16)}.cpio`;
  const out = path.join(dir, name);
  if (fs.existsSync(out)) return out;

  fs.mkdirSync(dir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(dir, '.initramfs-'));
  try {
    const root = path.join(stage, 'root');
    for (const d of ['bin', 'usr/bin', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'etc'])
      fs.mkdirSync(path.join(root, d), { recursive: true });
    copyInto(root, busybox, '/bin/busybox');
    copyInto(root, node, '/usr/bin/node');
    for (const lib of libraries(node)) copyInto(root, lib);
    fs.writeFileSync(path.join(root, 'init'), INIT, { mode: 0o755 });
    const tmp = path.join(stage, name);
    writeCpio(root, tmp);
    fs.renameSync(tmp, out);
    // Earlier builds (another node or busybox) are not needed any more.
    for (const f of fs.readdirSync(dir))
      if (f.startsWith('initramfs-base-') && f !== name) fs.rmSync(path.join(dir, f), { force: true });
    return out;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** Directory of the package `name` as Node would resolve it from `from` (inside `root`). */
function resolvePackage(root: string, from: string, name: string): string | null {
  for (let d = from; ; d = path.dirname(d)) {
    const cand = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (d === root || path.dirname(d) === d) return null;
  }
}

/** The production dependency closure of the package at `root`: directories relative to it. */
export function productionPackages(root: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string, optional: boolean, name: string): void => {
    const found = resolvePackage(root, dir, name);
    if (found === null) {
      if (optional) return;
      throw new Error(`${name}: not installed (needed from ${dir}); run npm ci`);
    }
    const rel = path.relative(root, found);
    if (seen.has(rel)) return;
    seen.add(rel);
    const pkg = JSON.parse(fs.readFileSync(path.join(found, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(found, false, d);
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(found, true, d);
  };
  const top = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const d of Object.keys(top.dependencies ?? {})) visit(root, false, d);
  return [...seen].sort();
}

/**
 * numatier as the guest runs it, under /app: package.json, the built dist/src (without
 * declarations and source maps) and the production node_modules only.
 */
export function stageApp(projectRoot: string, into: string): void {
  const app = path.join(into, 'app');
  const keep = (src: string): boolean => !/\.(d\.ts|map)$/.test(src);
  fs.mkdirSync(app, { recursive: true });
  fs.copyFileSync(path.join(projectRoot, 'package.json'), path.join(app, 'package.json'));
  const dist = path.join(projectRoot, 'dist', 'src');
  if (!fs.existsSync(path.join(dist, 'cli', 'main.js')))
    throw new Error(`${dist}: not built; run npm run build`);
  fs.cpSync(dist, path.join(app, 'dist', 'src'), { recursive: true, filter: keep });
  for (const rel of productionPackages(projectRoot)) {
    fs.cpSync(fs.realpathSync(path.join(projectRoot, rel)), path.join(app, rel), {
      recursive: true,
      dereference: true,
      // A package's own nested node_modules are visited (or not needed) as packages of their own.
      filter: (src) =>
        keep(src) && !src.slice(fs.realpathSync(path.join(projectRoot, rel)).length).includes('node_modules'),
    });
  }
}
