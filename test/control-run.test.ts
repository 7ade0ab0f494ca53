import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  controlConfigJsonSchema,
  resolveControlConfig,
  type ControlConfig,
} from '../src/controller/config.js';
import { parseMetricsAddress } from '../src/controller/metrics.js';
import { restoreJournal, runControl } from '../src/controller/run.js';
import { buildAllowList } from '../src/controller/real/allow-list.js';
import { EventLog } from '../src/controller/real/event-log.js';
import { HostWriter } from '../src/controller/real/host-writer.js';
import { InputError } from '../src/util/errors.js';
import { FakeHost, TENANT_PAGES, TENANT_PID, tenantHost } from './real-host-support.js';

/**
 * `numatier control` end to end on a fake host (a file tree with a fake kernel answering
 * move_pages, test/real-host-support.ts): the config, dry run against --apply, the settings
 * held and restored, the journal a crash leaves, the refusals, the log and the metrics.
 */

const hosts: FakeHost[] = [];
after(() => hosts.forEach((h) => h.remove()));

const PID = TENANT_PID;
const PAGES = TENANT_PAGES;

function host(): FakeHost {
  const h = tenantHost();
  hosts.push(h);
  h.put('/proc/sys/kernel/numa_balancing', '1\n');
  return h;
}

function config(h: FakeHost, extra: Record<string, unknown> = {}): ControlConfig {
  return resolveControlConfig(
    {
      cgroups: [{ path: '/tenant', 'memory.tier_ratio': '1:3' }],
      ratio: { userspace: { period_ms: 5 } },
      kernel: { numa_balancing: 0, demotion_enabled: true },
      journal: path.join(h.root, 'state', 'journal.json'),
      log: path.join(h.root, 'state', 'control.jsonl'),
      ...extra,
    },
    'control.yaml',
  );
}

const read = (h: FakeHost, p: string): string => fs.readFileSync(h.at(p), 'utf8').trim();
const fastShare = (h: FakeHost): number => {
  let fast = 0;
  for (const pg of h.procs.get(PID)?.pages.values() ?? []) if (pg.node === 0) fast++;
  return fast / PAGES;
};
const events = (c: ControlConfig): { event: string; [k: string]: unknown }[] =>
  fs
    .readFileSync(c.log ?? '', 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });

