/**
 * An error caused by what the user gave us (a file, a flag, a field). The CLI prints only its
 * message and exits with `exitCode`; anything else escaping is a bug in numatier.
 */
export class InputError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'InputError';
    this.exitCode = exitCode;
  }
}

/** Formats a field path such as `nodes[2].size` from path segments. */
export function fieldPath(segments: ReadonlyArray<string | number | symbol>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out === '' ? '(top level)' : out;
}
