import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { END_MARKER, RESEND_MARKER, ensureBaseInitramfs, stageApp, writeCpio } from './initramfs.js';
import { ensureKernel, type GuestKernel } from './kernel.js';

/** One NUMA node of the guest. */
export interface GuestNode {
  /** CPUs on the node; 0 makes a CPU-less memory node (CXL- or PMEM-like). */
  cpus: number;
  memMiB: number;
  /** Under HMAT, a CPU-less node's initiator: the CPU node nearest it unless given. */
  initiator?: number;
}

/** One HMAT System Locality Latency and Bandwidth entry: initiator → target memory. */
export interface GuestHmat {
  initiator: number;
  target: number;
  latencyNs: number;
  bandwidthMBps: number;
}

export interface GuestTopology {
  nodes: GuestNode[];
  /** SLIT, one row per node (10 on the diagonal); default 10 local, 20 remote. */
  distances?: number[][];
  /** HMAT entries; none leaves HMAT off (no `hmat=on`), so the kernel knows no performance. */
  hmat?: GuestHmat[];
}

export interface BootOptions extends GuestTopology {
  /** Shell command run by the guest's /init in /app (numatier's package root); its stdout is returned. */
  command: string;
  /** On the host's clock: under load the guest's clock runs fast and cannot be trusted. */
  timeoutMs: number;
  /** Extra files for the guest: absolute guest path → content. */
  files?: Record<string, string>;
  /** Programs for the guest: absolute guest path → a file on the host, copied executable. */
  executables?: Record<string, string>;
  /** Where the run's files go; default a new directory under the system's temporary one. */
  outDir?: string;
  /** Appended to the kernel command line. */
  kernelArgs?: string;
  /**
   * A blank disk of this size, as the guest's /dev/nvme0n1 (Debian's cloud kernel has NVMe
   * built in, not virtio-blk): swap for the reclaim tests. Sparse on the host.
   */
  blankDiskMiB?: number;
}

export interface GuestRun {
  /** The guest's exit status of the command. */
  status: number;
  /** What the command wrote on its stdout (via ttyS1). */
  stdout: string;
  /** The console (ttyS0): the kernel's messages and the command's stderr. */
  console: string;
  /** Kept when the command failed, NUMATIER_E2E_KEEP=1 or outDir was given; removed otherwise. */
  outDir: string;
  kept: boolean;
  /** Host wall time from starting QEMU to /init, and to the guest's power-off. */
  bootMs: number | null;
  wallMs: number;
  kernel: GuestKernel;
}

/** A guest that did not finish: timed out, or powered off without the end marker. */
export class GuestError extends Error {
  constructor(
    message: string,
    readonly outDir: string,
    readonly console: string,
  ) {
    super(message);
  }
}

const MAX_NODES = 8;
const INIT_REACHED = 'numatier-guest: /init reached';

function checkTopology(t: GuestTopology): void {
  const n = t.nodes.length;
  if (n < 1 || n > MAX_NODES) throw new Error(`guest: 1..${MAX_NODES} nodes, got ${n}`);
  if (!t.nodes.some((x) => x.cpus > 0)) throw new Error('guest: at least one node needs CPUs');
  for (const [i, x] of t.nodes.entries()) {
    if (!Number.isInteger(x.cpus) || x.cpus < 0)
      throw new Error(`guest node ${i}: cpus must be an integer ≥ 0`);
    if (!Number.isInteger(x.memMiB) || x.memMiB < 64) throw new Error(`guest node ${i}: memMiB must be ≥ 64`);
  }
  if (t.distances !== undefined) {
    const d = t.distances;
    if (d.length !== n || d.some((row) => row.length !== n))
      throw new Error(`guest: distances must be ${n}×${n}`);
    for (let i = 0; i < n; i++) {
      if (d[i][i] !== 10) throw new Error(`guest: distance ${i}→${i} must be 10`);
      for (let j = 0; j < n; j++)
        if (i !== j && !(Number.isInteger(d[i][j]) && d[i][j] > 10 && d[i][j] < 255))
          throw new Error(`guest: distance ${i}→${j} must be an integer in 11..254`);
    }
  }
  for (const h of t.hmat ?? []) {
    if (t.nodes[h.target] === undefined) throw new Error(`guest hmat: no target node ${h.target}`);
    if ((t.nodes[h.initiator]?.cpus ?? 0) === 0)
      throw new Error(`guest hmat: initiator ${h.initiator} must be a node with CPUs`);
  }
}

function distance(t: GuestTopology, i: number, j: number): number {
  return t.distances?.[i][j] ?? (i === j ? 10 : 20);
}

