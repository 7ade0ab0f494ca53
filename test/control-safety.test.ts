import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildAllowList, isNormalPath, RESTORABLE } from '../src/controller/real/allow-list.js';
import { EventLog } from '../src/controller/real/event-log.js';
import { ControlRefusal, HostWriter, RestoreError } from '../src/controller/real/host-writer.js';
import { Journal } from '../src/controller/real/journal.js';
import { InputError } from '../src/util/errors.js';

/**
 * The safety layer of `numatier control`: the allow-list, the journal of originals, the writer that
 * refuses, dry-runs and restores, and the JSON-lines log. A temp directory plays the host's `/`.
 */

const NB = '/proc/sys/kernel/numa_balancing';
const RATE = '/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps';
const DEMOTION = '/sys/kernel/mm/numa/demotion_enabled';
const RECLAIM = '/sys/fs/cgroup/tenant-a/memory.reclaim';
const CLEAR_REFS = '/proc/1234/clear_refs';
const KD_STATE = '/sys/kernel/mm/damon/admin/kdamonds/0/state';
const KD_OPS = '/sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/operations';
const RESTORABLE_FILES = [NB, RATE, DEMOTION, KD_STATE, KD_OPS];

const ORIGINALS: Record<string, string> = {
  [NB]: '1\n',
  [RATE]: '65536\n',
  [DEMOTION]: 'false\n',
  [RECLAIM]: '',
  [CLEAR_REFS]: '',
  [KD_STATE]: 'off\n',
  [KD_OPS]: 'vaddr\n',
};

const temps: string[] = [];
after(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

interface Host {
  dir: string;
  root: string;
  journalFile: string;
  read(path: string): string;
  set(path: string, text: string): void;
}

function makeHost(originals: Record<string, string> = ORIGINALS): Host {
  const dir = mkdtempSync(join(tmpdir(), 'numatier-safety-'));
  temps.push(dir);
  const root = join(dir, 'host');
  const host: Host = {
    dir,
    root,
    journalFile: join(dir, 'run', 'numatier', 'journal.json'),
    read: (path) => readFileSync(join(root, path), 'utf8'),
    set: (path, text) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    },
  };
  for (const [path, text] of Object.entries(originals)) host.set(path, text);
  return host;
}

const allow = () => buildAllowList({ managedCgroups: ['/tenant-a'], kdamonds: ['0'] });

function memoryLog(): { log: EventLog; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const log = new EventLog({
    write: (line) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line per event');
      events.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, events };
}

function writer(host: Host, apply: boolean, log = memoryLog().log): HostWriter {
  return new HostWriter({ root: host.root, apply, allow: allow(), journalFile: host.journalFile, log });
}

/** Writes the controller may make: restorable knobs and kdamond files, and memory.reclaim actions. */
const writeOp = fc.oneof(
  fc.record({
    path: fc.constantFrom(...RESTORABLE_FILES),
    value: fc.stringMatching(/^[0-9a-z]{1,8}$/),
    restorable: fc.constant(true),
  }),
  fc.record({
    path: fc.constant(RECLAIM),
    value: fc.stringMatching(/^[1-9][0-9]{0,3}[KM]$/),
    restorable: fc.constant(false),
  }),
);
const writeSequence = fc.array(writeOp, { maxLength: 25 });

describe('EventLog', () => {
  it('writes one JSON object per line, ts and event first and not overridable', () => {
    const { log, events } = memoryLog();
    const before = Date.now();
    log.event('move', { cgroup: '/tenant-a', errnos: new Map([[13, 2]]), ts: 'spoofed', event: 'spoofed' });
    assert.equal(events.length, 1);
    const e = events[0];
    assert.deepEqual(Object.keys(e).slice(0, 2), ['ts', 'event']);
    assert.equal(e.event, 'move');
    const ts = Date.parse(e.ts as string);
    assert.ok(ts >= before - 1 && ts <= Date.now() + 1, `ts ${String(e.ts)} is now`);
    assert.equal(new Date(ts).toISOString(), e.ts);
    assert.deepEqual(e.errnos, { '13': 2 });
  });

  it('toFile creates parents and appends, so two runs share one log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'numatier-log-'));
    temps.push(dir);
    const file = join(dir, 'a', 'b', 'events.jsonl');
    for (const run of [1, 2]) {
      const log = EventLog.toFile(file);
      log.event('start', { run });
      log.event('stop', { run });
      log.close();
    }
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { event: string; run: number });
    assert.deepEqual(
      parsed.map((p) => `${p.event}${p.run}`),
      ['start1', 'stop1', 'start2', 'stop2'],
    );
  });
});

