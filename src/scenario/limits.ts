import { MAX_FRAMES } from '../host/pte.js';
import { InputError } from '../util/errors.js';

/**
 * Bounds on what one run may ask for. Each is far beyond what a study needs, and each is
 * checked before anything runs, so that a typo (`duration_ms: 3e15`, `sample_interval_ms:
 * 1e-9`) is one clear error rather than hours of work or an out-of-memory crash.
 */

/** 24 h of simulated time: a study of tiering policies runs seconds to minutes. */
export const MAX_DURATION_MS = 24 * 3600 * 1000;
/** Rows of timeseries.csv: enough for one sample per second over a day. */
export const MAX_SAMPLES = 100_000;
/** Tenants on one host (the scale the project plans for). */
export const MAX_VMS = 10_000;
/** The page table is one Int32Array indexed by global virtual page. */
export const MAX_VIRTUAL_PAGES = 2 ** 31 - 1;
/** Address-space windows are aligned to this many pages (see Host). */
export const SPACE_ALIGN_PAGES = 4096;

/** Frames the frame table needs for these node sizes (each node padded to a whole chunk). */
export function framesFor(nodePages: readonly number[], chunkPages: number): number {
  let total = 0;
  for (const p of nodePages) total += Math.ceil(p / chunkPages) * chunkPages;
  return total;
}

/** A byte count to three significant figures in the largest binary unit below it ("1.88 TiB"). */
function approxSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (bytes >= 1024 ** (i + 1) && i < units.length - 1) i++;
  return `${Number((bytes / 1024 ** i).toPrecision(3))} ${units[i]}`;
}

/** The run's length, its sampling and the host's size: checked before any workload is opened. */
export function checkHostBounds(o: {
  durationMs: number;
  sampleIntervalMs: number;
  nodePages: readonly number[];
  chunkPages: number;
}): void {
  if (o.durationMs > MAX_DURATION_MS) {
    throw new InputError(
      `duration_ms: at most ${MAX_DURATION_MS} (24 h of simulated time), got ${o.durationMs}`,
    );
  }
  const samples = o.durationMs / o.sampleIntervalMs;
  if (samples > MAX_SAMPLES) {
    throw new InputError(
      `sample_interval_ms: ${o.sampleIntervalMs} gives ${Math.ceil(samples)} samples over duration_ms ${o.durationMs}; at most ${MAX_SAMPLES} (a sample interval of at least ${o.durationMs / MAX_SAMPLES} ms)`,
    );
  }
  const frames = framesFor(o.nodePages, o.chunkPages);
  if (frames > MAX_FRAMES) {
    throw new InputError(
      `topology.nodes: the host has ${approxSize(frames * 4096)} of memory; a simulated host holds at most ${approxSize(MAX_FRAMES * 4096)} (${MAX_FRAMES} frames of 4 KiB)`,
    );
  }
}

/** The tenants: how many, and the virtual memory they map together. */
export function checkVmBounds(vmPages: readonly number[]): void {
  if (vmPages.length > MAX_VMS)
    throw new InputError(`vms: at most ${MAX_VMS} VMs on one host, got ${vmPages.length}`);
  let virt = 0;
  for (const p of vmPages) virt += Math.ceil(p / SPACE_ALIGN_PAGES) * SPACE_ALIGN_PAGES;
  if (virt > MAX_VIRTUAL_PAGES) {
    throw new InputError(
      `vms: the VMs' footprints add up to ${approxSize(virt * 4096)}; one simulated host maps at most ${approxSize(MAX_VIRTUAL_PAGES * 4096)} of virtual memory`,
    );
  }
}
