import type { Command } from 'commander';
import { controlConfigJsonSchema } from '../../controller/config.js';
import { scenarioJsonSchema } from '../../scenario/json-schema.js';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of scenario files, or with --control of control configs (for editors)',
    )
    .option('--control', 'the schema of `numatier control --config` files')
    .action((o: { control?: boolean }) => {
      const schema = o.control === true ? controlConfigJsonSchema() : scenarioJsonSchema();
      process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
    });
}
