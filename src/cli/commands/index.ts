import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerSchemaCommand } from './schema.js';
import { registerSimulateCommand } from './simulate.js';
import { registerTopologyCommand } from './topology.js';

/** Every subcommand registers itself here; each lives in its own file. */
export function registerCommands(program: Command): void {
  registerSimulateCommand(program);
  registerBenchCommand(program);
  registerTopologyCommand(program);
  registerSchemaCommand(program);
}
