import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';
import { cacheDir } from './cache.js';

/** A guest kernel: the image QEMU boots and the config it was built with. */
export interface GuestKernel {
  release: string;
  vmlinuz: string;
  config: string;
}

/**
 * Debian's cloud flavour: small, boots fast under TCG, and 6.12 is the first Debian kernel with
 * DAMON and HMAT-based memory tiers (6.1 has neither). The metapackage names the newest build.
 */
const METAPACKAGE = 'linux-image-6.12-cloud-amd64';
const RELEASE = /^6\.12\.[0-9]+\+deb[0-9.]+-cloud-amd64$/;

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().slice(-2000)}`);
  }
  return r.stdout;
}

/** Kernels already unpacked in the cache, newest release first. */
function cachedKernels(dir: string): GuestKernel[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => /^kernel-(.+)$/.exec(name)?.[1])
    .filter((rel): rel is string => rel !== undefined && RELEASE.test(rel))
    .map((release) => ({
      release,
      vmlinuz: path.join(dir, `kernel-${release}`, 'vmlinuz'),
      config: path.join(dir, `kernel-${release}`, 'config'),
    }))
    .filter((k) => fs.existsSync(k.vmlinuz) && fs.existsSync(k.config))
    .sort((a, b) => b.release.localeCompare(a.release, 'en', { numeric: true }));
}

/**
 * The Debian archives the host's apt already uses, as one-line sources for the suites that
 * carry 6.12 on bookworm (security, backports) or newer (the release itself).
 */
function privateSources(codename: string): string {
  const uris = new Set<string>();
  const dir = '/etc/apt/sources.list.d';
  const files = [
    '/etc/apt/sources.list',
    ...(fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : []),
  ];
  for (const file of files) {
    if (!/\.(list|sources)$/.test(file) || !fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*URIs:\s*(.+)$/gm)) for (const u of m[1].split(/\s+/)) uris.add(u);
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) uris.add(m[1]);
  }
  const debian = [...uris].filter((u) => /debian/.test(u));
  if (debian.length === 0)
    debian.push('http://deb.debian.org/debian', 'http://deb.debian.org/debian-security');
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const opt = fs.existsSync(keyring) ? `[signed-by=${keyring}] ` : '';
  const lines: string[] = [];
  for (const u of debian) {
    const suites = /security/.test(u) ? [`${codename}-security`] : [codename, `${codename}-backports`];
    for (const s of suites) lines.push(`deb ${opt}${u.replace(/\/$/, '')} ${s} main`);
  }
  return `${lines.join('\n')}\n`;
}

function osCodename(): string {
  try {
    const m = /^VERSION_CODENAME=(\S+)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1].replace(/"/g, '');
  } catch {
    // no os-release: assume the release this harness was written on
  }
  return 'bookworm';
}

/**
 * The guest kernel, from the cache, or fetched once with `apt-get download` under a private
 * apt configuration (its own sources, lists and cache in a temporary directory: the host's apt
 * state and /boot are left alone), unpacked with `dpkg -x`, of which only vmlinuz and config
 * are kept. $NUMATIER_KERNEL (a vmlinuz path) skips all of this.
 */
export function ensureKernel(log: (line: string) => void = () => {}): GuestKernel {
  const given = process.env.NUMATIER_KERNEL;
  if (given !== undefined && given !== '') {
    const config = path.join(path.dirname(given), 'config');
    return { release: path.basename(given), vmlinuz: given, config };
  }
  const dir = cacheDir();
  const cached = cachedKernels(dir);
  if (cached.length > 0) return cached[0];

  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, '.fetch-'));
  try {
    for (const d of ['lists/partial', 'cache/archives/partial', 'parts', 'deb', 'x'])
      fs.mkdirSync(path.join(tmp, d), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'sources.list'), privateSources(osCodename()));
    const opts = [
      `-o`,
      `Dir::Etc::SourceList=${path.join(tmp, 'sources.list')}`,
      `-o`,
      `Dir::Etc::SourceParts=${path.join(tmp, 'parts')}`,
      `-o`,
      `Dir::State::Lists=${path.join(tmp, 'lists')}`,
      `-o`,
      `Dir::Cache=${path.join(tmp, 'cache')}`,
      // The private directories belong to whoever runs this, not to apt's _apt user.
      `-o`,
      `APT::Sandbox::User=${process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody')}`,
      `-o`,
      'Debug::NoLocking=1',
      '-qq',
    ];
    log(`fetching ${METAPACKAGE} (Debian) into ${dir}`);
    sh('apt-get', [...opts, 'update']);
    const depends = sh('apt-cache', [...opts, 'depends', METAPACKAGE]);
    const pkg = /Depends:\s*(linux-image-6\.12\.\S+-cloud-amd64)\b/.exec(depends)?.[1];
    if (pkg === undefined) throw new Error(`${METAPACKAGE}: no linux-image-6.12.* dependency in ${depends}`);
    const release = pkg.replace(/^linux-image-/, '');
    sh('apt-get', [...opts, 'download', pkg], path.join(tmp, 'deb'));
    const deb = fs.readdirSync(path.join(tmp, 'deb')).find((f) => f.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${pkg}: no .deb written`);
    sh('dpkg', ['-x', path.join(tmp, 'deb', deb), path.join(tmp, 'x')]);
    const out = path.join(tmp, `kernel-${release}`);
    fs.mkdirSync(out);
    fs.renameSync(path.join(tmp, 'x', 'boot', `vmlinuz-${release}`), path.join(out, 'vmlinuz'));
    fs.renameSync(path.join(tmp, 'x', 'boot', `config-${release}`), path.join(out, 'config'));
    // Published by one rename, so a half-fetched kernel is never taken for a cached one.
    const final = path.join(dir, `kernel-${release}`);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(out, final);
    log(`cached ${pkg} (vmlinuz and config only) in ${final}`);
    return { release, vmlinuz: path.join(final, 'vmlinuz'), config: path.join(final, 'config') };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
