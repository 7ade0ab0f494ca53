import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the lines go: a file, process.stderr, or an array in tests. */
export interface EventSink {
  write(line: string): void;
}

/**
 * The controller's JSON-lines log: one object per event, `{"ts": ISO time, "event": kind, ...fields}`.
 * Events: `write`, `refused`, `restore`, `move`, `step`, `start`, `stop`, `warning`.
 */
export class EventLog {
  private readonly sink: EventSink;
  private fd: number | undefined;

  constructor(sink: EventSink) {
    this.sink = sink;
  }

  /**
   * Appends to `path` (parents created). Each line is written synchronously with one write(2), so a
   * run that is SIGKILLed keeps every event it logged before.
   */
  static toFile(path: string): EventLog {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'a', 0o640);
    const log = new EventLog({ write: (line) => void writeSync(fd, line) });
    log.fd = fd;
    return log;
  }

  event(kind: string, fields: Record<string, unknown>): void {
    // ts and event come first and cannot be overridden by a field of the same name.
    const record: Record<string, unknown> = { ts: new Date().toISOString(), event: kind };
    for (const [k, v] of Object.entries(fields)) if (k !== 'ts' && k !== 'event') record[k] = v;
    this.sink.write(JSON.stringify(record, jsonValue) + '\n');
  }

  /** Closes the file of a log made by toFile (other sinks belong to the caller). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Maps (e.g. failures by errno) become objects, bigints strings: JSON.stringify knows neither. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
