/** NUMA balancing: pure kernel arithmetic over explicit state (see docs/numa-balancing.md). */
export * from './constants.js';
export * from './cpupid.js';
export * from './promotion.js';
export * from './classic.js';
export * from './scan.js';
