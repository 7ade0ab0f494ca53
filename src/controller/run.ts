import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseNumaStat } from '../inspect/read-host.js';
import { InputError } from '../util/errors.js';
import type { ControlConfig } from './config.js';
import { topTierNodes } from './controller.js';
import type { AccessTracking } from './interface.js';
import { STRATEGIES } from './movers.js';
import { ControlMetrics, errnoName, parseMetricsAddress, serveMetrics } from './metrics.js';
import { buildAllowList } from './real/allow-list.js';
import { EventLog } from './real/event-log.js';
import { HostBackend } from './real/host-backend.js';
import { HostWriter, RestoreError } from './real/host-writer.js';
import { Journal } from './real/journal.js';
import { KDAMOND, damonRefusals, damosRefusals } from './real/damos.js';
import { DamonVaddrTracker } from './real/damon-vaddr.js';
import { DryRunSyscalls } from './real/dry-run-syscalls.js';
import { HostFiles } from '../inspect/sysfs.js';
import { probeHost, type HostCapabilities } from './real/probe.js';
import { loadSyscalls, type Syscalls } from './real/syscalls.js';

/**
 * `numatier control`: the user-space ratio controller (controller.ts) against this host.
 * Dry-run unless `apply`; kernel settings it changes are journaled before the first write and
 * put back when it stops — on SIGTERM/SIGINT, on an error, at the end of `--once` — or, after
 * a crash, at its next start or by `--restore`.
 */
export interface ControlRunOptions {
  config: ControlConfig;
  apply: boolean;
  once: boolean;
  /** [HOST:]PORT for /metrics, or null. */
  metrics: string | null;
  /** "/" on a real host; a fixture tree in tests. */
  root: string;
  /** Tests replace move_pages(2). */
  syscalls?: Syscalls;
  /** Stops the loop when it aborts (tests); SIGTERM and SIGINT always do. */
  signal?: AbortSignal;
  /** One-line notices for the operator (stderr). */
  notice: (line: string) => void;
}

export function openLog(config: ControlConfig): EventLog {
  return config.log === null ? new EventLog(process.stderr) : EventLog.toFile(config.log);
}

/** `--restore`: puts back what a run that did not finish changed. Returns the settings restored. */
export function restoreJournal(config: ControlConfig, root: string, notice: (l: string) => void): number {
  if (!Journal.exists(config.journal)) {
    notice(`nothing to restore: no journal at ${config.journal}`);
    return 0;
  }
  const n = restoreOrExplain(() => HostWriter.restoreFrom(root, config.journal, openLog(config)));
  notice(`restored ${n} setting${n === 1 ? '' : 's'} from ${config.journal}`);
  return n;
}

/** A restore that left files unrestored is the host's answer: one line, exit 1, journal kept. */
function restoreOrExplain(restore: () => number): number {
  try {
    return restore();
  } catch (e) {
    if (e instanceof RestoreError) throw new InputError(e.message, 1);
    throw e;
  }
}

/** damon_vaddr's target filters (one stat scheme per process) came in 6.6. */
const DAMON_VADDR_MIN_KERNEL: [number, number] = [6, 6];

function chooseTracking(config: ControlConfig, caps: HostCapabilities, root: string): AccessTracking {
  const want = config.accessTracking;
  if (want === 'damon_vaddr') {
    const r = damonRefusals(
      new HostFiles(root),
      DAMON_VADDR_MIN_KERNEL,
      'access_tracking: damon_vaddr needs',
    );
    if (r.length > 0) throw new InputError(`refusing to start: ${r.join('; ')}`);
    return want;
  }
  if (want === 'page_idle' && !caps.pageIdle)
    throw new InputError(
      'access_tracking: page_idle asked, but /sys/kernel/mm/page_idle/bitmap is absent (a kernel without CONFIG_IDLE_PAGE_TRACKING); use soft_dirty or auto',
    );
  if (want === 'soft_dirty' && !caps.softDirty)
    throw new InputError('access_tracking: soft_dirty asked, but /proc/self/clear_refs is absent');
  if (want !== 'auto') return want;
  return caps.pageIdle ? 'page_idle' : 'soft_dirty';
}

