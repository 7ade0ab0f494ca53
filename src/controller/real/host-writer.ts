import { closeSync, constants, existsSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { type AllowList, isKdamondFile, isNormalPath, RESTORABLE } from './allow-list.js';
import type { EventLog } from './event-log.js';
import { Journal } from './journal.js';

/** A write numatier will not make (outside the allow-list, not normal, through a symlink). */
export class ControlRefusal extends InputError {
  readonly path: string;
  readonly why: string;
  constructor(path: string, why: string) {
    super(`refusing to write ${path}: ${why}`);
    this.name = 'ControlRefusal';
    this.path = path;
    this.why = why;
  }
}

/** The kernel (or the file system) rejected a read or write of an allowed file. */
export class HostWriteError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, what: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(`${what} ${path} failed: ${(cause as Error).message}`, { cause });
    this.name = 'HostWriteError';
    this.path = path;
    this.code = code;
  }
}

/** Restore put back some files but not all; the journal keeps the ones that failed. */
export class RestoreError extends Error {
  readonly restored: number;
  readonly failures: { path: string; error: string }[];
  constructor(restored: number, failures: { path: string; error: string }[], journalFile: string) {
    super(
      `restore incomplete: ${failures.length} file(s) not put back (` +
        failures.map((f) => `${f.path}: ${f.error}`).join('; ') +
        `); ${restored} restored; the journal ${journalFile} keeps the rest for numatier control --restore`,
    );
    this.name = 'RestoreError';
    this.restored = restored;
    this.failures = failures;
  }
}

export interface WriteOptions {
  /** Journal the original value first so restore can put it back (default true). */
  restorable?: boolean;
  /** A write that only observes (clear_refs): made in dry-run too. Must not be restorable. */
  observe?: boolean;
  /**
   * The file appears only after an earlier write of this run (a new kdamond's files appear when
   * nr_kdamonds is written). In a dry run that write was not made, so the file is not looked for.
   */
  created?: boolean;
}

/**
 * The only way numatier changes the host. Every write is checked against the allow-list, and
 * made through a path with no symlink in it; restorable files are journaled (on disk) before
 * their first change; dry-run logs instead of writing.
 */
export class HostWriter {
  private readonly root: string;
  private readonly apply: boolean;
  private readonly allow: AllowList;
  private readonly log: EventLog;
  private journal: Journal;
  /** Paths whose original was already read (journaled, or in dry-run only logged). */
  private readonly seen = new Set<string>();

  constructor(o: { root: string; apply: boolean; allow: AllowList; journalFile: string; log: EventLog }) {
    this.root = realpathSync.native(o.root);
    this.apply = o.apply;
    this.allow = o.allow;
    this.log = o.log;
    this.journal = new Journal(o.journalFile);
    // A journal left by a crashed run holds the host's true originals; starting afresh would
    // journal that run's values as "originals" instead. Keep it and add to it.
    if (o.apply && Journal.exists(o.journalFile)) {
      this.journal = Journal.load(o.journalFile);
      for (const e of this.journal.entries()) this.seen.add(e.path);
      this.log.event('warning', {
        message: `continuing the journal ${o.journalFile} of an earlier run`,
        ...this.journal.writer(),
      });
    }
  }

  /** Writes `value` to the kernel file `path` (see WriteOptions), or refuses with ControlRefusal. */
  write(path: string, value: string, o: WriteOptions = {}): void {
    const restorable = o.restorable ?? true;
    const observe = o.observe ?? false;
    if (restorable && observe) throw new Error(`write ${path}: an observe write has nothing to restore`);
    if (!isNormalPath(path))
      this.refuse(path, "not a normal absolute path (no '..', '.', '//' or trailing '/')");
    if (!this.allow.allows(path)) this.refuse(path, 'not in the allow-list');
    const act = this.apply || observe;
    if (!act && o.created === true) {
      this.log.event('write', { path, value, dry_run: true });
      return;
    }
    const full = this.resolve(path);
    let original: string | undefined;
    if (restorable && !this.seen.has(path)) {
      // A sysctl reads as "1\n" but is written as "1".
      original = readKernelFile(path, full).trim();
      if (act) this.journal.record(path, original); // fsynced before the write below
      this.seen.add(path);
    }
    if (act) {
      try {
        writeKernelFile(path, full, value);
      } catch (e) {
        this.log.event('warning', { path, value, message: (e as Error).message });
        throw e;
      }
    }
    this.log.event('write', {
      path,
      value,
      dry_run: !act,
      ...(observe ? { observe: true } : {}),
      ...(original !== undefined ? { original } : {}),
    });
  }

