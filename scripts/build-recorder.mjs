#!/usr/bin/env node
// Builds the numatrace Valgrind tool now instead of on the first `numatier trace record`, and
// prints where it went (the directory to use as VALGRIND_LIB). Needs valgrind, gcc and make.
//
//   npx tsc -p tsconfig.json && node scripts/build-recorder.mjs [--cache-dir DIR]
//
// The tool lands in node_modules/.cache/numatier/numatrace-<hash>/ (or $NUMATIER_CACHE_DIR, or
// the OS temp directory when node_modules is not writable); <hash> covers the tool's sources and
// the Valgrind version, so upgrading either builds a fresh copy.
import process from 'node:process';

const args = process.argv.slice(2);
const at = args.indexOf('--cache-dir');
const cacheDir = at >= 0 ? args[at + 1] : undefined;

let mod;
try {
  mod = await import('../dist/src/traces/recorder.js');
} catch {
  process.stderr.write('build-recorder: dist/ is missing; run `npx tsc -p tsconfig.json` first\n');
  process.exit(2);
}
try {
  const t = mod.buildRecorder(cacheDir !== undefined ? { cacheDir } : {});
  process.stdout.write(`${t.built ? 'built' : 'already built'}: ${t.tool}\nVALGRIND_LIB=${t.libDir}\n`);
} catch (e) {
  process.stderr.write(`build-recorder: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
