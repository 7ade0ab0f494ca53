#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { InputError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';

/** Thin entry point: parse, dispatch to the library, map user errors to exit codes. */
async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('numatier')
    .description('Tiered-memory policies on a simulated Linux host, side by side')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message; help/version exit 0, usage errors 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`numatier: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
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
