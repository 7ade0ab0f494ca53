import fs from 'node:fs';
import path from 'node:path';

/** A file or directory that could not be read, and why (the errno code, e.g. EACCES). */
export interface Unreadable {
  path: string;
  why: string;
}

/** Files larger than this are not kernel control files; reading stops there. */
const MAX_FILE_BYTES = 16 << 20;

/**
 * Read-only access to a host's /sys, /proc and cgroup filesystem under `root` ("/" for this
 * host, a fixture tree in tests). Nothing here writes. A file that is absent is normal (an
 * older kernel, a feature not built in) and returns null silently; a file that exists but
 * cannot be read (permissions, a debugfs not mounted for us) is recorded in `unreadable`, so
 * the report can say what it could not see.
 */
export class HostFiles {
  readonly unreadable: Unreadable[] = [];

  constructor(readonly root: string) {}

  /** The path as the kernel names it ("/proc/vmstat"), under the root. */
  private at(p: string): string {
    return path.join(this.root, p);
  }

  private note(p: string, e: unknown): void {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    this.unreadable.push({ path: p, why: code ?? String(e) });
  }

  text(p: string): string | null {
    let fd: number;
    try {
      fd = fs.openSync(this.at(p), 'r');
    } catch (e) {
      this.note(p, e);
      return null;
    }
    try {
      // Kernel files report size 0; read until EOF, up to a bound.
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
        if (total >= MAX_FILE_BYTES) break;
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      this.note(p, e);
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The file's first line, trimmed. */
  line(p: string): string | null {
    const t = this.text(p);
    return t === null ? null : (t.split('\n')[0] ?? '').trim();
  }

  int(p: string): number | null {
    const l = this.line(p);
    if (l === null || !/^-?\d+$/.test(l)) return null;
    return Number(l);
  }

  /** Entries of a directory, sorted, or [] when it is absent or unreadable. */
  list(p: string): string[] {
    try {
      return fs.readdirSync(this.at(p)).sort();
    } catch (e) {
      this.note(p, e);
      return [];
    }
  }

  /** Subdirectories of a directory, sorted (one readdir, no stat per entry). */
  subdirs(p: string): string[] {
    try {
      return fs
        .readdirSync(this.at(p), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (e) {
      this.note(p, e);
      return [];
    }
  }

  exists(p: string): boolean {
    return fs.existsSync(this.at(p));
  }

  isDir(p: string): boolean {
    try {
      return fs.statSync(this.at(p)).isDirectory();
    } catch {
      return false;
    }
  }
}

/** The kernel's cpulist / nodelist text ("0-3,8,10-11"), or null if it is not one. */
export function parseList(text: string): number[] | null {
  const t = text.trim();
  if (t === '') return [];
  const out: number[] = [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1 << 16) return null;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** "key value" lines (/proc/vmstat, nodeN/vmstat, memory.stat) as a map of numbers. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^(\S+)\s+(-?\d+)$/.exec(l.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
