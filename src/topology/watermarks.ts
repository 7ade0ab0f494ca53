import { SWAP_CLUSTER_MAX } from '../host/mm-constants.js';
import { InputError } from '../util/errors.js';
import { PAGE_SHIFT, bytesToPages } from '../util/units.js';
import type { Topology, ZoneKind } from './types.js';

/**
 * Zone watermarks as mm/page_alloc.c sets them: calculate_min_free_kbytes() and
 * __setup_per_zone_wmarks(). One zone per node; managed pages = node capacity (reserved memory is
 * not modelled). All arithmetic is done on BigInt so that multi-TiB nodes stay exact (u64 math).
 */

/** calculate_min_free_kbytes() clamp bounds (raised from 65536 to 262144 in 5.7). */
export const MIN_FREE_KBYTES_LOWER = 128;
export const MIN_FREE_KBYTES_UPPER = 262144;
/** include/linux/swap.h's SWAP_CLUSTER_MAX is also the lower clamp of WMARK_MIN for ZONE_MOVABLE / highmem zones. */
export { SWAP_CLUSTER_MAX };
export const DEFAULT_WATERMARK_SCALE_FACTOR = 10;
/** vm.watermark_scale_factor sysctl range (SYSCTL_ONE .. SYSCTL_THREE_THOUSAND). */
export const WATERMARK_SCALE_FACTOR_MIN = 1;
export const WATERMARK_SCALE_FACTOR_MAX = 3000;
const INT_MAX = 2 ** 31 - 1;

export interface ZoneWatermarks {
  readonly min: number;
  readonly low: number;
  readonly high: number;
  readonly promo: number;
}

export interface WatermarkZone {
  readonly node: number;
  readonly managedPages: number;
  readonly zone: ZoneKind;
}

/** lib/math/int_sqrt.c: floor of the square root. */
export function intSqrt(x: bigint): bigint {
  if (x < 0n) throw new RangeError('intSqrt of a negative number');
  if (x < 2n) return x;
  // Newton's method from an over-estimate converges down to floor(sqrt(x)).
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}

/**
 * calculate_min_free_kbytes(): clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144). The kernel's
 * lowmem_kbytes is nr_free_buffer_pages() (managed minus high watermark over the zones GFP_USER may
 * use, i.e. not ZONE_MOVABLE); at boot the watermarks are still zero, so it is the managed size.
 */
export function calculateMinFreeKbytes(lowmemKbytes: bigint): number {
  const v = intSqrt(lowmemKbytes * 16n);
  const clamped =
    v < BigInt(MIN_FREE_KBYTES_LOWER)
      ? MIN_FREE_KBYTES_LOWER
      : v > BigInt(MIN_FREE_KBYTES_UPPER)
        ? MIN_FREE_KBYTES_UPPER
        : Number(v);
  return clamped;
}

/** Pages that count as lowmem: every zone that is not ZONE_MOVABLE (no highmem on 64-bit). */
export function lowmemPages(zones: readonly WatermarkZone[]): bigint {
  return zones.reduce((s, z) => (z.zone === 'movable' ? s : s + BigInt(z.managedPages)), 0n);
}

/**
 * __setup_per_zone_wmarks(): WMARK_MIN is the zone's share of min_free_kbytes (ZONE_MOVABLE gets a
 * small clamp instead); the gap to LOW, HIGH and PROMO is max(share / 4, managed *
 * watermark_scale_factor / 10000). One result per zone, in the order given: a node may have
 * several zones (DMA, DMA32, Normal, Movable on a real x86-64 machine).
 */
export function setupZoneWmarks(
  zones: readonly WatermarkZone[],
  minFreeKbytes: number,
  watermarkScaleFactor: number,
): ZoneWatermarks[] {
  const pagesMin = BigInt(minFreeKbytes) >> BigInt(PAGE_SHIFT - 10);
  const lowmem = lowmemPages(zones);
  if (lowmem === 0n) {
    throw new InputError('nodes: no node has zone "normal"; the kernel needs some non-movable memory');
  }
  const wsf = BigInt(watermarkScaleFactor);
  return zones.map((z) => {
    const managed = BigInt(z.managedPages);
    let tmp = (pagesMin * managed) / lowmem;
    let min: bigint;
    if (z.zone === 'movable') {
      // Movable memory cannot serve the kernel's own allocations, so it keeps only a token reserve.
      const m = managed / 1024n;
      min = m < BigInt(SWAP_CLUSTER_MAX) ? BigInt(SWAP_CLUSTER_MAX) : m > 128n ? 128n : m;
    } else {
      min = tmp;
    }
    // mult_frac(managed, wsf, 10000) is exact floor(managed * wsf / 10000).
    const scaled = (managed / 10000n) * wsf + ((managed % 10000n) * wsf) / 10000n;
    tmp = tmp >> 2n > scaled ? tmp >> 2n : scaled;
    const low = min + tmp;
    const high = low + tmp;
    const promo = high + tmp;
    return { min: Number(min), low: Number(low), high: Number(high), promo: Number(promo) };
  });
}

/** setupZoneWmarks() for hosts of one zone per node, keyed by node id. */
export function setupPerZoneWmarks(
  zones: readonly WatermarkZone[],
  minFreeKbytes: number,
  watermarkScaleFactor: number,
): Map<number, ZoneWatermarks> {
  const marks = setupZoneWmarks(zones, minFreeKbytes, watermarkScaleFactor);
  return new Map(zones.map((z, i) => [z.node, marks[i]]));
}

export interface WatermarkOptions {
  /** vm.min_free_kbytes written by the user (0 .. INT_MAX); otherwise computed at boot. */
  readonly minFreeKbytes?: number;
  /** vm.watermark_scale_factor, 1 .. 3000, default 10. */
  readonly watermarkScaleFactor?: number;
}

export interface HostWatermarks {
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;
  readonly perNode: ReadonlyMap<number, ZoneWatermarks>;
}

function checkIntOption(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new InputError(`${name}: expected an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  }
}

/** Watermarks of every node of a host, with min_free_kbytes computed over the whole host. */
export function computeWatermarks(topo: Topology, opts: WatermarkOptions = {}): HostWatermarks {
  const wsf = opts.watermarkScaleFactor ?? DEFAULT_WATERMARK_SCALE_FACTOR;
  checkIntOption('watermark_scale_factor', wsf, WATERMARK_SCALE_FACTOR_MIN, WATERMARK_SCALE_FACTOR_MAX);
  const zones: WatermarkZone[] = topo.nodes.map((n) => ({
    node: n.id,
    managedPages: bytesToPages(n.sizeBytes),
    zone: n.zone,
  }));
  let minFree: number;
  if (opts.minFreeKbytes !== undefined) {
    checkIntOption('min_free_kbytes', opts.minFreeKbytes, 0, INT_MAX);
    minFree = opts.minFreeKbytes;
  } else {
    minFree = calculateMinFreeKbytes(lowmemPages(zones) * BigInt(1 << (PAGE_SHIFT - 10)));
  }
  return {
    minFreeKbytes: minFree,
    watermarkScaleFactor: wsf,
    perNode: setupPerZoneWmarks(zones, minFree, wsf),
  };
}
