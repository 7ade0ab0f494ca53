import * as zlib from 'node:zlib';

/**
 * CRC-32 as zlib and gzip compute it (polynomial 0xEDB88320, reflected). Node ≥ 20.15 / 22.2 has
 * a native zlib.crc32; older Node 20 releases get the table-driven version below, which gives the
 * same values at a fraction of the speed.
 */
type Crc32Fn = (data: Uint8Array, value?: number) => number;

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Table-driven CRC-32; `value` continues an earlier CRC (0 to start). */
export function crc32Portable(data: Uint8Array, value = 0): number {
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

/** CRC-32 of `data`, continuing `value` (0 to start). */
export const crc32: Crc32Fn = typeof native === 'function' ? (d, v = 0) => native(d, v) >>> 0 : crc32Portable;
