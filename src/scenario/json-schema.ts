import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/**
 * The scenario file's JSON Schema (draft 2020-12), generated from the same zod schema the
 * loader validates with, so editors and the loader never disagree. `numatier schema` prints it;
 * schema/scenario.schema.json is the published copy (a test keeps it in sync).
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: s.$schema,
    $id: 'https://numatier.invalid/schema/scenario.schema.json',
    title: 'numatier scenario',
    description:
      'A simulated tiered-memory host, its kernel settings, cgroups and VMs (see docs/scenarios.md).',
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
  };
}