/** QEMU's arguments for a topology (without kernel, initrd and serial ports). */
export function machineArgs(t: GuestTopology): string[] {
  checkTopology(t);
  const hmat = (t.hmat ?? []).length > 0;
  const cpus = t.nodes.reduce((s, x) => s + x.cpus, 0);
  const mem = t.nodes.reduce((s, x) => s + x.memMiB, 0);
  const args = ['-machine', `q35${hmat ? ',hmat=on' : ''}`, '-accel', 'tcg', '-cpu', 'max'];
  args.push('-smp', String(cpus), '-m', `${mem}M`);
  let cpu = 0;
  for (const [i, x] of t.nodes.entries()) {
    args.push('-object', `memory-backend-ram,id=m${i},size=${x.memMiB}M`);
    let spec = `node,nodeid=${i},memdev=m${i}`;
    if (x.cpus > 0) {
      spec += `,cpus=${cpu}-${cpu + x.cpus - 1}`;
      cpu += x.cpus;
    }
    if (hmat) {
      // With HMAT on, QEMU wants every node's initiator: itself if it has CPUs.
      const nearest = t.nodes
        .map((y, j) => ({ j, cpus: y.cpus, d: distance(t, i, j) }))
        .filter((y) => y.cpus > 0)
        .sort((a, b) => a.d - b.d || a.j - b.j)[0].j;
      spec += `,initiator=${x.cpus > 0 ? i : (x.initiator ?? nearest)}`;
    }
    args.push('-numa', spec);
  }
  for (let i = 0; i < t.nodes.length; i++)
    for (let j = 0; j < t.nodes.length; j++)
      if (i !== j) args.push('-numa', `dist,src=${i},dst=${j},val=${distance(t, i, j)}`);
  for (const h of t.hmat ?? []) {
    const lb = `hmat-lb,initiator=${h.initiator},target=${h.target},hierarchy=memory`;
    args.push('-numa', `${lb},data-type=access-latency,latency=${h.latencyNs}`);
    args.push('-numa', `${lb},data-type=access-bandwidth,bandwidth=${h.bandwidthMBps}M`);
  }
  return args;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
let appCpio: string | null = null;

/** numatier's own files for the guest, archived once per test process. */
function ensureAppCpio(): string {
  if (appCpio !== null && fs.existsSync(appCpio)) return appCpio;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-guest-app-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  stageApp(projectRoot, path.join(dir, 'root'));
  writeCpio(path.join(dir, 'root'), path.join(dir, 'app.cpio'));
  appCpio = path.join(dir, 'app.cpio');
  return appCpio;
}

/** Text of a serial-port log: the guest's tty turns \n into \r\n. */
function readPort(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n') : '';
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

interface QemuExit {
  exit: number | null;
  timedOut: boolean;
  qemuErr: string;
  bootMs: number | null;
  wallMs: number;
  console: string;
}

/** One QEMU run to its exit, or killed after `timeoutMs` of host time. */
async function runQemu(args: string[], consoleLog: string, timeoutMs: number): Promise<QemuExit> {
  const t0 = Date.now();
  let bootMs: number | null = null;
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr.setEncoding('utf8');
  qemu.stderr.on('data', (s: string) => (qemuErr += s));
  const poll = setInterval(() => {
    if (bootMs === null && readPort(consoleLog).includes(INIT_REACHED)) bootMs = Date.now() - t0;
  }, 250);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, timeoutMs);
  const exit = await new Promise<number | null>((resolve) => {
    qemu.on('exit', (code) => resolve(code));
    qemu.on('error', (e) => {
      qemuErr += String(e);
      resolve(null);
    });
  });
  clearTimeout(timer);
  clearInterval(poll);
  const wallMs = Date.now() - t0;
  const console = readPort(consoleLog);
  if (bootMs === null && console.includes(INIT_REACHED)) bootMs = wallMs;
  return { exit, timedOut, qemuErr, bootMs, wallMs, console };
}

/**
 * Boots Debian's 6.12 cloud kernel under QEMU (TCG) on the given NUMA topology, with numatier
 * under /app in the initramfs, runs `command` and powers off. The kernel and the shared
 * initramfs come from the cache (fetched or built the first time). Throws GuestError, keeping
 * the run's directory, when the guest does not finish within `timeoutMs` of host time.
 */
export async function bootGuest(o: BootOptions): Promise<GuestRun> {
  const machine = machineArgs(o);
  const kernel = ensureKernel((l) => process.stderr.write(`guest: ${l}\n`));
  const base = ensureBaseInitramfs();
  const app = ensureAppCpio();
  const ownDir = o.outDir === undefined;
  const outDir = o.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-guest-'));
  fs.mkdirSync(outDir, { recursive: true });

  const run = path.join(outDir, 'run-root');
  fs.mkdirSync(path.join(run, 'numatier'), { recursive: true });
  fs.writeFileSync(path.join(run, 'numatier', 'command.sh'), `${o.command}\n`);
  /** Where a file the guest sees at `guestPath` goes in this run's tree (its directory made). */
  const inRun = (guestPath: string, what: string): string => {
    if (!path.isAbsolute(guestPath)) throw new Error(`guest ${what} ${guestPath}: give an absolute path`);
    const dst = path.join(run, guestPath);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    return dst;
  };
  for (const [guestPath, text] of Object.entries(o.files ?? {}))
    fs.writeFileSync(inRun(guestPath, 'file'), text);
  for (const [guestPath, hostPath] of Object.entries(o.executables ?? {})) {
    const dst = inRun(guestPath, 'program');
    fs.copyFileSync(hostPath, dst);
    fs.chmodSync(dst, 0o755);
  }
  const runCpio = path.join(outDir, 'run.cpio');
  writeCpio(run, runCpio);
  // The kernel unpacks concatenated archives in order; later files win.
  const initrd = path.join(outDir, 'initrd.cpio');
  fs.copyFileSync(base, initrd);
  fs.appendFileSync(initrd, fs.readFileSync(app));
  fs.appendFileSync(initrd, fs.readFileSync(runCpio));

  const disk: string[] = [];
  if (o.blankDiskMiB !== undefined) {
    const img = path.join(outDir, 'disk.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, o.blankDiskMiB * 1024 * 1024);
    disk.push(
      '-drive',
      `file=${img},if=none,id=disk0,format=raw`,
      '-device',
      'nvme,drive=disk0,serial=numatier0',
    );
  }
  const consoleLog = path.join(outDir, 'console.log');
  const stdoutLog = path.join(outDir, 'ttyS1.log');
  const cmdline = `console=ttyS0 loglevel=4 panic=-1 rdinit=/init tsc=reliable no_timer_check mitigations=off ${o.kernelArgs ?? ''}`;
  const args = [
    ...machine,
    ...disk,
    '-kernel',
    kernel.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    cmdline.trim(),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-net',
    'none',
    '-serial',
    `file:${consoleLog}`,
    '-serial',
    `file:${stdoutLog}`,
  ];
  fs.writeFileSync(path.join(outDir, 'qemu-args.txt'), `qemu-system-x86_64 ${args.join(' ')}\n`);

  let attempt = await runQemu(args, consoleLog, o.timeoutMs);
  if (!attempt.timedOut && !attempt.console.includes(INIT_REACHED) && /Kernel panic/.test(attempt.console)) {
    // A boot-time panic before /init is the emulation starved by a loaded host (the IO-APIC
    // timer check, for one); the same guest boots on a second try. Both consoles are kept.
    fs.renameSync(consoleLog, path.join(outDir, 'console-first-boot.log'));
    process.stderr.write(`guest: the kernel panicked before /init; booting once more (${outDir})\n`);
    attempt = await runQemu(args, consoleLog, o.timeoutMs);
  }
  const { exit, timedOut, qemuErr, bootMs, wallMs, console } = attempt;
  fs.writeFileSync(path.join(outDir, 'qemu-stderr.txt'), qemuErr);

  const raw = readPort(stdoutLog);
  const end = raw.lastIndexOf(`\n${END_MARKER}`);
  if (timedOut || end < 0) {
    const why = timedOut
      ? `did not power off within ${o.timeoutMs} ms (host clock)`
      : `stopped (QEMU exit ${exit}) without the end marker`;
    throw new GuestError(
      `guest ${why}; its files are kept in ${outDir}\n${qemuErr.trim()}\n--- console (last lines) ---\n${tail(console)}`,
      outDir,
      console,
    );
  }
  const status = Number(/^(\d+)@@/.exec(raw.slice(end + 1 + END_MARKER.length))?.[1] ?? NaN);
  let stdout = raw.slice(0, end);
  const resend = stdout.lastIndexOf(`\n${RESEND_MARKER}\n`);
  if (resend >= 0) stdout = stdout.slice(resend + RESEND_MARKER.length + 2);
  const kept = status !== 0 || process.env.NUMATIER_E2E_KEEP === '1' || !ownDir;
  if (!kept) fs.rmSync(outDir, { recursive: true, force: true });
  return { status, stdout, console, outDir, kept, bootMs, wallMs, kernel };
}