describe('numatier control on a fake host', () => {
  it('a dry run moves nothing and writes no setting, and logs what it would do', async () => {
    const h = host();
    const c = config(h);
    const notices: string[] = [];
    const status = await runControl({
      config: c,
      apply: false,
      once: true,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      notice: (l) => notices.push(l),
    });
    assert.equal(status, 0);
    assert.equal(fastShare(h), 1);
    assert.equal(read(h, '/proc/sys/kernel/numa_balancing'), '1');
    assert.equal(read(h, '/sys/kernel/mm/numa/demotion_enabled'), 'false');
    assert.equal(fs.existsSync(c.journal), false);
    const ev = events(c);
    const moves = ev.filter((e) => e.event === 'move');
    assert.ok(moves.length > 0 && moves.every((m) => m.dry_run === true && m.direction === 'demote'));
    assert.ok(moves.reduce((n, m) => n + Number(m.would_move), 0) >= PAGES * 0.7);
    assert.ok(
      ev.some(
        (e) => e.event === 'write' && e.dry_run === true && e.path === '/proc/sys/kernel/numa_balancing',
      ),
    );
    assert.match(notices.join('\n'), /dry run/);
  });

  it('--apply reaches the ratio, holds its settings while running, and restores them when stopped', async () => {
    const h = host();
    const c = config(h);
    const stop = new AbortController();
    let during: string | null = null;
    const done = runControl({
      config: c,
      apply: true,
      once: false,
      metrics: null,
      root: h.root,
      syscalls: h.syscalls,
      signal: stop.signal,
      notice: () => {},
    });
    for (let i = 0; i < 400 && fastShare(h) > 0.26; i++) {
      await new Promise((r) => setTimeout(r, 5));
      during ??= fs.existsSync(c.journal) ? read(h, '/proc/sys/kernel/numa_balancing') : null;
    }
    stop.abort();
    assert.equal(await done, 0);
    assert.equal(during, '0', 'the setting was held');
    assert.ok(Math.abs(fastShare(h) - 0.25) <= 0.03, `fast share ${fastShare(h)}`);
    assert.equal(read(h, '/proc/sys/kernel/numa_balancing'), '1', 'restored');
    assert.equal(read(h, '/sys/kernel/mm/numa/demotion_enabled'), 'false', 'restored');
    assert.equal(fs.existsSync(c.journal), false);
    const ev = events(c);
    assert.equal(ev.at(-1)?.event, 'stop');
    assert.ok(ev.filter((e) => e.event === 'restore').length === 2);
    const steps = ev.filter((e) => e.event === 'step');
    assert.ok(steps.length >= 1);
  });

  it('a journal left by a crash is restored by --restore, or at the next start', async () => {
    for (const how of ['--restore', 'next start'] as const) {
      const h = host();
      const c = config(h);
      // A run killed after its first write: the journal is on disk, the setting still changed.
      const killed = new HostWriter({
        root: h.root,
        apply: true,
        allow: buildAllowList({ managedCgroups: ['/tenant'], kdamonds: [] }),
        journalFile: c.journal,
        log: new EventLog({ write: () => {} }),
      });
      killed.write('/proc/sys/kernel/numa_balancing', '0');
      assert.equal(read(h, '/proc/sys/kernel/numa_balancing'), '0');
      assert.ok(fs.existsSync(c.journal));
      const notices: string[] = [];
      if (how === '--restore')
        assert.equal(
          restoreJournal(c, h.root, (l) => notices.push(l)),
          1,
        );
      else
        await runControl({
          config: c,
          apply: false,
          once: true,
          metrics: null,
          root: h.root,
          syscalls: h.syscalls,
          notice: (l) => notices.push(l),
        });
      assert.equal(read(h, '/proc/sys/kernel/numa_balancing'), '1', how);
      assert.equal(fs.existsSync(c.journal), false, how);
      assert.match(notices.join('\n'), /restored 1 setting/);
      assert.equal(
        restoreJournal(c, h.root, () => {}),
        0,
        'nothing left to restore',
      );
    }
  });

  it('refuses a host with one tier, a missing cgroup and bad config fields, one line each', async () => {
    const one = new FakeHost([{ id: 0, cpu: true, tier: 4, frames: 1000 }], ['/tenant']);
    hosts.push(one);
    await assert.rejects(
      runControl({
        config: config(one),
        apply: false,
        once: true,
        metrics: null,
        root: one.root,
        syscalls: one.syscalls,
        notice: () => {},
      }),
      (e: unknown) => e instanceof InputError && /one memory tier/.test(e.message),
    );
    const h = host();
    const missing = config(h, { cgroups: [{ path: '/nope', 'memory.tier_ratio': '1:3' }] });
    await assert.rejects(
      runControl({
        config: missing,
        apply: false,
        once: true,
        metrics: null,
        root: h.root,
        syscalls: h.syscalls,
        notice: () => {},
      }),
      /cgroups\[0\]\.path: \/nope: no such cgroup/,
    );
    assert.throws(
      () => config(h, { cgroups: [{ path: '/', 'memory.tier_ratio': '1:3' }] }),
      /cgroups\[0\]\.path/,
    );
    assert.throws(
      () => config(h, { cgroups: [{ path: '/a', 'memory.tier_ratio': '1.7' }] }),
      /memory\.tier_ratio/,
    );
    assert.throws(
      () =>
        config(h, {
          cgroups: [
            { path: '/a', 'memory.tier_ratio': '1:3' },
            { path: '/a/b', 'memory.tier_ratio': '1:1' },
          ],
        }),
      /\/a\/b is inside \/a/,
    );
    assert.throws(() => config(h, { kernel: { numa_balancing: 7 } }), /kernel\.numa_balancing/);
    assert.throws(() => config(h, { colour: 'red' }), /colour/);
    assert.throws(() => parseMetricsAddress('99999'), /port from 1 to 65535/);
    assert.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseMetricsAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  });

  it('serves Prometheus metrics with the cgroup fast share, target and moves', async () => {
    const h = host();
    const c = config(h);
    const stop = new AbortController();
    const port = 20000 + (process.pid % 20000);
    const done = runControl({
      config: c,
      apply: true,
      once: false,
      metrics: `127.0.0.1:${port}`,
      root: h.root,
      syscalls: h.syscalls,
      signal: stop.signal,
      notice: () => {},
    });
    let body = '';
    for (
      let i = 0;
      i < 200 && !/numatier_pages_moved_total\{cgroup="\/tenant",direction="demote"\} [1-9]/.test(body);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
      body = await new Promise<string>((resolve) => {
        http
          .get(`http://127.0.0.1:${port}/metrics`, (res) => {
            let s = '';
            res.on('data', (d: Buffer) => (s += d.toString()));
            res.on('end', () => resolve(s));
          })
          .on('error', () => resolve(''));
      });
    }
    stop.abort();
    await done;
    assert.match(body, /numatier_fast_share_target\{cgroup="\/tenant"\} 0\.25/);
    assert.match(body, /numatier_fast_share\{cgroup="\/tenant"\} [0-9.]+/);
    assert.match(body, /numatier_cgroup_node_memory_bytes\{cgroup="\/tenant",node="1"\} [1-9]/);
    assert.match(body, /numatier_dry_run 0/);
    assert.match(body, /numatier_step_duration_seconds_count [1-9]/);
  });

  it('the published schema/control.schema.json is the one the config is checked with', () => {
    const published = JSON.parse(fs.readFileSync('schema/control.schema.json', 'utf8')) as unknown;
    assert.deepEqual(
      published,
      controlConfigJsonSchema(),
      'run `numatier schema --control > schema/control.schema.json`',
    );
  });
});
