import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NUMA_BALANCING_DEFAULTS,
  type TaskScanState,
  roundUpMask,
  taskNrScanWindows,
  taskScanMax,
  taskScanMin,
  taskScanStart,
  updateTaskScanPeriod,
} from '../src/host/numa-balancing/index.js';

const GiB_PAGES = 262144;

test('task_nr_scan_windows: RSS in 256 MB windows, rounded up, at least one', () => {
  assert.equal(taskNrScanWindows(0, 256), 1, 'empty RSS counts as one window');
  assert.equal(taskNrScanWindows(65536, 256), 1);
  assert.equal(taskNrScanWindows(65537, 256), 2);
  assert.equal(taskNrScanWindows(10 * GiB_PAGES, 256), 40);
  assert.equal(taskNrScanWindows(2 ** 34, 256), 2 ** 18, '64 TiB of RSS stays exact');
});

test('task_nr_scan_windows uses the power-of-two round_up even for other scan sizes (kernel quirk)', () => {
  // scan_size 100 MB = 25600 pages: round_up(25601, 25600) = 26624, 26624/25600 = 1.
  assert.equal(roundUpMask(25601, 25600), 26624);
  assert.equal(taskNrScanWindows(25601, 100), 1);
  assert.equal(roundUpMask(2 ** 33 + 1, 2 ** 16), 2 ** 33 + 2 ** 16);
});

test('task_scan_min: 1000 ms per window, floored at 100 ms with the defaults', () => {
  assert.equal(taskScanMin(0), 1000);
  assert.equal(taskScanMin(4 * 65536), 250);
  assert.equal(taskScanMin(10 * GiB_PAGES), 100, 'floor = 1000 / (2560 / 256)');
  assert.equal(
    taskScanMin(0, { ...NUMA_BALANCING_DEFAULTS, scan_size: 4096 }),
    1000,
    'scan_size >= 2560: one window',
  );
  // scan_size 1024: floor = 1000 / (2560 / 1024 = 2) = 500 beats 1000 / 10 windows.
  assert.equal(taskScanMin(10 * GiB_PAGES, { ...NUMA_BALANCING_DEFAULTS, scan_size: 1024 }), 500);
});

test('task_scan_max: 60 s per window, scaled up for shared numa_groups, never below min', () => {
  assert.equal(taskScanMax(0), 60000);
  assert.equal(taskScanMax(10 * GiB_PAGES), 1500);
  // 1500 · 4 · 301 / 401 = 4503.7
  assert.equal(
    taskScanMax(10 * GiB_PAGES, NUMA_BALANCING_DEFAULTS, { refcount: 4, shared: 300, private: 100 }),
    4503,
  );
  // A mostly-private group does not shrink smax.
  assert.equal(
    taskScanMax(10 * GiB_PAGES, NUMA_BALANCING_DEFAULTS, { refcount: 2, shared: 0, private: 1000 }),
    1500,
  );
  const t = { ...NUMA_BALANCING_DEFAULTS, scan_period_max: 50, scan_period_min: 1000 };
  assert.equal(taskScanMax(0, t), 1000, 'max(smin, smax)');
});

test('task_scan_start: task_scan_min, scaled by the group like task_scan_max', () => {
  assert.equal(taskScanStart(10 * GiB_PAGES), 100);
  assert.equal(
    taskScanStart(10 * GiB_PAGES, NUMA_BALANCING_DEFAULTS, { refcount: 4, shared: 300, private: 100 }),
    300,
  );
  assert.equal(taskScanStart(0, NUMA_BALANCING_DEFAULTS, { refcount: 1, shared: 0, private: 50 }), 1000);
});

function state(period: number, remote: number, local: number, failed = 0, max = 60000): TaskScanState {
  return {
    numa_scan_period: period,
    numa_scan_period_max: max,
    numa_faults_locality: [remote, local, failed],
  };
}

test('update_task_scan_period: idle or failed migrations double the period (locality kept)', () => {
  const p = state(1000, 5, 0);
  assert.equal(updateTaskScanPeriod(p, 0, 3, 100, 60000), true);
  assert.equal(p.numa_scan_period, 2000);
  assert.deepEqual(p.numa_faults_locality, [5, 0, 0], 'not cleared on this path');
  const f = state(40000, 1, 9, 2);
  assert.equal(updateTaskScanPeriod(f, 1, 9, 100, 60000), true);
  assert.equal(f.numa_scan_period, 60000, 'capped at numa_scan_period_max');
});

test('update_task_scan_period: mostly private faults slow scanning down', () => {
  const p = state(1000, 9, 1); // lr = 1
  assert.equal(updateTaskScanPeriod(p, 1, 9, 100, 60000), false); // ps = 9 → 2 slots of 100
  assert.equal(p.numa_scan_period, 1200);
  assert.deepEqual(p.numa_faults_locality, [0, 0, 0]);
  const q = state(1000, 9, 1);
  updateTaskScanPeriod(q, 3, 7, 100, 60000); // ps = 7 → slot 0 counts as 1
  assert.equal(q.numa_scan_period, 1100);
});

test('update_task_scan_period: mostly local (but shared) faults slow scanning down', () => {
  const p = state(995, 2, 8); // lr = 8 → 1 slot; period_slot = ⌈995/10⌉ = 100
  updateTaskScanPeriod(p, 9, 1, 100, 60000); // ps = 1
  assert.equal(p.numa_scan_period, 1095);
});

test('update_task_scan_period: remote private faults speed scanning up', () => {
  const p = state(1000, 7, 3); // lr = 3
  updateTaskScanPeriod(p, 5, 5, 100, 60000); // ps = 5 → -(7-5) slots
  assert.equal(p.numa_scan_period, 800);
  const q = state(150, 10, 0); // lr = 0, ps = 0 → -7 · 15 = -105 → 45 → clamped to min
  updateTaskScanPeriod(q, 1, 0, 100, 60000);
  assert.equal(q.numa_scan_period, 100);
  const r = state(30000, 1, 1);
  updateTaskScanPeriod(r, 0, 10, 100, 20000);
  assert.equal(r.numa_scan_period, 20000, 'clamped to task_scan_max');
});

test('update_task_scan_period: an unsigned underflow clamps to the maximum (kernel arithmetic)', () => {
  const p = state(5, 10, 0); // period_slot 1, diff -7: 5 - 7 wraps in unsigned int
  updateTaskScanPeriod(p, 1, 0, 0, 60000);
  assert.equal(p.numa_scan_period, 60000);
});