describe('allow-list', () => {
  it('allows exactly the knobs, managed memory.reclaim, any pid clear_refs and named kdamonds', () => {
    const a = buildAllowList({ managedCgroups: ['/tenant-a', '/vms/b'], kdamonds: ['0', '3'] });
    for (const p of [
      NB,
      RATE,
      DEMOTION,
      RECLAIM,
      '/sys/fs/cgroup/vms/b/memory.reclaim',
      '/proc/1/clear_refs',
      CLEAR_REFS,
      KD_STATE,
      '/sys/kernel/mm/damon/admin/kdamonds/3/contexts/0/schemes/0/action',
      // Creating the named kdamonds, and removing them on restore, is writing nr_kdamonds.
      '/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds',
    ]) {
      assert.ok(a.allows(p), p);
    }
    const noDamon = buildAllowList({ managedCgroups: ['/tenant-a'], kdamonds: [] });
    assert.equal(noDamon.allows('/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds'), false);
    for (const p of [
      '/etc/passwd',
      '/proc/sys/kernel/numa_balancing_scan_delay_ms',
      '/sys/fs/cgroup/tenant-b/memory.reclaim',
      '/sys/fs/cgroup/tenant-a/child/memory.reclaim', // only the listed cgroups themselves
      '/sys/fs/cgroup/tenant-a/memory.max',
      '/sys/fs/cgroup/vms/memory.reclaim',
      '/proc/self/clear_refs',
      '/proc/thread-self/clear_refs',
      '/proc/0/clear_refs',
      '/proc/0123/clear_refs',
      '/proc/12/task/12/clear_refs',
      '/proc/12/mem',
      '/sys/kernel/mm/damon/admin/kdamonds/1/state',
      '/sys/kernel/mm/damon/admin/kdamonds/0', // the directory, not a file below it
      '/sys/kernel/mm/damon/admin/kdamonds/0/',
      '/sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds/x',
      '/sys/kernel/mm/damon/admin/kdamonds/00/state',
      '/sys/kernel/mm/damon/admin/kdamonds/0/../1/state',
      '/sys/fs/cgroup/tenant-a/../tenant-b/memory.reclaim',
      '/sys/fs/cgroup/tenant-b/../tenant-a/memory.reclaim', // normalises to an allowed path: still refused
      '/proc/sys/kernel/./numa_balancing',
      '/proc/sys/kernel//numa_balancing',
      '//proc/sys/kernel/numa_balancing',
      'proc/sys/kernel/numa_balancing',
      NB + '/',
      NB + '\0',
      '',
    ]) {
      assert.ok(!a.allows(p), JSON.stringify(p));
    }
    const described = a.describe();
    for (const p of [NB, RATE, DEMOTION, RECLAIM, '/sys/fs/cgroup/vms/b/memory.reclaim']) {
      assert.ok(described.includes(p), p);
    }
    assert.ok(described.some((d) => d.includes('kdamonds/3/')));
    assert.ok(!described.some((d) => d.includes('kdamonds/1/')));
  });

  it('the root cgroup has its memory.reclaim directly under /sys/fs/cgroup', () => {
    assert.ok(
      buildAllowList({ managedCgroups: ['/'], kdamonds: [] }).allows('/sys/fs/cgroup/memory.reclaim'),
    );
  });

  it('rejects bad cgroup or kdamond names with an InputError naming the field', () => {
    for (const [o, field] of [
      [{ managedCgroups: ['/a', '/a/../../etc'], kdamonds: [] }, 'managedCgroups[1]'],
      [{ managedCgroups: ['tenant-a'], kdamonds: [] }, 'managedCgroups[0]'],
      [{ managedCgroups: ['/a/'], kdamonds: [] }, 'managedCgroups[0]'],
      [{ managedCgroups: [], kdamonds: ['0', '../1'] }, 'kdamonds[1]'],
      [{ managedCgroups: [], kdamonds: ['x'] }, 'kdamonds[0]'],
    ] as const) {
      assert.throws(
        () => buildAllowList({ managedCgroups: [...o.managedCgroups], kdamonds: [...o.kdamonds] }),
        (e: unknown) => e instanceof InputError && e.message.startsWith(field + ':'),
        field,
      );
    }
  });

  it('no alias of an allowed path is allowed (property)', () => {
    const a = allow();
    const allowed = [NB, RATE, DEMOTION, RECLAIM, CLEAR_REFS, KD_STATE, KD_OPS];
    const trick = fc.constantFrom('/.', '/x/..', '/', '/../' + 'x', '/./.');
    fc.assert(
      fc.property(fc.constantFrom(...allowed), fc.nat(), trick, (path, at, t) => {
        // Insert the trick at a segment boundary: the result names the same or another file by
        // an unnormalised spelling, and must be refused whatever it normalises to.
        const cuts = [...path.matchAll(/\//g)].map((m) => m.index);
        const cut = cuts[at % cuts.length];
        const alias = path.slice(0, cut) + t + path.slice(cut);
        assert.notEqual(alias, path);
        assert.ok(!a.allows(alias), alias);
      }),
    );
  });

  it('anything allowed is a normal absolute path (property over random segment paths)', () => {
    const a = allow();
    const segment = fc.constantFrom(
      ...'proc sys kernel numa_balancing fs cgroup tenant-a memory.reclaim 1234 clear_refs mm damon admin kdamonds 0 state'.split(
        ' ',
      ),
      '..',
      '.',
      '',
      'self',
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 9 }), (segs) => {
        const path = '/' + segs.join('/');
        if (a.allows(path)) {
          assert.equal(posix.normalize(path), path);
          assert.ok(isNormalPath(path));
          assert.ok(!segs.includes('..') && !segs.includes('.') && !segs.includes(''), path);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a journal may only restore knobs and kdamond files', () => {
    for (const p of [NB, RATE, DEMOTION, KD_STATE, '/sys/kernel/mm/damon/admin/kdamonds/7/state']) {
      assert.ok(RESTORABLE.allows(p), p);
    }
    for (const p of [RECLAIM, CLEAR_REFS, '/etc/passwd', '/sys/kernel/mm/damon/admin/kdamonds/0/../../x']) {
      assert.ok(!RESTORABLE.allows(p), p);
    }
  });
});

describe('HostWriter refusals', () => {
  it('refuses paths outside the allow-list and .. tricks, logs them, changes and journals nothing', () => {
    const host = makeHost();
    host.set('/etc/passwd', 'root:x:0:0\n');
    host.set('/sys/fs/cgroup/tenant-b/memory.reclaim', '');
    const { log, events } = memoryLog();
    const w = writer(host, true, log);
    const refused = [
      '/etc/passwd',
      '/sys/fs/cgroup/tenant-b/memory.reclaim',
      '/sys/fs/cgroup/tenant-a/../tenant-b/memory.reclaim',
      '/sys/fs/cgroup/tenant-b/../tenant-a/memory.reclaim',
      '/proc/sys/kernel/../../../etc/passwd',
      '/proc/self/clear_refs',
      'proc/sys/kernel/numa_balancing',
    ];
    for (const p of refused) {
      assert.throws(
        () => w.write(p, 'x'),
        (e: unknown) => e instanceof ControlRefusal && e instanceof InputError && e.message.includes(p),
        p,
      );
    }
    assert.deepEqual(
      events.map((e) => [e.event, e.path]),
      refused.map((p) => ['refused', p]),
    );
    assert.ok(events.every((e) => typeof e.why === 'string' && e.why !== ''));
    assert.equal(host.read('/etc/passwd'), 'root:x:0:0\n');
    assert.equal(host.read('/sys/fs/cgroup/tenant-b/memory.reclaim'), '');
    assert.equal(host.read(RECLAIM), '');
    assert.ok(!existsSync(host.journalFile));
  });

  it('refuses allowed paths that lead through a symlink, in a directory or the file itself', () => {
    const host = makeHost();
    const outside = join(host.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'demotion_enabled'), 'victim\n');
    writeFileSync(join(outside, 'victim'), 'victim\n');
    // /sys/kernel/mm/numa -> outside, and numa_balancing -> outside/victim.
    rmSync(join(host.root, '/sys/kernel/mm/numa'), { recursive: true });
    symlinkSync(outside, join(host.root, '/sys/kernel/mm/numa'));
    rmSync(join(host.root, NB));
    symlinkSync(join(outside, 'victim'), join(host.root, NB));
    const { log, events } = memoryLog();
    const w = writer(host, true, log);
    for (const p of [DEMOTION, NB]) {
      assert.throws(
        () => w.write(p, '1'),
        (e: unknown) => e instanceof ControlRefusal && /symlink/.test(e.why),
      );
    }
    assert.deepEqual(
      events.map((e) => [e.event, e.path]),
      [
        ['refused', DEMOTION],
        ['refused', NB],
      ],
    );
    assert.equal(readFileSync(join(outside, 'demotion_enabled'), 'utf8'), 'victim\n');
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'victim\n');
    assert.ok(!existsSync(host.journalFile));
  });

  it('a symlinked root itself is fine: the root is resolved once', () => {
    const host = makeHost();
    const link = join(host.dir, 'root-link');
    symlinkSync(host.root, link);
    const w = new HostWriter({
      root: link,
      apply: true,
      allow: allow(),
      journalFile: host.journalFile,
      log: memoryLog().log,
    });
    w.write(NB, '2');
    assert.equal(host.read(NB), '2');
    assert.equal(w.restore(), 1);
    assert.equal(host.read(NB), '1');
  });
});

describe('HostWriter dry-run', () => {
  it('writes nothing and creates no journal, but logs each write with the original once', () => {
    const host = makeHost();
    const { log, events } = memoryLog();
    const w = writer(host, false, log);
    w.write(NB, '2');
    w.write(NB, '0');
    w.write(DEMOTION, 'true');
    w.write(RECLAIM, '64M', { restorable: false });
    w.write(KD_STATE, 'on');
    for (const [path, text] of Object.entries(ORIGINALS)) assert.equal(host.read(path), text, path);
    assert.ok(!existsSync(host.journalFile));
    assert.deepEqual(
      events.map(({ event, path, value, dry_run, original }) => ({ event, path, value, dry_run, original })),
      [
        { event: 'write', path: NB, value: '2', dry_run: true, original: '1' },
        { event: 'write', path: NB, value: '0', dry_run: true, original: undefined },
        { event: 'write', path: DEMOTION, value: 'true', dry_run: true, original: 'false' },
        { event: 'write', path: RECLAIM, value: '64M', dry_run: true, original: undefined },
        { event: 'write', path: KD_STATE, value: 'on', dry_run: true, original: 'off' },
      ],
    );
    assert.equal(w.restore(), 0);
    for (const [path, text] of Object.entries(ORIGINALS)) assert.equal(host.read(path), text, path);
  });

  it('makes observe writes (clear_refs) and says so in the log', () => {
    const host = makeHost();
    const { log, events } = memoryLog();
    const w = writer(host, false, log);
    w.write(CLEAR_REFS, '4', { restorable: false, observe: true });
    assert.equal(host.read(CLEAR_REFS), '4');
    assert.ok(!existsSync(host.journalFile));
    assert.equal(events.length, 1);
    assert.equal(events[0].event, 'write');
    assert.equal(events[0].dry_run, false);
    assert.equal(events[0].observe, true);
    assert.throws(() => w.write(CLEAR_REFS, '4', { observe: true }), /nothing to restore/);
  });

  it('any sequence of writes in dry-run leaves every file as it was (property)', () => {
    fc.assert(
      fc.property(writeSequence, (ops) => {
        const host = makeHost();
        const w = writer(host, false);
        for (const op of ops) w.write(op.path, op.value, { restorable: op.restorable });
        for (const [path, text] of Object.entries(ORIGINALS)) assert.equal(host.read(path), text, path);
        assert.ok(!existsSync(host.journalFile));
      }),
      { numRuns: 30 },
    );
  });
});

describe('HostWriter apply, journal and restore', () => {
  it('journals the trimmed original before the first write; later writes keep it', () => {
    const host = makeHost();
    const { log, events } = memoryLog();
    const w = writer(host, true, log);
    w.write(NB, '2');
    const j = Journal.load(host.journalFile);
    assert.deepEqual(j.entries(), [{ path: NB, original: '1' }]);
    assert.equal(j.writer().pid, process.pid);
    w.write(NB, '0');
    w.write(RECLAIM, '64M', { restorable: false });
    assert.deepEqual(Journal.load(host.journalFile).entries(), [{ path: NB, original: '1' }]);
    assert.equal(host.read(NB), '0');
    assert.equal(host.read(RECLAIM), '64M');
    assert.deepEqual(
      events.map((e) => [e.event, e.value, e.dry_run, e.original]),
      [
        ['write', '2', false, '1'],
        ['write', '0', false, undefined],
        ['write', '64M', false, undefined],
      ],
    );
  });

  it('non-restorable writes alone create no journal', () => {
    const host = makeHost();
    const w = writer(host, true);
    w.write(RECLAIM, '16M', { restorable: false });
    assert.ok(!existsSync(host.journalFile));
    assert.equal(w.restore(), 0);
    assert.equal(host.read(RECLAIM), '16M');
  });

  it('the journal is on disk before the kernel file is opened for writing (a FIFO holds the write)', async () => {
    const host = makeHost();
    const fifo = join(host.root, NB);
    rmSync(fifo);
    execFileSync('mkfifo', [fifo]);
    const child = spawnWriter(host, [[NB, '2']], false);
    let exited = false;
    const exit = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        exited = true;
        // Unblock our own pending FIFO open if the child died early.
        closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
        resolve(code);
      }),
    );
    await writeFile(fifo, '1\n'); // the child reads this as the original
    await waitFor(() => existsSync(host.journalFile) || exited);
    assert.ok(!exited, 'the child is still blocked opening the FIFO for its write');
    assert.deepEqual(Journal.load(host.journalFile).entries(), [{ path: NB, original: '1' }]);
    assert.equal(await readFile(fifo, 'utf8'), '2'); // now the write goes through, in one piece
    assert.equal(await exit, 0);
  });

  it('any sequence of allowed writes then restore() leaves every file as it was (property)', () => {
    const originalText = fc.tuple(fc.stringMatching(/^[0-9a-z]{0,6}$/), fc.boolean());
    fc.assert(
      fc.property(writeSequence, fc.tuple(...RESTORABLE_FILES.map(() => originalText)), (ops, texts) => {
        const originals: Record<string, string> = { ...ORIGINALS };
        RESTORABLE_FILES.forEach((p, i) => (originals[p] = texts[i][0] + (texts[i][1] ? '\n' : '')));
        const host = makeHost(originals);
        const { log, events } = memoryLog();
        const w = writer(host, true, log);
        for (const op of ops) w.write(op.path, op.value, { restorable: op.restorable });
        const written = new Set(ops.filter((o) => o.restorable).map((o) => o.path));
        assert.equal(existsSync(host.journalFile), written.size > 0);
        assert.equal(w.restore(), written.size);
        // The kernel reads back with a newline what was written without: compare trimmed.
        for (const p of RESTORABLE_FILES) assert.equal(host.read(p).trim(), originals[p].trim(), p);
        assert.ok(!existsSync(host.journalFile));
        const restores = events.filter((e) => e.event === 'restore').map((e) => e.path);
        assert.deepEqual(restores, [...written].reverse(), 'latest first');
      }),
      { numRuns: 40 },
    );
  });

  it('a writer finding an earlier run’s journal keeps its originals', () => {
    const host = makeHost();
    writer(host, true).write(NB, '2'); // a run that never restored
    const { log, events } = memoryLog();
    const w = writer(host, true, log);
    assert.equal(events[0].event, 'warning');
    w.write(NB, '0');
    w.write(DEMOTION, 'true');
    assert.deepEqual(Journal.load(host.journalFile).entries(), [
      { path: NB, original: '1' },
      { path: DEMOTION, original: 'false' },
    ]);
    assert.equal(w.restore(), 2);
    assert.equal(host.read(NB), '1');
    assert.equal(host.read(DEMOTION), 'false');
  });

  it('a child SIGKILLed after writing leaves a journal that restoreFrom restores', async () => {
    const host = makeHost();
    const child = spawnWriter(host, [
      [NB, '2'],
      [DEMOTION, 'true'],
      [RECLAIM, '64M'],
      [KD_STATE, 'on'],
    ]);
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    await waitFor(() => existsSync(join(host.dir, 'ready')));
    child.kill('SIGKILL');
    assert.equal(await exit, 'SIGKILL');
    assert.equal(host.read(NB), '2');
    assert.equal(host.read(KD_STATE), 'on');
    assert.ok(Journal.exists(host.journalFile));
    const { log, events } = memoryLog();
    assert.equal(HostWriter.restoreFrom(host.root, host.journalFile, log), 3);
    assert.equal(host.read(NB), '1');
    assert.equal(host.read(DEMOTION), 'false');
    assert.equal(host.read(KD_STATE), 'off');
    assert.equal(host.read(RECLAIM), '64M'); // an action, nothing to put back
    assert.ok(!existsSync(host.journalFile));
    assert.deepEqual(
      events.map((e) => [e.event, e.path, e.value]),
      [
        ['restore', KD_STATE, 'off'],
        ['restore', DEMOTION, 'false'],
        ['restore', NB, '1'],
      ],
    );
    assert.equal(HostWriter.restoreFrom(host.root, host.journalFile, log), 0, 'nothing left to restore');
  });

  it('restore continues past a failing file and keeps the journal for it', () => {
    const host = makeHost();
    const { log, events } = memoryLog();
    const w = writer(host, true, log);
    w.write(NB, '2');
    w.write(DEMOTION, 'true');
    w.write(RATE, '100');
    // The middle file becomes a directory: writing it back fails.
    rmSync(join(host.root, DEMOTION));
    mkdirSync(join(host.root, DEMOTION));
    assert.throws(
      () => w.restore(),
      (e: unknown) =>
        e instanceof RestoreError &&
        e.restored === 2 &&
        e.failures.length === 1 &&
        e.failures[0].path === DEMOTION &&
        e.message.includes(host.journalFile),
    );
    assert.equal(host.read(NB), '1');
    assert.equal(host.read(RATE), '65536');
    assert.deepEqual(Journal.load(host.journalFile).entries(), [{ path: DEMOTION, original: 'false' }]);
    assert.ok(events.some((e) => e.event === 'warning' && e.path === DEMOTION));
    rmSync(join(host.root, DEMOTION), { recursive: true });
    host.set(DEMOTION, 'true\n');
    assert.equal(HostWriter.restoreFrom(host.root, host.journalFile, memoryLog().log), 1);
    assert.equal(host.read(DEMOTION), 'false');
    assert.ok(!existsSync(host.journalFile));
  });

  it('restoreFrom refuses journal entries numatier could not have written, restores the rest', () => {
    const host = makeHost();
    host.set('/etc/shadow', 'secret\n');
    host.set(NB, '2\n');
    const j = new Journal(host.journalFile);
    j.record('/etc/shadow', 'pwned');
    j.record(RECLAIM, '1G');
    j.record(NB, '1');
    const { log, events } = memoryLog();
    assert.throws(
      () => HostWriter.restoreFrom(host.root, host.journalFile, log),
      (e: unknown) => e instanceof RestoreError && e.restored === 1 && e.failures.length === 2,
    );
    assert.equal(host.read('/etc/shadow'), 'secret\n');
    assert.equal(host.read(RECLAIM), '');
    assert.equal(host.read(NB), '1');
    assert.deepEqual(
      events.filter((e) => e.event === 'refused').map((e) => e.path),
      [RECLAIM, '/etc/shadow'],
    );
  });
});

