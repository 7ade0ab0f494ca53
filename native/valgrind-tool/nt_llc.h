/*
 * A last-level cache model: set-associative, true LRU, 64-byte lines, write-back with
 * write-allocate. Only what such a cache exchanges with memory leaves it: a fill (a read record)
 * on every miss and a write-back (a write record) for every dirty line it evicts.
 *
 * Each set is an array of `ways` entries kept in recency order (index 0 = most recently used).
 * An entry is line << 1 | dirty; NT_LLC_EMPTY marks a way never filled. Moving a hit to the
 * front shifts at most ways-1 entries, which for the usual 8..20 ways costs less than keeping
 * age counters and stays exact LRU.
 */
#ifndef NT_LLC_H
#define NT_LLC_H

#include "pub_tool_basics.h"

#define NT_LLC_EMPTY (~0ULL)

typedef struct {
   ULong* entries; /* sets * ways */
   ULong sets;
   UInt ways;
   ULong set_mask; /* sets - 1 when sets is a power of two, else 0 */
} NtLlc;

/* What one access did to memory: a write-back of `victim` (if has_victim) then a fill of the line (if miss). */
typedef struct {
   Bool miss;
   Bool has_victim;
   ULong victim;
} NtLlcOutcome;

static inline void nt_llc_access(NtLlc* c, ULong line, UInt is_write, NtLlcOutcome* out)
{
   ULong set = c->set_mask ? (line & c->set_mask) : (line % c->sets);
   ULong* s = c->entries + set * c->ways;
   ULong key = line << 1;
   UInt i, ways = c->ways;
   out->miss = False;
   out->has_victim = False;
   if (LIKELY((s[0] & ~1ULL) == key)) {
      s[0] |= is_write;
      return;
   }
   for (i = 1; i < ways; i++) {
      if ((s[i] & ~1ULL) == key) {
         ULong e = s[i] | is_write;
         for (; i > 0; i--) s[i] = s[i - 1];
         s[0] = e;
         return;
      }
   }
   {
      ULong victim = s[ways - 1];
      if (victim != NT_LLC_EMPTY && (victim & 1)) {
         out->has_victim = True;
         out->victim = victim >> 1;
      }
      for (i = ways - 1; i > 0; i--) s[i] = s[i - 1];
      s[0] = key | is_write;
      out->miss = True;
   }
}

#endif
