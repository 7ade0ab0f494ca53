import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { packageVersion } from '../../util/version.js';

export interface JournalEntry {
  path: string;
  original: string;
}

/** Who wrote a journal: shown when a later run finds it. */
export interface JournalWriter {
  numatier: string;
  pid: number;
  started: string;
}

const FORMAT = 'numatier-journal';
const FORMAT_VERSION = 1;

/** Original values of every restorable file numatier changed, kept on disk before the first write. */
export class Journal {
  readonly file: string;
  private list: JournalEntry[] = [];
  private meta: JournalWriter;

  /** An empty journal; nothing touches the disk until the first record(). */
  constructor(file: string) {
    this.file = file;
    this.meta = { numatier: packageVersion(), pid: process.pid, started: new Date().toISOString() };
  }

  static exists(file: string): boolean {
    return existsSync(file);
  }

  /** Reads a journal left by an earlier run (crash); throws InputError naming the file/byte if corrupt. */
  static load(file: string): Journal {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(`journal ${file}: cannot be read (${(e as Error).message})`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new InputError(`journal ${file}: not valid JSON${where(text, (e as Error).message)}`);
    }
    const journal = new Journal(file);
    const { meta, entries } = validate(doc, (field, expected) => {
      throw new InputError(`journal ${file}: ${field}: expected ${expected}`);
    });
    journal.meta = meta;
    journal.list = entries;
    return journal;
  }

  entries(): readonly JournalEntry[] {
    return this.list;
  }

  has(path: string): boolean {
    return this.list.some((e) => e.path === path);
  }

  writer(): JournalWriter {
    return { ...this.meta };
  }

  /**
   * Adds an entry and writes the whole journal (temporary name, fsync, rename) before returning.
   * A path already journaled keeps its first original: later values are numatier's own.
   */
  record(path: string, original: string): void {
    if (this.has(path)) return;
    this.list.push({ path, original });
    this.save();
  }

  /** Keeps only the entries for `paths` (those a restore could not put back) and saves. */
  keepOnly(paths: ReadonlySet<string>): void {
    this.list = this.list.filter((e) => paths.has(e.path));
    this.save();
  }

  /** Removes the journal file (after a complete restore). */
  remove(): void {
    if (!existsSync(this.file)) return;
    rmSync(this.file);
    syncDir(dirname(this.file));
  }

  private save(): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true });
    const doc = { format: FORMAT, version: FORMAT_VERSION, ...this.meta, entries: this.list };
    const tmp = join(dir, `.${basename(this.file)}.tmp-${process.pid}`);
    // Only root should read or change what restore will write back into the kernel.
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(doc, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    // The rename itself must survive a power cut before the kernel file is changed.
    syncDir(dir);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** " at byte N" from V8's "at position N" (a UTF-16 index), or V8's own words when it gives none. */
function where(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (m) return ` at byte ${Buffer.byteLength(text.slice(0, Number(m[1])))}`;
  if (/end of JSON input/.test(message)) return ` (it ends early, at byte ${Buffer.byteLength(text)})`;
  return ` (${message})`;
}

function validate(
  doc: unknown,
  bad: (field: string, expected: string) => never,
): { meta: JournalWriter; entries: JournalEntry[] } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('(top level)', 'an object');
  const d = doc as Record<string, unknown>;
  if (d.format !== FORMAT) bad('format', JSON.stringify(FORMAT));
  if (d.version !== FORMAT_VERSION) bad('version', `${FORMAT_VERSION} (this numatier's journal format)`);
  if (typeof d.numatier !== 'string') bad('numatier', 'a version string');
  if (!Number.isInteger(d.pid)) bad('pid', 'an integer');
  if (typeof d.started !== 'string') bad('started', 'an ISO time');
  if (!Array.isArray(d.entries)) bad('entries', 'an array');
  const seen = new Set<string>();
  const entries = (d.entries as unknown[]).map((e, i): JournalEntry => {
    if (typeof e !== 'object' || e === null) bad(`entries[${i}]`, 'an object { path, original }');
    const { path, original } = e as Record<string, unknown>;
    if (typeof path !== 'string') bad(`entries[${i}].path`, 'a string');
    if (typeof original !== 'string') bad(`entries[${i}].original`, 'a string');
    if (seen.has(path)) bad(`entries[${i}].path`, `each path once (${path} appears twice)`);
    seen.add(path);
    return { path, original };
  });
  return {
    meta: { numatier: d.numatier as string, pid: d.pid as number, started: d.started as string },
    entries,
  };
}
