#!/usr/bin/env node
// Golden outputs for refactoring: runs the default scenario, the example and fixture
// scenarios, an sla sweep and every quick experiment into DIR, so that two builds can be
// compared file by file. A restructuring that claims to change nothing must leave every
// file byte-identical, except summary keys the new build adds.
//
//   node scripts/golden.mjs record DIR [--dist DIST]   (DIST defaults to ./dist)
//   node scripts/golden.mjs compare BASE_DIR NEW_DIR
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import process from 'node:process';
import console from 'node:console';
import { URL } from 'node:url';

const root = resolve(new URL('..', import.meta.url).pathname);
const [mode, a, b, ...rest] = process.argv.slice(2);

function usage() {
  process.stderr.write('usage: golden.mjs record DIR [--dist DIST] | golden.mjs compare BASE NEW\n');
  process.exit(2);
}

if (mode === 'record') {
  if (!a) usage();
  const args = [b, ...rest].filter((x) => x !== undefined);
  const distIdx = args.indexOf('--dist');
  const dist = resolve(distIdx >= 0 ? args[distIdx + 1] : join(root, 'dist'));
  const out = resolve(a);
  mkdirSync(out, { recursive: true });
  const cli = join(dist, 'src/cli/main.js');
  // A fixed path: the trace's name appears in the summary, and runs must compare equal.
  const trace = join(tmpdir(), 'numatier-golden-fixture.ntrace');
  const runs = [
    [
      'trace-import',
      [
        'trace',
        'import',
        join(root, 'test/fixtures/traces/small.lackey'),
        '--from',
        'lackey',
        '--out',
        trace,
      ],
    ],
    ['default', ['simulate', '--out', join(out, 'default'), '--json']],
    [
      'small',
      ['simulate', join(root, 'test/fixtures/scenarios/small.yaml'), '--out', join(out, 'small'), '--json'],
    ],
    [
      'trace-replay',
      [
        'simulate',
        join(root, 'examples/scenarios/trace-replay.yaml'),
        '--set',
        `vms[0].workload.trace=${trace}`,
        '--out',
        join(out, 'trace-replay'),
        '--json',
      ],
    ],
    [
      'sla-small',
      [
        'sla',
        join(root, 'test/fixtures/scenarios/small.yaml'),
        '--vm',
        'a',
        '--ratios',
        '0.25,0.5,1',
        '--json',
      ],
    ],
    ['experiments', ['experiment', 'run', 'all', '--quick', '--out', join(out, 'experiments'), '--json']],
  ];
  for (const [name, argv] of runs) {
    const r = spawnSync(process.execPath, [cli, ...argv], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    writeFileSync(join(out, `${name}.stdout`), r.stdout);
    writeFileSync(join(out, `${name}.status`), `${r.status}\n${r.stderr.replace(/\r[^\n]*/g, '')}`);
    process.stdout.write(`${name}: exit ${r.status}\n`);
  }
} else if (mode === 'compare') {
  if (!a || !b) usage();
  const files = (dir) => {
    const acc = [];
    const walk = (d) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else acc.push(relative(dir, p));
      }
    };
    walk(dir);
    return acc.sort();
  };
  const base = files(resolve(a));
  const next = new Set(files(resolve(b)));
  let bad = 0;
  for (const f of base) {
    if (!next.has(f)) {
      console.log(`missing in new: ${f}`);
      bad++;
      continue;
    }
    const x = readFileSync(join(a, f), 'utf8');
    const y = readFileSync(join(b, f), 'utf8');
    if (x === y) continue;
    const why = f.endsWith('.json') || f.endsWith('.stdout') ? jsonDifference(x, y) : 'bytes differ';
    if (why === null) continue;
    console.log(`${f}: ${why}`);
    bad++;
  }
  for (const f of next) if (!base.includes(f)) console.log(`new file (allowed): ${f}`);
  console.log(bad === 0 ? 'identical (apart from added keys)' : `${bad} file(s) differ`);
  process.exit(bad === 0 ? 0 : 1);
} else usage();

/** null when `y` equals `x` apart from object keys only `y` has; else where they first differ. */
function jsonDifference(x, y) {
  let px;
  let py;
  try {
    px = JSON.parse(x);
    py = JSON.parse(y);
  } catch {
    return 'bytes differ (not JSON)';
  }
  const walk = (u, v, path) => {
    if (typeof u !== typeof v || Array.isArray(u) !== Array.isArray(v) || (u === null) !== (v === null))
      return `${path}: ${JSON.stringify(u)?.slice(0, 80)} vs ${JSON.stringify(v)?.slice(0, 80)}`;
    if (Array.isArray(u)) {
      if (u.length !== v.length) return `${path}: length ${u.length} vs ${v.length}`;
      for (let i = 0; i < u.length; i++) {
        const d = walk(u[i], v[i], `${path}[${i}]`);
        if (d) return d;
      }
      return null;
    }
    if (u !== null && typeof u === 'object') {
      for (const k of Object.keys(u)) {
        if (!(k in v)) return `${path}.${k}: missing in new`;
        const d = walk(u[k], v[k], `${path}.${k}`);
        if (d) return d;
      }
      return null;
    }
    return u === v ? null : `${path}: ${JSON.stringify(u)} vs ${JSON.stringify(v)}`;
  };
  return walk(px, py, '$');
}
