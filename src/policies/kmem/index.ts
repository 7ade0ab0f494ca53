import { Registry } from '../registry.js';
import { anywhere } from './anywhere.js';
import { fastOnly } from './fast-only.js';
import { local } from './local.js';
import type { KmemPlacementModule } from './types.js';

/** Kernel-memory placements (idea S13) by the name a scenario uses. */
export const KMEM_PLACEMENTS = new Registry<KmemPlacementModule>(
  'kernel-memory placement',
  'vms[].kernel_memory.placement',
  'local',
  [local, fastOnly, anywhere],
);
