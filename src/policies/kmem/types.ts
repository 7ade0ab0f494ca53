import type { HostTopology } from '../../host/host-topology.js';
import type { PolicyModule } from '../registry.js';

/** What a kernel-memory placement is computed from: the host and the VM's CPU node (dense). */
export interface KmemContext {
  topo: HostTopology;
  cpuNode: number;
}

/**
 * Where a VM's unmovable kernel memory (dentry and inode caches, idea S13) may be allocated: a
 * node order for the allocator, one module per placement.
 */
export type KmemPlacementModule = PolicyModule<object, KmemContext, Int32Array>;
