#!/usr/bin/env node
// Compares two builds of numatier on the standard benchmark, paired: both benchmark hosts live
// in one process, and short slices of the two alternate, so that a shared machine's speed,
// which drifts by ±25 % over minutes, affects both alike. Not a test: it prints figures.
//
//   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && npm ci && npx tsc -p .)
//   npx tsc -p . && node scripts/bench-pair.mjs /tmp/base/dist dist [--rounds 20] [--tiering]
//
// Prints each build's median ns per access over the rounds, of wall and of CPU time, and the
// median and range of the per-round speed-up of the second build over the first. On the project's machine two copies
// of the same build give a median within 2 % of 1 and a range of about ±10 %.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import process from 'node:process';
import console from 'node:console';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '20' },
    tiering: { type: 'boolean', default: false },
    slice: { type: 'string', default: '5000000' },
    warmup: { type: 'string', default: '120000000' },
  },
});
if (positionals.length !== 2) {
  console.error('usage: node scripts/bench-pair.mjs BASE_DIST NEW_DIST [--rounds N] [--tiering]');
  process.exit(2);
}
const rounds = Number(values.rounds);
const slice = Number(values.slice);
const warmup = Number(values.warmup);

async function load(dist) {
  const url = (p) => pathToFileURL(resolve(dist, p)).href;
  const bench = await import(url('src/bench/standard.js'));
  const { buildRun } = await import(url('src/scenario/build.js'));
  const { resolveScenario } = await import(url('src/scenario/load.js'));
  const options = { seed: 1, tiering: values.tiering, warmupAccesses: 0, measureAccesses: 0 };
  const sc = resolveScenario(bench.benchScenario(options), process.cwd(), 'bench');
  return { sim: buildRun(sc, 1).sim, t: 0 };
}

// Simulated time advances in 1 ms steps, as in `numatier bench`.
function runTo(x, accesses) {
  while (x.sim.totalAccesses() < accesses) x.sim.runUntil((x.t += 1e6));
}

/** One slice of a build: ns per access of wall time and of this process's CPU time. */
function timeSlice(x) {
  const a0 = x.sim.totalAccesses();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  runTo(x, a0 + slice);
  const wall = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  const n = x.sim.totalAccesses() - a0;
  return { wall: wall / n, cpu: ((c.user + c.system) * 1e3) / n };
}

const median = (v) => {
  const s = [...v].sort((p, q) => p - q);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

const base = await load(positionals[0]);
const next = await load(positionals[1]);
const FOOTPRINT_PAGES = (16 * 2 ** 30) / 4096;
for (const x of [base, next]) runTo(x, FOOTPRINT_PAGES + warmup);
const wallBase = [];
const wallNext = [];
const cpuBase = [];
const cpuNext = [];
const speedup = [];
const cpuSpeedup = [];
for (let r = 0; r < rounds; r++) {
  // Alternate which build goes first, so neither always follows the other's cache footprint.
  let b;
  let n;
  if (r % 2 === 0) {
    b = timeSlice(base);
    n = timeSlice(next);
  } else {
    n = timeSlice(next);
    b = timeSlice(base);
  }
  wallBase.push(b.wall);
  wallNext.push(n.wall);
  cpuBase.push(b.cpu);
  cpuNext.push(n.cpu);
  speedup.push(b.wall / n.wall);
  cpuSpeedup.push(b.cpu / n.cpu);
}
const fmt = (ns) => `${ns.toFixed(2)} ns/access (${(1e3 / ns).toFixed(1)} M/s)`;
const range = (v) =>
  `median ${median(v).toFixed(3)}, range ${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}`;
console.log(`base ${fmt(median(wallBase))} wall, ${fmt(median(cpuBase))} CPU`);
console.log(`new  ${fmt(median(wallNext))} wall, ${fmt(median(cpuNext))} CPU`);
console.log(
  `speed-up of new over base: wall ${range(speedup)}; CPU ${range(cpuSpeedup)} over ${rounds} rounds`,
);