function groupsExist(config: ControlConfig, root: string): void {
  config.cgroups.forEach((g, i) => {
    const procs = path.join(root, 'sys/fs/cgroup', g.path, 'cgroup.procs');
    if (!fs.existsSync(procs))
      throw new InputError(
        `cgroups[${i}].path: ${g.path}: no such cgroup (${path.join('/sys/fs/cgroup', g.path)})`,
      );
  });
}

/** Memory per node of each managed cgroup, from memory.numa_stat (bytes of charged kinds). */
function nodeBytesOf(backend: HostBackend, groups: string[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const cg of groups) {
    const nodes = new Map<number, number>();
    let text = '';
    try {
      text = backend.readCgroupFile(cg, 'memory.numa_stat');
    } catch {
      continue; // the group went away between steps
    }
    const stat = parseNumaStat(text);
    for (const key of ['anon', 'file'])
      for (const [node, bytes] of Object.entries(stat[key] ?? {}))
        nodes.set(Number(node), (nodes.get(Number(node)) ?? 0) + bytes);
    out.set(cg, nodes);
  }
  return out;
}

/**
 * DAMOS memcg filters match the pages charged to the cgroup itself, not to its children
 * (memory.numa_stat counts both): a group with children would never reach its ratio.
 */
function damosChildWarnings(config: ControlConfig, root: string): string[] {
  const f = new HostFiles(root);
  return config.cgroups.flatMap((g) => {
    const kids = f.subdirs(path.join('/sys/fs/cgroup', g.path));
    return kids.length === 0
      ? []
      : [
          `${g.path} has child cgroups (${kids.slice(0, 3).join(', ')}${kids.length > 3 ? ', …' : ''}): DAMOS memcg filters match only pages charged to ${g.path} itself, so its children's memory is not moved; list leaf groups`,
        ];
  });
}

