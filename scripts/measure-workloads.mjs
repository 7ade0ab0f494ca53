#!/usr/bin/env node
// Measures the cost of each workload generator, in ns per generated access, on a 4 Mi-page
// (16 GiB) footprint, filling chunks the size the engine uses. Not a test: it prints figures.
//
//   npx tsc -p tsconfig.json && node scripts/measure-workloads.mjs [--accesses 20000000] [--chunk 4096]
//
// Each generator runs in its own child process (so V8 optimises it as it would in a run, without
// feedback from the others) and is timed in CPU time, best of --repeats, which keeps the figures
// steadier on a shared machine. The last row is a baseline that is not part of numatier: zipfian
// through a per-rank alias table (Vose) over all 4 Mi ranks, the textbook O(1) method, for
// comparison with the bucketed sampler.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import console from 'node:console';
import { Rng } from '../dist/src/util/rng.js';
import { createAccessStream } from '../dist/src/workloads/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ACCESSES = opt('accesses', 4_000_000);
const CHUNK = opt('chunk', 4096);
const REPEATS = opt('repeats', 10);
const CASE = opt('case', -1);
const FOOTPRINT = '16GiB'; // 4 Mi pages of 4 KiB

const cases = [
  ['uniform', { pattern: 'uniform', write_ratio: 0.3 }],
  ['uniform, 3 Mi pages (not 2^k)', { pattern: 'uniform', footprint: '12GiB', write_ratio: 0.3 }],
  ['zipfian θ=0.99', { pattern: 'zipfian', theta: 0.99, write_ratio: 0.3 }],
  ['zipfian θ=0.99, reads only', { pattern: 'zipfian', theta: 0.99 }],
  ['zipfian θ=0.5', { pattern: 'zipfian', theta: 0.5, write_ratio: 0.3 }],
  ['zipfian θ=1.2', { pattern: 'zipfian', theta: 1.2, write_ratio: 0.3 }],
  ['zipfian θ=0.99, rank order', { pattern: 'zipfian', theta: 0.99, scatter: false, write_ratio: 0.3 }],
  ['zipfian θ=0.99, 3 Mi pages', { pattern: 'zipfian', footprint: '12GiB', theta: 0.99, write_ratio: 0.3 }],
  [
    'hotset 10%/90%, moving',
    {
      pattern: 'hotset',
      hot_fraction: 0.1,
      hot_access_share: 0.9,
      shift_every_accesses: 1_000_000,
      shift_pages: 4096,
      write_ratio: 0.3,
    },
  ],
  ['sequential', { pattern: 'sequential', stride_pages: 1, write_ratio: 0.3 }],
  [
    'phases (uniform / zipfian)',
    {
      pattern: 'phases',
      repeat: true,
      write_ratio: 0.3,
      phases: [
        { accesses: 1_000_000, pattern: 'uniform' },
        { accesses: 1_000_000, pattern: 'zipfian', theta: 0.99 },
      ],
    },
  ],
  ['zipfian θ=0.99, ramp-up', { pattern: 'zipfian', theta: 0.99, write_ratio: 0.3, ramp_up_accesses: 1e12 }],
];

/** Best-of-REPEATS ns per access for `fill(buf, n)` over ACCESSES accesses. */
function time(fill) {
  const buf = new Int32Array(CHUNK);
  let sink = 0;
  const run = (count) => {
    let done = 0;
    while (done < count) {
      const got = fill(buf, CHUNK);
      if (got === 0) throw new Error('stream ended');
      sink ^= buf[got - 1];
      done += got;
    }
    return done;
  };
  run(Math.min(ACCESSES, 2_000_000)); // warm-up: let V8 optimise the loops
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const c0 = process.cpuUsage();
    const done = run(ACCESSES);
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1e3) / done);
  }
  return { ns: best, sink };
}

if (CASE >= 0) {
  // Child: measure one case, print [name, ns, build ms] as JSON.
  let row;
  if (CASE < cases.length) {
    const [name, spec] = cases[CASE];
    const t0 = performance.now();
    const stream = createAccessStream({ footprint: FOOTPRINT, ...spec }, new Rng(42).fork(name));
    const buildMs = performance.now() - t0;
    row = [name, time((buf, n) => stream.fill(buf, n)).ns, buildMs];
  } else {
    row = baseline();
  }
  console.log(JSON.stringify(row));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows = [];
  for (let i = 0; i <= cases.length; i++) {
    const out = execFileSync(process.execPath, [self, ...args, '--case', String(i)], { encoding: 'utf8' });
    rows.push(JSON.parse(out));
  }
  console.log(
    `node ${process.version}, footprint 4 Mi pages, chunks of ${CHUNK}, best of ${REPEATS} × ${ACCESSES} accesses, CPU time`,
  );
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'generator'.padEnd(w)}  ns/access  M accesses/s  build ms`);
  for (const [name, ns, buildMs] of rows) {
    console.log(
      `${name.padEnd(w)}  ${ns.toFixed(2).padStart(9)}  ${(1e3 / ns).toFixed(1).padStart(12)}  ${buildMs.toFixed(1).padStart(8)}`,
    );
  }
}

/** Baseline: Walker/Vose alias table with one column per rank, rank order, reads only. */
function baseline() {
  const n = 4 * 1024 * 1024;
  const theta = 0.99;
  const t0 = performance.now();
  const table = aliasPerRank(n, theta);
  const buildMs = performance.now() - t0;
  const st = new Rng(42).fork('baseline').state;
  const { ns } = time((buf, count) => {
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    for (let i = 0; i < count; i++) {
      let m = Math.imul(s1, 5);
      const r1 = Math.imul((m << 7) | (m >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const r2 = Math.imul((m << 7) | (m >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const c = r1 >>> 10; // n = 2^22 columns
      const keep = ((r2 >>> 1) - table[2 * c]) >> 31;
      const a = table[2 * c + 1];
      buf[i] = (a ^ ((c ^ a) & keep)) << 1;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return count;
  });
  return ['baseline: zipfian θ=0.99, per-rank alias table (32 MiB), reads only', ns, buildMs];
}

/** Interleaved [threshold (31-bit), alias] per rank, Vose's construction. */
function aliasPerRank(n, theta) {
  const q = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) sum += q[r] = Math.pow(r + 1, -theta);
  for (let r = 0; r < n; r++) q[r] = (q[r] / sum) * n;
  const table = new Int32Array(2 * n);
  const work = new Int32Array(n);
  let ns = 0;
  let nl = n;
  for (let r = 0; r < n; r++) {
    if (q[r] < 1) work[ns++] = r;
    else work[--nl] = r;
  }
  while (ns > 0 && nl < n) {
    const s = work[--ns];
    const l = work[nl];
    table[2 * s] = Math.floor(q[s] * 2 ** 31);
    table[2 * s + 1] = l;
    q[l] = q[l] + q[s] - 1;
    if (q[l] < 1) {
      nl++;
      work[ns++] = l;
    }
  }
  while (ns > 0) {
    const s = work[--ns];
    table[2 * s] = 2 ** 31 - 1;
    table[2 * s + 1] = s;
  }
  while (nl < n) {
    const s = work[nl++];
    table[2 * s] = 2 ** 31 - 1;
    table[2 * s + 1] = s;
  }
  return table;
}
