import { Command, CommanderError } from 'commander';
import { InputError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';
import { registerCommands } from './commands/index.js';

/**
 * One numatier command line: parse, dispatch to the library, map user errors to exit codes
 * (0 done, 2 bad input, 3 a trace program's own failure…). Anything else it throws is a bug
 * in numatier; main.ts reports it as one. Tests call this in-process.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('numatier')
    .description('Tiered-memory policies on a simulated Linux host, side by side')
    .version(packageVersion(), '-V, --version', 'print the version of numatier')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  registerCommands(program);
  const before = process.exitCode;
  process.exitCode = undefined;
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
  } finally {
    process.exitCode = before;
  }
}