/** Runs until stopped (or one period with `once`). Returns the exit status. */
export async function runControl(o: ControlRunOptions): Promise<number> {
  const { config, root } = o;
  const log = openLog(config);
  if (Journal.exists(config.journal)) {
    const n = restoreOrExplain(() => HostWriter.restoreFrom(root, config.journal, log));
    o.notice(
      `a previous run did not finish: restored ${n} setting${n === 1 ? '' : 's'} from ${config.journal}`,
    );
  }
  const strategy = STRATEGIES[config.strategy];
  const caps = probeHost(root, {
    // The kernel's DAMON tracks accesses for damos and damon_vaddr: no page_idle or clear_refs needed.
    needsTracking: config.strategy === 'userspace' && config.accessTracking !== 'damon_vaddr',
  });
  const refusals = [
    ...caps.refusals,
    ...(config.strategy === 'damos' ? damosRefusals(new HostFiles(root)) : []),
  ];
  if (refusals.length > 0) throw new InputError(`refusing to start: ${refusals.join('; ')}`);
  groupsExist(config, root);
  const tracking =
    config.strategy === 'userspace' ? chooseTracking(config, caps, root) : (caps.tracking ?? 'soft_dirty');
  const warnings = [
    ...caps.warnings,
    ...(config.strategy === 'damos' ? damosChildWarnings(config, root) : []),
  ];
  for (const w of warnings) {
    o.notice(`warning: ${w}`);
    log.event('warning', { message: w });
  }
  const managed = config.cgroups.map((g) => g.path);
  const allow = buildAllowList({ managedCgroups: managed, kdamonds: strategy.kdamonds(tracking) });
  const writer = new HostWriter({
    root,
    apply: o.apply,
    allow,
    journalFile: config.journal,
    log,
  });
  const real = o.syscalls ?? loadSyscalls();
  const dry = o.apply ? null : new DryRunSyscalls(real);
  let fastNodes = new Set<number>();
  // The tracker asks the backend for a process's VMAs; the backend is made after it.
  let vmaOf: (pid: number) => { startPage: number; pages: number }[] = () => [];
  const backend = new HostBackend({
    root,
    syscalls: dry ?? real,
    managed: config.cgroups.map((g) => ({ path: g.path, tierRatio: g.tierRatio })),
    tracking,
    writer,
    ...(tracking === 'damon_vaddr'
      ? {
          damon: new DamonVaddrTracker(new HostFiles(root), writer, (pid) => vmaOf(pid), {
            kdamond: KDAMOND,
            sampleUs: config.damos.sampleUs,
            aggrUs: config.damos.aggrUs,
            periodMs: config.periodMs,
            apply: o.apply,
          }),
        }
      : {}),
    onMove: (m) =>
      log.event('move', {
        cgroup: m.cgroup,
        pid: m.pid,
        direction: fastNodes.has(m.node) ? 'promote' : 'demote',
        to_node: m.node,
        pages: m.pages,
        ...(dry === null ? { moved: m.moved } : { would_move: dry.wouldMove }),
        failed: m.failed,
        errnos: Object.fromEntries(Object.entries(m.errnos).map(([k, v]) => [errnoName(Number(k)), v])),
        ...(m.result < 0 ? { refused: errnoName(-m.result) } : {}),
        dry_run: dry !== null,
        ms: Math.round(m.ms * 1000) / 1000,
      }),
  });
  vmaOf = (pid) => backend.mappings(pid);
  fastNodes = topTierNodes(backend.memoryTiers(), backend.cpuNodes());
  const clock = { nowMs: () => performance.now() };
  const controller = strategy.mover({ config, root, apply: o.apply, backend, writer, clock });
  const metrics = new ControlMetrics(!o.apply);
  const server = o.metrics === null ? null : await serveMetrics(metrics, parseMetricsAddress(o.metrics));

  let stopping: string | null = null;
  let wake: (() => void) | null = null;
  const stop = (why: string): void => {
    stopping ??= why;
    wake?.();
  };
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  o.signal?.addEventListener('abort', () => stop('aborted'));

  log.event('start', {
    dry_run: !o.apply,
    strategy: config.strategy,
    tracking: strategy.tracking(tracking),
    cgroups: config.cgroups.map((g) => ({ cgroup: g.path, 'memory.tier_ratio': g.tierRatio })),
    top_tier_nodes: [...fastNodes],
    allowed_writes: allow.describe(),
    period_ms: config.periodMs,
    bandwidth_MBps: config.bandwidthMBps,
  });
  o.notice(
    `${o.apply ? 'steering' : 'dry run (add --apply to act)'}: ${config.cgroups.map((g) => `${g.path} ${g.tierRatio}`).join(', ')}; ${config.strategy === 'damos' ? 'the kernel moves pages (DAMOS)' : `access tracking ${tracking}`}${server === null ? '' : `; metrics on http://${o.metrics}/metrics`}`,
  );
  const status = 0;
  try {
    for (const k of config.kernel) writer.write(k.path, k.value);
    controller.start();
    const afterStep = (): void => {
      const s = controller.stats;
      metrics.update(s, nodeBytesOf(backend, managed));
      log.event('step', {
        period: s.periods,
        dry_run: !o.apply,
        ms: Math.round(s.lastStepDurationMs * 1000) / 1000,
        cgroups: [...s.groups].map(([cg, g]) => ({
          cgroup: cg,
          current_bytes: g.currentPages * 4096,
          fast_share: g.currentPages > 0 ? Math.round((g.fastPages / g.currentPages) * 1e6) / 1e6 : 0,
          target: g.target,
          demoted: g.demoted,
          promoted: g.promoted,
          failed: g.failed,
        })),
        ...controller.stepLog?.(),
      });
    };
    if (o.once) {
      controller.step();
      afterStep();
    } else {
      while (stopping === null) {
        const before = controller.stats.periods;
        const waitMs = controller.poll();
        if (controller.stats.periods !== before) afterStep();
        if (stopping !== null) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, waitMs));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    }
  } catch (e) {
    log.event('error', { message: e instanceof Error ? e.message : String(e) });
    // A file or system call of the host that failed (EACCES, EIO…) is the host's answer, not
    // a bug: one line, exit 1, after the restore below.
    const sys = e as NodeJS.ErrnoException;
    if (!(e instanceof InputError) && typeof sys.code === 'string' && sys.syscall !== undefined)
      throw new InputError(`${sys.path ?? sys.syscall}: ${sys.code} (${sys.syscall})`, 1);
    throw e;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Settings first: closing the metrics server must not delay putting the host back.
    try {
      const restored = restoreOrExplain(() => writer.restore());
      log.event('stop', { why: stopping ?? (o.once ? 'once' : 'error'), restored, status });
      if (restored > 0) o.notice(`restored ${restored} setting${restored === 1 ? '' : 's'}`);
    } finally {
      backend.close();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    }
  }
  return status;
}
