// The guest side of test/e2e/control-damos-guest.test.ts: starts the tenant in its cgroup, runs
// `numatier control` with ratio.strategy damos — --apply for a fixed number of periods, then SIGTERM; --apply then SIGKILL, which leaves the kdamond running;
// --restore — and prints what the kernel's own files said as one JSON document. Waits are
// counted in controller periods and polls, not guest seconds (the guest's clock runs fast).
import { spawn } from 'node:child_process';
import * as common from '/e2e/guest-common.mjs';
import fs from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const CG = '/sys/fs/cgroup/tenant-a';
const CLI = 'dist/src/cli/main.js';
const CONFIG = '/e2e/control.yaml';
const VADDR_CONFIG = '/e2e/control-vaddr.yaml';
const LOG = '/e2e/control.log';
const JOURNAL = '/run/numatier/control-journal.json';
const HOT = '/e2e/hot-range';
const KD = '/sys/kernel/mm/damon/admin/kdamonds';
const [MAX_PERIODS, VADDR_MAX_PERIODS] = process.argv.slice(2).map(Number);
const CHARGED = ['anon', 'file'];
const out = {};

const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : null);
/** The settings numatier may change, and the kdamond it creates. */
const knobs = () => ({
  '/proc/sys/kernel/numa_balancing': read('/proc/sys/kernel/numa_balancing'),
  [`${KD}/nr_kdamonds`]: read(`${KD}/nr_kdamonds`),
  [`${KD}/0/state`]: read(`${KD}/0/state`),
});
const usage = () => common.usage(CG, CHARGED);
const events = () => common.events(LOG);
const { exited } = common;

const { tenant, hotStart, hotPages } = await common.startTenant(CG, HOT);
out.hot = { start: hotStart, pages: hotPages };
out.knobsBefore = knobs();
out.usageBefore = usage();

// 1. --apply for MAX_PERIODS periods, then SIGTERM. Not "until in the band": DAMOS's share
// falls in steps with stalls between them, and a run stopped at its first entry into the band
// ends next to its upper edge.
const ctl = spawn('node', [CLI, 'control', '--config', CONFIG, '--apply'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const ctlExit = exited(ctl);
let knobsDuring = null;
let schemes = null;
for (let polls = 0; polls < 40000; polls++) {
  await sleep(200);
  const steps = events().filter((e) => e.event === 'step');
  if (steps.length > 0 && knobsDuring === null) {
    knobsDuring = knobs();
    const s = `${KD}/0/contexts/0/schemes`;
    schemes = fs
      .readdirSync(s)
      .filter((d) => /^\d+$/.test(d))
      .map((d) => ({
        action: read(`${s}/${d}/action`),
        target_nid: read(`${s}/${d}/target_nid`),
        memcg_path: read(`${s}/${d}/filters/0/memcg_path`),
        target_metric: read(`${s}/${d}/quotas/goals/0/target_metric`),
      }));
  }
  if (steps.length >= MAX_PERIODS) break;
}
const hotByNode = () => common.hotByNode(tenant.pid, hotStart, hotPages);
const onNode = await hotByNode();
const vmstat = Object.fromEntries(
  fs
    .readFileSync('/proc/vmstat', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([k]) => /^(pgmigrate_success|pgdemote_|pgpromote_)/.test(k ?? ''))
    .map(([k, v]) => [k, Number(v)]),
);
out.apply = { knobsDuring, schemes, usageAtEnd: usage(), hotByNode: onNode, vmstat };
ctl.kill('SIGTERM');
out.apply.exit = await ctlExit;
out.apply.knobsAfter = knobs();
out.apply.journalAfter = fs.existsSync(JOURNAL);
out.apply.events = events().filter((e) => e.event !== 'write');
fs.rmSync(LOG, { force: true });

// 2. --apply, SIGKILL once it has run a period: the kdamond keeps running, the journal stays.
out.sigkill = await common.sigkillThenRestore({
  cli: CLI,
  config: CONFIG,
  log: LOG,
  journal: JOURNAL,
  knobs,
});

// 3. The user-space strategy, DAMON's vaddr monitoring telling it which pages are accessed:
// --apply for VADDR_MAX_PERIODS periods (the exchanges that bring hot pages back take longer
// than reaching the share), then SIGTERM.
fs.rmSync(LOG, { force: true });
const vaddr = spawn('node', [CLI, 'control', '--config', VADDR_CONFIG, '--apply'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const vaddrExit = exited(vaddr);
let vaddrDuring = null;
for (let polls = 0; polls < 40000; polls++) {
  await sleep(200);
  const steps = events().filter((e) => e.event === 'step');
  if (steps.length > 0 && vaddrDuring === null)
    vaddrDuring = { ...knobs(), operations: read(`${KD}/0/contexts/0/operations`) };
  if (steps.length >= VADDR_MAX_PERIODS) break;
}
out.vaddr = { during: vaddrDuring, usageAtEnd: usage(), hotByNode: await hotByNode() };
vaddr.kill('SIGTERM');
out.vaddr.exit = await vaddrExit;
out.vaddr.knobsAfter = knobs();
out.vaddr.journalAfter = fs.existsSync(JOURNAL);
out.vaddr.events = events().filter((e) => e.event !== 'write' && e.event !== 'move');

tenant.kill('SIGKILL');
process.stdout.write(`${JSON.stringify(out)}\n`);
