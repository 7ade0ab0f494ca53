import { z } from 'zod';
import { InputError, fieldPath } from './errors.js';

/**
 * Validates `input` against a zod schema and turns the first problem into one InputError line
 * naming the field, what was expected and what was found — the message users see.
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new InputError(formatZodIssue(issues[0], input, schema, prefix) + more);
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  return JSON.stringify(v);
}

/** The keys an object schema allows at `path`, looking through optional/array/union wrappers. */
export function allowedKeysAt(
  schema: z.ZodType,
  path: ReadonlyArray<PropertyKey>,
  root: unknown,
): string[] | null {
  let s: unknown = schema;
  let value: unknown = root;
  const unwrap = (x: unknown): unknown => {
    for (;;) {
      const def = (x as { _zod?: { def?: { type?: string; innerType?: unknown } } })._zod?.def;
      if (
        def &&
        (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') &&
        def.innerType
      )
        x = def.innerType;
      else return x;
    }
  };
  const pickObject = (x: unknown, v: unknown): unknown => {
    const def = (x as { _zod?: { def?: { type?: string; options?: unknown[] } } })._zod?.def;
    if (def?.type === 'union' && def.options) {
      const objs = def.options.map(unwrap).filter((o) => (o as z.ZodObject).shape !== undefined);
      if (objs.length === 1 || typeof v !== 'object') return objs[0];
      return objs.find((o) => Object.keys(v as object).some((k) => k in (o as z.ZodObject).shape)) ?? objs[0];
    }
    return x;
  };
  for (const seg of path) {
    s = pickObject(unwrap(s), value);
    const def = (
      s as { _zod?: { def?: { type?: string; element?: unknown; shape?: Record<string, unknown> } } }
    )._zod?.def;
    if (def?.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def?.type === 'object' && def.shape) s = def.shape[String(seg)];
    else return null;
    value = (value as Record<PropertyKey, unknown> | undefined)?.[seg];
  }
  s = pickObject(unwrap(s), value);
  const shape = (s as z.ZodObject | undefined)?.shape;
  return shape ? Object.keys(shape) : null;
}

export function formatZodIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  schema: z.ZodType,
  prefix: readonly PropertyKey[],
): string {
  const where = fieldPath([...prefix, ...issue.path]);
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(schema, issue.path, input);
      const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      return `${where}: unknown key ${keys}${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`;
    }
    case 'invalid_type':
      if (got === undefined) return `${where}: required`;
      if (issue.expected === 'int') return `${where}: expected an integer, got ${describeValue(got)}`;
      return `${where}: expected ${issue.expected === 'array' ? 'a list' : issue.expected}, got ${describeValue(got)}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `${where}: must have at least ${String(issue.minimum)} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      return `${where}: must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)}, got ${describeValue(got)}`;
    case 'too_big':
      return `${where}: must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}, got ${describeValue(got)}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(got)}`;
    case 'invalid_union': {
      // Alternatives told apart by a `pattern` (workloads): report the matching branch's problem.
      const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
      const pattern = (got as { pattern?: unknown } | undefined)?.pattern;
      const branch =
        branches.find(
          (b) => b.length > 0 && !b.some((i) => i.path.length === 1 && i.path[0] === 'pattern'),
        ) ?? (pattern === undefined ? undefined : branches[branches.length - 1]);
      if (branch && branch.length > 0) {
        const inner = branch[0];
        return formatZodIssue(
          { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue,
          input,
          schema,
          prefix,
        );
      }
      return `${where}: ${describeValue(got)} is not allowed here`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}
