#!/usr/bin/env node
import { runCli } from './run.js';

/** Thin entry point: the exit code of the command line, or 70 for a bug in numatier. */
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `numatier: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
