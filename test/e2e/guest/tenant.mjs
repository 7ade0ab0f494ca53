// A tenant for the controller's end-to-end test, run in the guest: 96 MiB written once (cold)
// and 32 MiB written over and over (hot). It writes the hot buffer's page range, found as the
// pages /proc/self/maps gained when it was allocated, to the file given as its argument.
import fs from 'node:fs';
import { Buffer } from 'node:buffer';
import process from 'node:process';

const MiB = 1 << 20;
const PAGE = 4096;

function mapped() {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split(' ')[0]
        .split('-')
        .map((h) => parseInt(h, 16) / PAGE),
    );
}

/** Page ranges of `after` that no range of `before` covers. */
function gained(before, after) {
  let pieces = after.map(([a, b]) => [a, b]);
  for (const [c, d] of before)
    pieces = pieces.flatMap(([a, b]) =>
      d <= a || c >= b ? [[a, b]] : [...(a < c ? [[a, c]] : []), ...(d < b ? [[d, b]] : [])],
    );
  return pieces;
}

const cold = Buffer.alloc(96 * MiB);
const before = mapped();
const hot = Buffer.alloc(32 * MiB);
const pieces = gained(before, mapped()).sort((x, y) => y[1] - y[0] - (x[1] - x[0]));
for (let i = 0; i < cold.length; i += PAGE) cold[i] = 1;
for (let i = 0; i < hot.length; i += PAGE) hot[i] = 1;
const [start, end] = pieces[0];
fs.writeFileSync(`${process.argv[2]}.tmp`, `${start} ${end - start}\n`);
fs.renameSync(`${process.argv[2]}.tmp`, process.argv[2]);
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  for (let i = 0; i < hot.length; i += PAGE) hot[i] = (hot[i] + 1) & 255;
  Atomics.wait(nap, 0, 0, 20);
}