describe('Journal', () => {
  it('round-trips with its format version, numatier version, pid and start time', () => {
    const host = makeHost();
    const j = new Journal(host.journalFile);
    assert.ok(!Journal.exists(host.journalFile), 'nothing on disk before the first record');
    j.record(NB, '1');
    j.record(DEMOTION, 'false');
    j.record(NB, 'ignored: the first original stays');
    const doc = JSON.parse(readFileSync(host.journalFile, 'utf8')) as Record<string, unknown>;
    assert.equal(doc.format, 'numatier-journal');
    assert.equal(doc.version, 1);
    assert.equal(typeof doc.numatier, 'string');
    assert.equal(doc.pid, process.pid);
    assert.ok(!Number.isNaN(Date.parse(doc.started as string)));
    const back = Journal.load(host.journalFile);
    assert.deepEqual(back.entries(), [
      { path: NB, original: '1' },
      { path: DEMOTION, original: 'false' },
    ]);
    assert.ok(back.has(DEMOTION) && !back.has(RATE));
    back.remove();
    assert.ok(!Journal.exists(host.journalFile));
  });

  it('a corrupt journal gives an InputError naming the file and where, and is left alone', () => {
    const host = makeHost();
    const good = () => {
      const j = new Journal(host.journalFile);
      j.record(NB, '1');
      return readFileSync(host.journalFile, 'utf8');
    };
    const text = good();
    const cases: [string, RegExp][] = [
      [text.slice(0, 40), /not valid JSON.*byte/],
      [text.replace('"entries"', 'entries'), /not valid JSON at byte \d+/],
      ['', /not valid JSON.*byte 0/],
      ['[]', /\(top level\): expected an object/],
      [text.replace('numatier-journal', 'other'), /format: expected/],
      [text.replace('"version": 1', '"version": 9'), /version: expected 1/],
      [text.replace('"original": "1"', '"original": 1'), /entries\[0\]\.original: expected a string/],
      [text.replace(/"pid": \d+/, '"pid": "x"'), /pid: expected an integer/],
    ];
    for (const [corrupt, why] of cases) {
      writeFileSync(host.journalFile, corrupt);
      for (const load of [
        () => Journal.load(host.journalFile),
        () => HostWriter.restoreFrom(host.root, host.journalFile, memoryLog().log),
        () => writer(host, true),
      ]) {
        assert.throws(
          load,
          (e: unknown) =>
            e instanceof InputError && e.message.includes(host.journalFile) && why.test(e.message),
          `${why} for ${JSON.stringify(corrupt.slice(0, 30))}`,
        );
      }
      assert.equal(readFileSync(host.journalFile, 'utf8'), corrupt);
    }
    assert.equal(host.read(NB), '1\n');
  });
});

