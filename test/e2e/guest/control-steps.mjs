// The guest side of the controller's end-to-end test (test/e2e/control-guest.test.ts): starts
// the tenant in its cgroup, then runs `numatier control` four ways — a dry run, --apply until
// the fast share holds or 30 periods pass, then SIGTERM; --apply then SIGKILL; --restore — and
// prints what it saw as one JSON document. Waits are counted in controller periods and polls,
// not guest seconds: under load the guest's clock runs fast.
import { spawn, spawnSync } from 'node:child_process';
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
/** memory.numa_stat's charged bytes per node and memory.current, read here, not by numatier. */
function usage() {
  const nodes = {};
  for (const line of fs.readFileSync(`${CG}/memory.numa_stat`, 'utf8').split('\n')) {
    const [key, ...cols] = line.trim().split(/\s+/);
    if (!CHARGED.includes(key)) continue;
    for (const c of cols) {
      const m = /^N(\d+)=(\d+)$/.exec(c);
      if (m) nodes[m[1]] = (nodes[m[1]] ?? 0) + Number(m[2]);
    }
  }
  return { nodes, current: Number(fs.readFileSync(`${CG}/memory.current`, 'utf8').trim()) };
}
const events = () =>
  fs.existsSync(LOG)
    ? fs
        .readFileSync(LOG, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
    : [];
const exited = (child) =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

fs.mkdirSync(CG);
// The tenant joins the group before exec: charges stay where they were made.
const tenant = spawn(
  'sh',
  [
    '-c',
    `echo $$ > ${CG}/cgroup.procs && exec node --max-old-space-size=32 --max-semi-space-size=1 /e2e/tenant.mjs ${HOT}`,
  ],
  {
    stdio: 'inherit',
  },
);
for (let i = 0; i < 2000 && !fs.existsSync(HOT); i++) await sleep(100);
const [hotStart, hotPages] = fs.readFileSync(HOT, 'utf8').trim().split(' ').map(Number);
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
const q = await import('/app/dist/src/controller/real/syscalls.js');
const sys = q.loadSyscalls();
const pages = new Float64Array(hotPages);
for (let i = 0; i < hotPages; i++) pages[i] = hotStart + i;
const status = new Int32Array(hotPages);
sys.movePages(tenant.pid, pages, hotPages, null, status);
const onNode = {};
for (const s of status) onNode[s] = (onNode[s] ?? 0) + 1;
out.apply = { knobsDuring, usageAtEnd: usage(), hotByNode: onNode };
ctl.kill('SIGTERM');
out.apply.exit = await ctlExit;
out.apply.knobsAfter = knobs();
out.apply.journalAfter = fs.existsSync(JOURNAL);
out.apply.events = events();
fs.rmSync(LOG, { force: true });

// 3. --apply, SIGKILL once it has written its settings: the journal stays; --restore restores.
const killed = spawn('node', [CLI, 'control', '--config', CONFIG, '--apply'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const killedExit = exited(killed);
for (let polls = 0; polls < 20000 && !events().some((e) => e.event === 'step'); polls++) await sleep(200);
killed.kill('SIGKILL');
out.sigkill = { exit: await killedExit, journal: fs.existsSync(JOURNAL), knobsAfterKill: knobs() };
const restore = spawnSync('node', [CLI, 'control', '--config', CONFIG, '--restore'], { encoding: 'utf8' });
out.sigkill.restore = {
  status: restore.status,
  stderr: restore.stderr,
  knobs: knobs(),
  journal: fs.existsSync(JOURNAL),
};

tenant.kill('SIGKILL');
process.stdout.write(`${JSON.stringify(out)}\n`);
