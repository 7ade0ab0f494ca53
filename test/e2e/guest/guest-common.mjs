// What the guest sides of the controller's end-to-end tests share (copied into the guest as
// /e2e/guest-common.mjs): the tenant, the kernel's own view of its memory, the controller's log.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** memory.numa_stat's bytes per node of the given kinds, and memory.current: the kernel's view. */
export function usage(cg, kinds) {
  const nodes = {};
  for (const line of fs.readFileSync(`${cg}/memory.numa_stat`, 'utf8').split('\n')) {
    const [key, ...cols] = line.trim().split(/\s+/);
    if (!kinds.includes(key)) continue;
    for (const c of cols) {
      const m = /^N(\d+)=(\d+)$/.exec(c);
      if (m) nodes[m[1]] = (nodes[m[1]] ?? 0) + Number(m[2]);
    }
  }
  return { nodes, current: Number(fs.readFileSync(`${cg}/memory.current`, 'utf8').trim()) };
}

/** The controller's JSON-lines log, as events. */
export const events = (log) =>
  fs.existsSync(log)
    ? fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
    : [];

export const exited = (child) =>
  new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

/**
 * Starts the tenant (guest/tenant.mjs) in a new cgroup `cg` and waits for it to write its hot
 * buffer's page range to `hotFile`. It joins the group before exec: charges stay where made.
 */
export async function startTenant(cg, hotFile) {
  fs.mkdirSync(cg);
  const tenant = spawn(
    'sh',
    [
      '-c',
      `echo $$ > ${cg}/cgroup.procs && exec node --max-old-space-size=32 --max-semi-space-size=1 /e2e/tenant.mjs ${hotFile}`,
    ],
    { stdio: 'inherit' },
  );
  for (let i = 0; i < 2000 && !fs.existsSync(hotFile); i++) await sleep(100);
  const [hotStart, hotPages] = fs.readFileSync(hotFile, 'utf8').trim().split(' ').map(Number);
  return { tenant, hotStart, hotPages };
}

/** The hot buffer's pages per node, from a move_pages(2) query through numatier's FFI. */
export async function hotByNode(pid, hotStart, hotPages) {
  const { loadSyscalls } = await import('/app/dist/src/controller/real/syscalls.js');
  const pages = new Float64Array(hotPages);
  for (let i = 0; i < hotPages; i++) pages[i] = hotStart + i;
  const status = new Int32Array(hotPages);
  loadSyscalls().movePages(pid, pages, hotPages, null, status);
  const onNode = {};
  for (const s of status) onNode[s] = (onNode[s] ?? 0) + 1;
  return onNode;
}

/**
 * `control --config CONFIG --apply`, SIGKILL once it has logged a period, then `--restore`:
 * what the kill left (exit, journal, settings) and what the restore did.
 */
export async function sigkillThenRestore({ cli, config, log, journal, knobs }) {
  const killed = spawn('node', [cli, 'control', '--config', config, '--apply'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const killedExit = exited(killed);
  for (let polls = 0; polls < 20000 && !events(log).some((e) => e.event === 'step'); polls++)
    await sleep(200);
  killed.kill('SIGKILL');
  const out = { exit: await killedExit, journal: fs.existsSync(journal), knobsAfterKill: knobs() };
  const restore = spawnSync('node', [cli, 'control', '--config', config, '--restore'], { encoding: 'utf8' });
  out.restore = {
    status: restore.status,
    stderr: restore.stderr,
    knobs: knobs(),
    journal: fs.existsSync(journal),
  };
  return out;
}
