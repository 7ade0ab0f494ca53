import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CgroupSpec } from '../src/host/cgroups.js';
import { directReclaim, proactiveReclaim } from '../src/host/reclaim.js';
import { VM } from '../src/host/vmstat.js';
import { smallHost, touch } from './host-support.js';

/**
 * What the kernel showed in the differential suite (docs/kernel-diff.md), on small hosts:
 * /proc/vmstat leaves cgroup reclaim's pgscan_/pgsteal_<reclaimer> out (mm/vmscan.c
 * shrink_inactive_list(): "if (!cgroup_reclaim(sc)) __count_vm_events(item, ...)"), and
 * memory.reclaim asks for a quarter of what is missing at a time (mm/memcontrol.c
 * memory_reclaim(), 6.9+), so its later calls swap out pages its earlier calls demoted.
 */

const group: CgroupSpec = { path: '/g', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 };

/** One node with swap, one group /g whose task has written 2048 pages. */
function oneGroupHost(): ReturnType<typeof smallHost> {
  const host = smallHost({
    nodes: [{ pages: 8192, cpu: true }],
    cgroups: [group],
    spaces: [{ pages: 2048, memcg: 1 }],
    swapPages: 8192,
  });
  touch(host, 0, 0, 2048, true);
  return host;
}

test('cgroup reclaim counts pgscan_/pgsteal_proactive in memory.stat only; _anon in both', () => {
  const host = oneGroupHost();
  const got = proactiveReclaim(host, 1, 512);
  const v = host.vmstat;
  assert.ok(got >= 512, `reclaimed ${got}`);
  assert.equal(v.memcg(1, VM.pgsteal_proactive), got);
  assert.ok(v.memcg(1, VM.pgscan_proactive) >= got);
  assert.equal(v.global(VM.pgsteal_proactive), 0, '/proc/vmstat');
  assert.equal(v.global(VM.pgscan_proactive), 0, '/proc/vmstat');
  assert.equal(v.node(0, VM.pgsteal_proactive), 0, 'nodeN/vmstat');
  assert.equal(v.global(VM.pgsteal_anon), got, 'pgsteal_anon is global whoever reclaims');
  assert.equal(v.global(VM.pswpout), got);
});

test('global reclaim counts the reclaimer in /proc/vmstat too', () => {
  const host = oneGroupHost();
  const got = directReclaim(host, Int32Array.of(0), -1);
  assert.ok(got > 0);
  assert.equal(host.vmstat.global(VM.pgsteal_direct), got);
  assert.equal(host.vmstat.memcg(1, VM.pgsteal_direct), got);
});

test('memory.reclaim on a tiered host: demotes, then swaps out part of what it demoted', () => {
  const host = smallHost({
    nodes: [
      { pages: 16384, cpu: true, preferred: [1] },
      { pages: 16384, cpu: false },
    ],
    cgroups: [group],
    spaces: [{ pages: 4096, memcg: 1 }],
    swapPages: 16384,
    demotionEnabled: true,
  });
  touch(host, 0, 0, 4096, true);
  const got = proactiveReclaim(host, 1, 1024);
  const v = host.vmstat;
  const demoted = v.memcg(1, VM.pgdemote_proactive);
  const swapped = v.global(VM.pswpout);
  assert.ok(got >= 1024 && got < 1024 + 4 * 32, `reclaimed ${got}: the request, a few batches over at most`);
  assert.equal(got, demoted + swapped, 'what was reclaimed was demoted or swapped out');
  assert.ok(demoted > swapped && swapped > 0, `demoted ${demoted}, swapped ${swapped}`);
  // The swapped pages are ones already demoted: node 0 lost only the demoted pages.
  assert.equal(host.memcgNodePages(1, 0), 4096 - demoted);
  assert.equal(host.memcgNodePages(1, 1), demoted - swapped);
});
