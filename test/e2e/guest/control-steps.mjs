// The guest side of the controller's end-to-end test (test/e2e/control-guest.test.ts): starts
// the tenant in its cgroup, then runs `numatier control` four ways — a dry run, --apply until
// the fast share holds or 30 periods pass, then SIGTERM; --apply then SIGKILL; --restore — and
// prints what it saw as one JSON document. Waits are counted in controller periods and polls,
// not guest seconds: under load the guest's clock runs fast.
import { spawn, spawnSync } from 'node:child_process';
import * as common from '/e2e/guest-common.mjs';
import fs from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const CG = '/sys/fs/cgroup/tenant-a';
const CLI = 'dist/src/cli/main.js';
const CONFIG = '/e2e/control.yaml';
const LOG = '/tmp/control.log';
const JOURNAL = '/run/numatier/control-journal.json';
const HOT = '/tmp/hot-range';
const KNOBS = ['/proc/sys/kernel/numa_balancing', '/sys/kernel/mm/numa/demotion_enabled'];
const CHARGED = [
  'anon',
  'file',
  'kernel_stack',
  'pagetables',
  'sec_pagetables',
  'slab_reclaimable',
  'slab_unreclaimable',
];
const out = {};

const knobs = () => Object.fromEntries(KNOBS.map((k) => [k, fs.readFileSync(k, 'utf8').trim()]));
const usage = () => common.usage(CG, CHARGED);
const events = () => common.events(LOG);
const { exited } = common;

const { tenant, hotStart, hotPages } = await common.startTenant(CG, HOT);
out.hot = { start: hotStart, pages: hotPages };
out.knobsBefore = knobs();

// 1. Dry run: one period, nothing moves, no knob changes.
const usage0 = usage();
const dry = spawnSync('node', [CLI, 'control', '--config', CONFIG, '--once'], { encoding: 'utf8' });
out.dryRun = {
  status: dry.status,
  stderr: dry.stderr,
  usageBefore: usage0,
  usageAfter: usage(),
  knobsAfter: knobs(),
  moves: events().filter((e) => e.event === 'move'),
  journal: fs.existsSync(JOURNAL),
};
fs.rmSync(LOG, { force: true });

// 2. --apply until the share has held for 3 periods (plus one more), or 30 periods; then SIGTERM.
const ctl = spawn('node', [CLI, 'control', '--config', CONFIG, '--apply'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const ctlExit = exited(ctl);
let knobsDuring = null;
for (let polls = 0; polls < 20000; polls++) {
  await sleep(200);
  const steps = events().filter((e) => e.event === 'step');
  if (steps.length > 0 && knobsDuring === null) knobsDuring = knobs();
  const shares = steps.map((s) => s.cgroups.find((c) => c.cgroup === '/tenant-a')?.fast_share ?? NaN);
  const held = shares.length >= 4 && shares.slice(-4, -1).every((s) => Math.abs(s - 0.25) <= 0.03);
  if (held || steps.length >= 30) break;
}
const onNode = await common.hotByNode(tenant.pid, hotStart, hotPages);
out.apply = { knobsDuring, usageAtEnd: usage(), hotByNode: onNode };
ctl.kill('SIGTERM');
out.apply.exit = await ctlExit;
out.apply.knobsAfter = knobs();
out.apply.journalAfter = fs.existsSync(JOURNAL);
out.apply.events = events();
fs.rmSync(LOG, { force: true });

// 3. --apply, SIGKILL once it has written its settings: the journal stays; --restore restores.
out.sigkill = await common.sigkillThenRestore({
  cli: CLI,
  config: CONFIG,
  log: LOG,
  journal: JOURNAL,
  knobs,
});

tenant.kill('SIGKILL');
process.stdout.write(`${JSON.stringify(out)}\n`);
