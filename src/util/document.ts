import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { InputError, fieldPath } from './errors.js';

/**
 * Checks on every document numatier reads (scenario and topology files, `--set` values) that
 * a schema cannot make: how deep it nests, and keys that would reach Object.prototype when a
 * document is merged into another (`--set __proto__.x=1`).
 */

/** Deepest nesting a scenario needs is 5 (vms[i].workload.phases[j].field); 32 is generous. */
export const MAX_DOCUMENT_DEPTH = 32;

/** Keys that name a prototype rather than a field, refused wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walks `value` without recursion (a document nested deeper than the stack must still get a
 * clear answer) and throws one InputError naming the first field that nests too deep or has a
 * forbidden key. `where` prefixes the message (a file name, or `--set KEY`).
 */
export function checkDocument(
  value: unknown,
  where: string,
  prefix: readonly (string | number)[] = [],
): void {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [...prefix] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown; path: (string | number)[] };
    if (v === null || typeof v !== 'object') continue;
    if (path.length - prefix.length >= MAX_DOCUMENT_DEPTH) {
      throw new InputError(
        `${where}: ${fieldPath(path)}: nested more than ${MAX_DOCUMENT_DEPTH} levels deep; no numatier field nests that deep`,
      );
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      if (FORBIDDEN_KEYS.has(k))
        throw new InputError(`${where}: ${fieldPath([...path, k])}: ${forbiddenKeyMessage(k)}`);
      stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
    }
  }
}

export function forbiddenKeyMessage(key: string): string {
  return `the key ${JSON.stringify(key)} is not allowed (it names a JavaScript prototype, not a field)`;
}

/**
 * Parses a YAML or JSON document: JSON when the name ends in .json, or when it has no YAML
 * extension and starts with { or [. Then checkDocument(). A parser that runs out of stack on
 * a deeply nested document is reported as the nesting it is, not as a syntax error.
 */
export function parseDocumentText(text: string, source: string, ext: string): unknown {
  const looksJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[[{]/.test(text));
  let doc: unknown;
  try {
    doc = looksJson ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    if (tooDeep(e)) {
      throw new InputError(
        `${source}: nested more than ${MAX_DOCUMENT_DEPTH} levels deep; no numatier field nests that deep`,
      );
    }
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new InputError(`${source}: not valid ${looksJson ? 'JSON' : 'YAML'}: ${msg}`);
  }
  checkDocument(doc, source);
  return doc;
}

/**
 * Reads and parses the YAML or JSON document in `path`; `what` names it in the error when it
 * cannot be read ("topology file", "scenario file").
 */
export function readDocumentFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read ${what}${code ? ` (${code})` : ''}`);
  }
  return parseDocumentText(text, path, extname(path).toLowerCase());
}

/**
 * YAML text to a value. The yaml package reports what it doubts (an unknown `%` directive, …)
 * as process warnings that would print several lines; here they are errors like any other.
 */
export function parseYaml(text: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) throw problem;
  return doc.toJS({ maxAliasCount: 100 });
}

/** The parser ran out of stack: yaml reports it as RESOURCE_EXHAUSTION, JSON.parse as a RangeError. */
export function tooDeep(e: unknown): boolean {
  return e instanceof RangeError || (e as { code?: unknown } | null)?.code === 'RESOURCE_EXHAUSTION';
}

/** A value quoted for a one-line message: JSON, cut to `max` characters. */
export function quoteForMessage(v: string, max = 60): string {
  const q = JSON.stringify(v);
  return q.length <= max ? q : `${q.slice(0, max - 2)}…"`;
}
