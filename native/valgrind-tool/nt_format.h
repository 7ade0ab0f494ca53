/*
 * numatier trace format, version 2 (timed): the constants and encoders the Valgrind tool needs.
 * The byte layout is specified in docs/traces.md; src/traces/format.ts is the TypeScript side and
 * both must agree. Everything is little-endian.
 *
 *   header  magic[8] version:u16 flags:u16 page_size:u32 line_shift:u8 reserved[3]
 *           record_count:u64 source_len:u32 instructions:u64 data_accesses:u64
 *           source[source_len] crc32:u32
 *   block   payload_len:u32 record_count:u32 instructions:u64 crc32:u32 payload[payload_len]
 *   end     0:u32 0:u32 total_records:u64 instructions:u64 data_accesses:u64 crc32:u32
 *
 * A block's instructions are those retired from just after the previous block's last record up to
 * its own last record; the end marker's are the program's total (the rest ran after the last record).
 *
 * A record is one unsigned LEB128 varint v = zigzag(unit - base) << 2 | sel << 1 | write, where
 * unit = address >> line_shift and base is one of two recent units (A if sel = 0, B if sel = 1);
 * after the record, B = A if sel = 1, and A = unit. Both bases are 0 at the start of every block.
 */
#ifndef NT_FORMAT_H
#define NT_FORMAT_H

#include "pub_tool_basics.h"

#define NT_MAGIC_LEN 8
static const UChar NT_MAGIC[NT_MAGIC_LEN] = {0x89, 'N', 'T', 'R', 'A', 'C', 'E', '\n'};
#define NT_VERSION 2
/* flags bit 0: records are what a last-level cache exchanges with memory (fills and dirty write-backs). */
#define NT_FLAG_LLC_FILTERED 1u
#define NT_HEADER_FIXED_LEN 48
#define NT_MAX_SOURCE_LEN 65536
#define NT_BLOCK_HEADER_LEN 20
#define NT_END_LEN 36
/* A block also ends once its records span this many instructions (format.ts INSTRUCTIONS_PER_BLOCK):
   the time resolution replay gets, ~2 ms of a 2.2 GHz core, for 20 header bytes per block. */
#define NT_BLOCK_INSTRUCTIONS (1ULL << 22)
/* Payload bytes per block this tool aims for; readers accept up to 1 MiB. */
#define NT_BLOCK_TARGET 65536
/* Units stay below 2^50 so that every varint value (< 2^53) is exact in a JavaScript double. */
#define NT_MAX_UNIT (1ULL << 50)
#define NT_LINE_SHIFT 6
#define NT_PAGE_SIZE 4096

/* CRC-32 (the IEEE 802.3 / zlib polynomial, reflected 0xEDB88320), eight bytes per step
   ("slicing by 8"): table k maps a byte to its CRC contribution k bytes further on. The plain
   one-table loop cost more than all the rest of the tool on raw traces. */
static UInt nt_crc_table[8][256];

static void nt_crc_init(void)
{
   UInt n, k, c;
   for (n = 0; n < 256; n++) {
      c = n;
      for (k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      nt_crc_table[0][n] = c;
   }
   for (n = 0; n < 256; n++)
      for (k = 1; k < 8; k++)
         nt_crc_table[k][n] = (nt_crc_table[k - 1][n] >> 8) ^ nt_crc_table[0][nt_crc_table[k - 1][n] & 0xFF];
}

static inline UInt nt_load_u32le(const UChar* p)
{
   return (UInt)p[0] | ((UInt)p[1] << 8) | ((UInt)p[2] << 16) | ((UInt)p[3] << 24);
}

/* Continues a CRC: start with crc = 0. */
static UInt nt_crc32(UInt crc, const UChar* p, SizeT n)
{
   UInt c = crc ^ 0xFFFFFFFFu;
   while (n >= 8) {
      UInt lo = c ^ nt_load_u32le(p);
      UInt hi = nt_load_u32le(p + 4);
      c = nt_crc_table[7][lo & 0xFF] ^ nt_crc_table[6][(lo >> 8) & 0xFF] ^ nt_crc_table[5][(lo >> 16) & 0xFF] ^
          nt_crc_table[4][lo >> 24] ^ nt_crc_table[3][hi & 0xFF] ^ nt_crc_table[2][(hi >> 8) & 0xFF] ^
          nt_crc_table[1][(hi >> 16) & 0xFF] ^ nt_crc_table[0][hi >> 24];
      p += 8;
      n -= 8;
   }
   while (n--) c = nt_crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
   return c ^ 0xFFFFFFFFu;
}

static inline void nt_put_u16(UChar* p, UInt v) { p[0] = (UChar)v; p[1] = (UChar)(v >> 8); }

static inline void nt_put_u32(UChar* p, UInt v)
{
   p[0] = (UChar)v;
   p[1] = (UChar)(v >> 8);
   p[2] = (UChar)(v >> 16);
   p[3] = (UChar)(v >> 24);
}

static inline void nt_put_u64(UChar* p, ULong v)
{
   nt_put_u32(p, (UInt)v);
   nt_put_u32(p + 4, (UInt)(v >> 32));
}

#endif