/** Runs writes in a child process with --apply; then it signals readiness and, if `wait`, waits to be killed. */
function spawnWriter(host: Host, writes: [string, string][], wait = true) {
  const modules = {
    writer: new URL('../src/controller/real/host-writer.js', import.meta.url).href,
    allow: new URL('../src/controller/real/allow-list.js', import.meta.url).href,
    log: new URL('../src/controller/real/event-log.js', import.meta.url).href,
  };
  const script = `
    import { writeFileSync } from 'node:fs';
    import { HostWriter } from ${JSON.stringify(modules.writer)};
    import { buildAllowList } from ${JSON.stringify(modules.allow)};
    import { EventLog } from ${JSON.stringify(modules.log)};
    const o = JSON.parse(process.argv[1]);
    const w = new HostWriter({
      root: o.root, apply: true, journalFile: o.journalFile, log: EventLog.toFile(o.logFile),
      allow: buildAllowList({ managedCgroups: ['/tenant-a'], kdamonds: ['0'] }),
    });
    for (const [path, value] of o.writes) w.write(path, value, { restorable: !path.endsWith('memory.reclaim') });
    writeFileSync(o.ready, '');
    if (o.wait) setInterval(() => {}, 1000);
  `;
  const args = {
    root: host.root,
    journalFile: host.journalFile,
    logFile: join(host.dir, 'events.jsonl'),
    ready: join(host.dir, 'ready'),
    writes,
    wait,
  };
  return spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitFor(done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
