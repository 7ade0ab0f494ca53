import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InputError } from '../src/util/errors.js';
import {
  WeightedInterleaveWeights,
  kstrtobool,
  kstrtou8,
  reduceInterleaveWeights,
} from '../src/host/mempolicy-weights.js';
import { weightedInterleaveNid } from '../src/host/mempolicy-interleave.js';

const ce3 = JSON.parse(
  readFileSync(new URL('../../test/fixtures/kernel-ce3-mempolicy.json', import.meta.url), 'utf8'),
) as {
  auto_weights: { rows: { bw: number[]; raw?: number[]; weights: number[] }[] };
  sysfs: { node0_default: string; auto_values: string[] };
};

for (const row of ce3.auto_weights.rows) {
  test(`CE-3 auto weights bw=${JSON.stringify(row.bw)} -> ${JSON.stringify(row.weights)}`, () => {
    assert.deepEqual(reduceInterleaveWeights(row.bw), row.weights);
    if (row.raw) {
      // raw/gcd = weights: the row's raw values are proportional to the reduced ones.
      const k = row.raw[0] / row.weights[0];
      assert.deepEqual(
        row.weights.map((w) => w * k),
        row.raw,
      );
    }
  });
}

test('auto weights: 32·bw wraps at 32 bits as the kernel unsigned int does', () => {
  // 2^27 · 32 = 2^32 wraps to 0, which is not > sum, so that node gets 1.
  assert.deepEqual(reduceInterleaveWeights([2 ** 27, 1]), [1, 1]);
  assert.throws(() => reduceInterleaveWeights([-1]), RangeError);
});

test('sysfs node files: default 1, writes 1..255, 0 and junk refused with EINVAL, write turns auto off', () => {
  const w = new WeightedInterleaveWeights(4, [0, 1, 2, 3]);
  assert.equal(w.readNode(0), ce3.sysfs.node0_default);
  assert.equal(w.readAuto(), ce3.sysfs.auto_values[0]);
  w.writeNode(2, '7\n');
  assert.equal(w.readNode(2), '7\n');
  assert.equal(w.readAuto(), ce3.sysfs.auto_values[1]);
  for (const bad of ['0', '0\n', '', '\n', '256', '-1', ' 3', '3 ', 'x', '08']) {
    assert.throws(
      () => w.writeNode(1, bad),
      (e: unknown) => e instanceof InputError && /weighted_interleave\/node1: .*EINVAL/.test(e.message),
      JSON.stringify(bad),
    );
  }
  assert.equal(w.readNode(1), '1\n');
  assert.throws(() => w.writeNode(4, '1'), /node4: no such file/);
});

test('kstrtou8 follows base-0 parsing', () => {
  assert.equal(kstrtou8('255'), 255);
  assert.equal(kstrtou8('+12'), 12);
  assert.equal(kstrtou8('0x1f'), 31);
  assert.equal(kstrtou8('017'), 15);
  assert.equal(kstrtou8('0'), 0);
  assert.equal(kstrtou8('5\n'), 5);
  assert.equal(kstrtou8('5\n\n'), null);
  assert.equal(kstrtou8('0x'), null);
  assert.equal(kstrtou8('0x100'), null);
});

test('kstrtobool accepts the kernel spellings', () => {
  for (const t of ['1', 'y', 'Yes', 'true', 'T', 'on', 'ON\n']) assert.equal(kstrtobool(t), true, t);
  for (const f of ['0', 'n', 'No', 'false', 'F', 'off', 'oF']) assert.equal(kstrtobool(f), false, f);
  for (const bad of ['', 'o', 'x', '2']) assert.equal(kstrtobool(bad), null, bad);
});

test('auto mode derives weights from reported bandwidth; manual writes stop that', () => {
  const w = new WeightedInterleaveWeights(3, [0, 1, 2]);
  assert.throws(() => w.writeAuto('true'), /ENODEV/);
  w.setNodeBandwidth(0, 204800, 300000); // min(read, write)
  w.setNodeBandwidth(1, 65536, 65536);
  w.setNodeBandwidth(2, 70000, 65536);
  assert.deepEqual(Array.from(w.table), [19, 6, 6]);
  const before = w.table;
  w.writeNode(1, '2');
  assert.deepEqual(Array.from(before), [19, 6, 6], 'old snapshot unchanged');
  w.setNodeBandwidth(2, 1, 1); // recorded, but manual mode keeps the weights
  assert.deepEqual(Array.from(w.table), [19, 2, 6]);
  w.writeAuto('false');
  assert.deepEqual(Array.from(w.table), [19, 2, 6]);
  w.writeAuto('1');
  assert.equal(w.auto, true);
  assert.deepEqual(Array.from(w.table), reduceInterleaveWeights([204800, 65536, 1]));
  assert.throws(() => w.writeAuto('maybe'), /EINVAL/);
});

test('auto weights leave memoryless nodes at 1 and feed weighted_interleave_nid', () => {
  const w = new WeightedInterleaveWeights(3, [0, 2]);
  w.setNodeBandwidth(0, 300000, 300000);
  w.setNodeBandwidth(2, 100000, 100000);
  assert.deepEqual(Array.from(w.table), [3, 1, 1]);
  const seq = [0, 1, 2, 3, 4].map((ilx) => weightedInterleaveNid([0, 2], w.table, ilx));
  assert.deepEqual(seq, [0, 0, 0, 2, 0]);
});
