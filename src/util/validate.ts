import { z } from 'zod';
import { quoteForMessage } from './document.js';
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
  // JSON would print NaN and ±Infinity as null, and a long string in full.
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quoteForMessage(v);
  return JSON.stringify(v) ?? String(v);
}

/** The schema that validates the value at `path`, looking through optional/array/union wrappers. */
export function schemaAt(
  schema: z.ZodType,
  path: ReadonlyArray<PropertyKey>,
  root: unknown,
  unwrapLast = true,
): unknown {
  let s: unknown = schema;
  let value: unknown = root;
  const unwrap = (x: unknown): unknown => {
    for (;;) {
      if (x === null || typeof x !== 'object') return x;
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
      if (objs.length === 0) return x;
      if (objs.length === 1 || v === null || typeof v !== 'object') return objs[0];
      // The alternative that knows most of the value's keys is the one the user meant.
      const known = (o: unknown): number =>
        Object.keys(v).filter((k) => Object.hasOwn((o as z.ZodObject).shape, k)).length;
      return objs.reduce((best, o) => (known(o) > known(best) ? o : best), objs[0]);
    }
    return x;
  };
  for (const seg of path) {
    if (s === undefined) return undefined;
    s = pickObject(unwrap(s), value);
    const def = (
      s as { _zod?: { def?: { type?: string; element?: unknown; shape?: Record<string, unknown> } } }
    )._zod?.def;
    if (def?.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def?.type === 'object' && def.shape && Object.hasOwn(def.shape, String(seg)))
      s = def.shape[String(seg)];
    else return undefined;
    value = (value as Record<PropertyKey, unknown> | undefined)?.[seg];
  }
  return s === undefined || !unwrapLast ? s : pickObject(unwrap(s), value);
}

/** The keys an object schema allows at `path`, or null where no object schema is found. */
export function allowedKeysAt(
  schema: z.ZodType,
  path: ReadonlyArray<PropertyKey>,
  root: unknown,
): string[] | null {
  const shape = (schemaAt(schema, path, root) as z.ZodObject | undefined)?.shape;
  return shape ? Object.keys(shape) : null;
}

/** The field's own description in the schema (what `numatier schema` shows), or ''. */
function descriptionAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, root: unknown): string {
  // .optional().describe() and .describe().optional() both occur: look through the wrappers.
  type Described = { description?: string; _zod?: { def?: { innerType?: unknown } } };
  for (let s = schemaAt(schema, path, root, false) as Described | undefined; s;) {
    if (s.description !== undefined) return s.description;
    s = s._zod?.def?.innerType as Described | undefined;
  }
  return '';
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
      if (issue.expected === 'number' && typeof got === 'number')
        return `${where}: expected a finite number, got ${describeValue(got)}`;
      if (issue.expected === 'string' && /\bsize\b/.test(descriptionAt(schema, issue.path, input))) {
        const eg = typeof got === 'number' ? `"${got}GiB"` : '"4GiB"';
        return `${where}: expected a size with a unit as a string, e.g. ${eg}, got ${describeValue(got)}`;
      }
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