  /**
   * Puts every journaled value back (latest first), logs `restore`, removes the journal. Returns
   * the count. In dry-run nothing was changed, so nothing is restored. If any file fails, the
   * others are still restored and RestoreError is thrown with the journal kept for those.
   */
  restore(): number {
    if (!this.apply) return 0;
    const n = restoreJournal(this.root, this.journal, this.log);
    this.journal = new Journal(this.journal.file);
    this.seen.clear();
    return n;
  }

  /** For a journal left by a crashed run: restores it. Static so `--restore` needs no config of writes. */
  static restoreFrom(root: string, journalFile: string, log: EventLog): number {
    if (!Journal.exists(journalFile)) return 0;
    return restoreJournal(realpathSync.native(root), Journal.load(journalFile), log);
  }

  private refuse(path: string, why: string): never {
    this.log.event('refused', { path, why });
    throw new ControlRefusal(path, why);
  }

  private resolve(path: string): string {
    try {
      return resolveUnder(this.root, path);
    } catch (e) {
      if (e instanceof ControlRefusal) this.refuse(path, e.why);
      throw e;
    }
  }
}

function restoreJournal(root: string, journal: Journal, log: EventLog): number {
  let restored = 0;
  const failures: { path: string; error: string }[] = [];
  for (const { path, original } of [...journal.entries()].reverse()) {
    try {
      // The journal came from disk: only what numatier could have journaled is written back.
      if (!RESTORABLE.allows(path)) throw new ControlRefusal(path, 'not a restorable kernel file');
      // A kdamond whose directory is gone (removed, or the host rebooted) has nothing to stop.
      if (isKdamondFile(path) && !existsSync(join(root, path))) {
        log.event('restore', { path, value: original, gone: true });
        restored++;
        continue;
      }
      writeKernelFile(path, resolveUnder(root, path), original);
      log.event('restore', { path, value: original });
      restored++;
    } catch (e) {
      const error = e instanceof ControlRefusal ? e.why : (e as Error).message;
      if (e instanceof ControlRefusal) log.event('refused', { path, why: error });
      else log.event('warning', { path, value: original, message: `restore failed: ${error}` });
      failures.push({ path, error });
    }
  }
  if (failures.length === 0) {
    journal.remove();
    return restored;
  }
  journal.keepOnly(new Set(failures.map((f) => f.path)));
  throw new RestoreError(restored, failures, journal.file);
}

/**
 * `path` under `root` (already a real path), refusing when a symlink anywhere on the way would
 * lead elsewhere. O_NOFOLLOW at open time covers the last component being swapped afterwards.
 */
function resolveUnder(root: string, path: string): string {
  const full = join(root, path);
  let real: string;
  try {
    real = realpathSync.native(full);
  } catch (e) {
    throw new HostWriteError(path, 'resolving', e);
  }
  if (real !== full) throw new ControlRefusal(path, `a symlink on the way leads to ${real}`);
  return full;
}

function readKernelFile(path: string, full: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW);
    return readFileSync(fd, 'utf8');
  } catch (e) {
    throw new HostWriteError(path, 'reading', e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * One write(2) of the whole value: kernel files take a value per write and do not support partial
 * writes. Kernel files cannot be replaced by rename, so unlike user files this is an in-place write;
 * no O_CREAT, so a missing file is an error rather than a new file.
 */
function writeKernelFile(path: string, full: string, value: string): void {
  const data = Buffer.from(value, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(full, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
    const n = writeSync(fd, data);
    if (n !== data.length) throw new Error(`short write (${n} of ${data.length} bytes)`);
  } catch (e) {
    throw new HostWriteError(path, `writing ${JSON.stringify(value)} to`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
