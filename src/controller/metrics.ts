import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InputError } from '../util/errors.js';
import type { UserspaceControllerStats } from './controller.js';

/**
 * What `numatier control --metrics ADDR` serves at /metrics, in Prometheus' text format: per
 * managed cgroup its fast share and target, memory per node, pages moved by direction; move
 * failures by errno; the step's duration. Counters are fed by the difference between two
 * readings of the controller's cumulative stats, so this file keeps no second count.
 */

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  19: 'ENODEV',
  22: 'EINVAL',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

export class ControlMetrics {
  readonly registry = new Registry();
  private readonly fastShare: Gauge;
  private readonly target: Gauge;
  private readonly memory: Gauge;
  private readonly moved: Counter;
  private readonly failures: Counter;
  private readonly steps: Histogram;
  private readonly seenMoved = new Map<string, { demoted: number; promoted: number }>();
  private readonly seenFailed = new Map<number, number>();

  constructor(dryRun: boolean) {
    const registers = [this.registry];
    new Gauge({
      name: 'numatier_dry_run',
      help: '1 when moves are only queried (no --apply), 0 when the controller acts',
      registers,
    }).set(dryRun ? 1 : 0);
    this.fastShare = new Gauge({
      name: 'numatier_fast_share',
      help: "The cgroup's fast-tier pages over memory.current, as read at the last step",
      labelNames: ['cgroup'],
      registers,
    });
    this.target = new Gauge({
      name: 'numatier_fast_share_target',
      help: 'The fast share the config asks for the cgroup (memory.tier_ratio)',
      labelNames: ['cgroup'],
      registers,
    });
    this.memory = new Gauge({
      name: 'numatier_cgroup_node_memory_bytes',
      help: "The cgroup's charged memory on each node (memory.numa_stat), bytes",
      labelNames: ['cgroup', 'node'],
      registers,
    });
    this.moved = new Counter({
      name: 'numatier_pages_moved_total',
      help: 'Pages moved (in a dry run: that would have moved) by the controller, by direction',
      labelNames: ['cgroup', 'direction'],
      registers,
    });
    this.failures = new Counter({
      name: 'numatier_move_failures_total',
      help: 'Pages move_pages(2) did not move, by errno',
      labelNames: ['errno'],
      registers,
    });
    this.steps = new Histogram({
      name: 'numatier_step_duration_seconds',
      help: 'Time one controller period took: reading the cgroups, scanning pages, moving them',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** After each step: the controller's stats and each cgroup's memory.numa_stat bytes per node. */
  update(stats: UserspaceControllerStats, nodeBytes: Map<string, Map<number, number>>): void {
    for (const [cg, g] of stats.groups) {
      this.fastShare.set({ cgroup: cg }, g.currentPages > 0 ? g.fastPages / g.currentPages : 0);
      this.target.set({ cgroup: cg }, g.target);
      const seen = this.seenMoved.get(cg) ?? { demoted: 0, promoted: 0 };
      this.moved.inc({ cgroup: cg, direction: 'demote' }, g.demoted - seen.demoted);
      this.moved.inc({ cgroup: cg, direction: 'promote' }, g.promoted - seen.promoted);
      this.seenMoved.set(cg, { demoted: g.demoted, promoted: g.promoted });
    }
    for (const [errno, n] of stats.failedByErrno) {
      this.failures.inc({ errno: errnoName(errno) }, n - (this.seenFailed.get(errno) ?? 0));
      this.seenFailed.set(errno, n);
    }
    for (const [cg, nodes] of nodeBytes)
      for (const [node, bytes] of nodes) this.memory.set({ cgroup: cg, node: String(node) }, bytes);
    this.steps.observe(stats.lastStepDurationMs / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** "127.0.0.1:9464", ":9464" or "9464" → host and port; loopback unless a host is named. */
export function parseMetricsAddress(addr: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[^:]*):)?(\d+)$/.exec(addr.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputError(
      `--metrics ${addr}: expected [HOST:]PORT with a port from 1 to 65535, e.g. 127.0.0.1:9464`,
    );
  const host = m[1] === undefined || m[1] === '' ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

/** Serves /metrics; resolves once listening. */
export function serveMetrics(
  metrics: ControlMetrics,
  addr: { host: string; port: number },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('numatier control serves /metrics only\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new InputError(`--metrics ${addr.host}:${addr.port}: cannot listen (${e.code ?? e.message})`)),
    );
    server.listen(addr.port, addr.host, () => resolve(server));
  });
}
