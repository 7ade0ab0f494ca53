/*
 * numatrace: a Valgrind tool that records a program's data accesses (loads, stores, and both for
 * read-modify-write instructions) as numatier's binary trace format (docs/traces.md).
 *
 * Why a tool of our own rather than lackey: lackey formats one text line per access and writes it
 * through the log sink, which caps it near 0.4 M accesses/s. Here each access costs one helper call
 * that appends a 1..9-byte varint to an in-memory block; blocks are checksummed and written with
 * write(2) a megabyte at a time. An optional last-level cache model filters accesses in-process so
 * only memory traffic (fills and dirty write-backs) reaches the file.
 *
 * Time: the trace also says how many guest instructions ran between records (format version 2).
 * Each superblock adds its instruction count (its IMarks) to a counter with three inlined IR
 * statements before each side exit and at its end, so no helper is called for it; a record sees
 * the counter as of its superblock's previous update, which is exact at block granularity.
 *
 * Options:  --out-file=PATH      trace to write (required)
 *           --llc-size=BYTES     model a last-level cache of this size (0 = off, the default)
 *           --llc-ways=N         its associativity (default 16)
 *
 * Only the process Valgrind starts is recorded: after fork() the child stops writing, and before
 * execve() the trace is completed (Valgrind does not follow exec unless --trace-children=yes). If
 * execve fails, recording resumes where it stopped.
 */
#include "pub_tool_basics.h"
#include "pub_tool_clientstate.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_machine.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_options.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_vki.h"
#include "pub_tool_vkiscnums.h"
#include "pub_tool_xarray.h"

#include "nt_format.h"
#include "nt_llc.h"

/* Not part of the tool interface: moves a descriptor into the range Valgrind reserves for itself,
   so the client can neither close nor dup2() over the trace file. Weak: if a future core drops
   it, the descriptor simply stays where open() put it. */
extern Int VG_(safe_fd)(Int oldfd) __attribute__((weak));

/* ---- options ---------------------------------------------------------------------------- */

static const HChar* clo_out_file = NULL;
static Long clo_llc_size = 0;
static Long clo_llc_ways = 16;

static Bool nt_process_cmd_line_option(const HChar* arg)
{
   if VG_STR_CLO (arg, "--out-file", clo_out_file) {
   } else if VG_BINT_CLO (arg, "--llc-size", clo_llc_size, 0, 1LL << 40) {
   } else if VG_BINT_CLO (arg, "--llc-ways", clo_llc_ways, 1, 1024) {
   } else
      return False;
   return True;
}

static void nt_print_usage(void)
{
   VG_(printf)("    --out-file=PATH        trace file to write (required)\n"
               "    --llc-size=BYTES       filter through a last-level cache of this size [0 = off]\n"
               "    --llc-ways=N           associativity of that cache [16]\n");
}

static void nt_print_debug_usage(void) { VG_(printf)("    (none)\n"); }

/* ---- output ----------------------------------------------------------------------------- */

/* Completed blocks collect in out_buf and go to the file once it holds OUT_FLUSH bytes. The block
   being filled lives in the same buffer right after them, so finishing a block copies nothing. */
#define OUT_FLUSH (1u << 20)
#define OUT_CAP (OUT_FLUSH + NT_BLOCK_HEADER_LEN + NT_BLOCK_TARGET + 64)
static UChar out_buf[OUT_CAP];
static UInt out_len;      /* bytes of completed blocks (and header, end) in out_buf */
static UChar* rec_start;  /* first payload byte of the current block */
static UChar* rec_p;      /* next payload byte */
static UChar* rec_limit;  /* finish the block once rec_p reaches this (a varint is at most 9 bytes) */
static UInt blk_records;  /* records in the current block */
static ULong base_a;      /* the current block's two delta bases: the latest unit recorded */
static ULong base_b;      /* and the one before it that was used as a base (see emit) */

static Int out_fd = -1;
static Long file_off;     /* bytes written to out_fd so far */
static Long end_off = -1; /* where the last end marker was written, for resuming after a failed exec */
static Bool write_failed = False;
static UChar header[NT_HEADER_FIXED_LEN + NT_MAX_SOURCE_LEN + 4];
static UInt header_len;

static ULong n_accesses;  /* accesses the program made (a read-modify-write counts twice) */
static ULong n_instr;     /* guest instructions executed, updated by the instrumented code itself */
static ULong last_rec_instr; /* n_instr when the latest record was emitted */
static ULong blk_instr_base; /* n_instr at the last record of the previous block */
static ULong n_records;   /* records in completed blocks */
static ULong n_dropped;   /* lines at or above 2^50 (addresses >= 2^56), which the format cannot hold */

static Bool llc_on = False;
static NtLlc llc;

static void start_block(void)
{
   rec_start = out_buf + out_len + NT_BLOCK_HEADER_LEN;
   rec_p = rec_start;
   rec_limit = rec_start + NT_BLOCK_TARGET - 9;
   blk_records = 0;
   base_a = base_b = 0;
}

static void write_all(const UChar* p, UInt n)
{
   while (n > 0 && out_fd >= 0 && !write_failed) {
      Int w = VG_(write)(out_fd, p, (Int)n);
      if (w <= 0) {
         VG_(printf)("numatrace: write to %s failed; the trace will be refused as truncated\n", clo_out_file);
         write_failed = True;
         return;
      }
      p += w;
      n -= (UInt)w;
      file_off += w;
   }
}

static void flush_out(void)
{
   /* After fork the child keeps filling blocks (to keep the hot path branch-free) but drops them. */
   if (out_fd >= 0) write_all(out_buf, out_len);
   out_len = 0;
}

static void end_block(void)
{
   UInt payload = (UInt)(rec_p - rec_start);
   if (blk_records > 0) {
      UChar* h = rec_start - NT_BLOCK_HEADER_LEN;
      nt_put_u32(h, payload);
      nt_put_u32(h + 4, blk_records);
      /* Instructions up to this block's last record, not to now: what ran after it belongs to the next. */
      nt_put_u64(h + 8, last_rec_instr - blk_instr_base);
      blk_instr_base = last_rec_instr;
      /* The checksum covers the header fields and the payload, so a damaged length is caught too. */
      nt_put_u32(h + 16, nt_crc32(nt_crc32(0, h, 16), rec_start, payload));
      out_len += NT_BLOCK_HEADER_LEN + payload;
      n_records += blk_records;
      if (out_len >= OUT_FLUSH) flush_out();
   }
   start_block();
}

/* Appends one record. The delta is taken from whichever of the two bases is nearer (a program
   alternates between its stack and its heap, so one base follows each), then that base moves to
   the front: v = zigzag(delta) << 2 | (base is b) << 1 | write, as an unsigned LEB128 varint. */
static inline void emit(ULong unit, UInt is_write)
{
   Long da = (Long)(unit - base_a);
   Long db = (Long)(unit - base_b);
   ULong ma = da < 0 ? (ULong)-da : (ULong)da;
   ULong mb = db < 0 ? (ULong)-db : (ULong)db;
   Long d;
   ULong v;
   UChar* p = rec_p;
   if (mb < ma) {
      d = db;
      v = 2;
      base_b = base_a;
   } else {
      d = da;
      v = 0;
   }
   base_a = unit;
   v |= ((((ULong)d << 1) ^ (ULong)(d >> 63)) << 2) | is_write;
   while (v >= 0x80) {
      *p++ = (UChar)(v | 0x80);
      v >>= 7;
   }
   *p++ = (UChar)v;
   rec_p = p;
   blk_records++;
   last_rec_instr = n_instr;
   if (UNLIKELY(p >= rec_limit || n_instr - blk_instr_base >= NT_BLOCK_INSTRUCTIONS)) end_block();
}

static inline void touch_line(ULong line, UInt is_write)
{
   if (UNLIKELY(line >= NT_MAX_UNIT)) {
      n_dropped++;
      return;
   }
   if (llc_on) {
      NtLlcOutcome o;
      nt_llc_access(&llc, line, is_write, &o);
      if (o.has_victim) emit(o.victim, 1);
      if (o.miss) emit(line, 0);
   } else {
      emit(line, is_write);
   }
}

static inline void touch_range(Addr a, UWord size, UInt is_write)
{
   ULong line = (ULong)a >> NT_LINE_SHIFT;
   ULong last = ((ULong)a + size - 1) >> NT_LINE_SHIFT;
   n_accesses++;
   for (;;) {
      touch_line(line, is_write);
      if (line >= last) break;
      line++;
   }
}

static VG_REGPARM(2) void nt_on_load(Addr a, UWord size) { touch_range(a, size, 0); }
static VG_REGPARM(2) void nt_on_store(Addr a, UWord size) { touch_range(a, size, 1); }
static VG_REGPARM(2) void nt_on_modify(Addr a, UWord size)
{
   touch_range(a, size, 0);
   touch_range(a, size, 1);
}

/* Completes the file: the open block, the end marker, and the header's record count. */
static void finalize(void)
{
   UChar* e;
   if (out_fd < 0) return;
   end_block();
   e = out_buf + out_len;
   nt_put_u32(e, 0);
   nt_put_u32(e + 4, 0);
   nt_put_u64(e + 8, n_records);
   nt_put_u64(e + 16, n_instr);
   nt_put_u64(e + 24, n_accesses);
   nt_put_u32(e + 32, nt_crc32(0, e, 32));
   end_off = file_off + out_len;
   out_len += NT_END_LEN;
   flush_out();
   start_block();
   /* Patch the record count into the header when the output is seekable (it is 0 otherwise). */
   if (!write_failed && VG_(lseek)(out_fd, 0, VKI_SEEK_SET) == 0) {
      Long at_end = file_off;
      nt_put_u64(header + 20, n_records);
      nt_put_u64(header + 32, n_instr);
      nt_put_u64(header + 40, n_accesses);
      nt_put_u32(header + header_len - 4, nt_crc32(0, header, header_len - 4));
      file_off = 0;
      write_all(header, header_len);
      file_off = VG_(lseek)(out_fd, at_end, VKI_SEEK_SET);
   }
}

/* ---- header ----------------------------------------------------------------------------- */

static UInt append_text(HChar* dst, UInt len, UInt cap, const HChar* s)
{
   for (; *s && len < cap; s++) {
      UChar c = (UChar)*s;
      dst[len++] = (c >= 0x20 && c < 0x7F) ? (HChar)c : '?';
   }
   return len;
}

static void build_header(void)
{
   HChar* src = (HChar*)header + NT_HEADER_FIXED_LEN;
   const UInt cap = 4096;
   UInt n = 0;
   Word i;
   HChar num[64];
   n = append_text(src, n, cap, "valgrind --tool=numatrace: ");
   n = append_text(src, n, cap, VG_(args_the_exename) ? VG_(args_the_exename) : "?");
   for (i = 0; i < VG_(sizeXA)(VG_(args_for_client)); i++) {
      n = append_text(src, n, cap, " ");
      n = append_text(src, n, cap, *(HChar**)VG_(indexXA)(VG_(args_for_client), i));
   }
   if (llc_on) {
      VG_(snprintf)(num, sizeof num, "; llc %lld bytes %lld-way LRU, 64-byte lines", clo_llc_size, clo_llc_ways);
      n = append_text(src, n, cap, num);
   }
   VG_(memcpy)(header, NT_MAGIC, NT_MAGIC_LEN);
   nt_put_u16(header + 8, NT_VERSION);
   nt_put_u16(header + 10, llc_on ? NT_FLAG_LLC_FILTERED : 0);
   nt_put_u32(header + 12, NT_PAGE_SIZE);
   header[16] = NT_LINE_SHIFT;
   header[17] = header[18] = header[19] = 0;
   nt_put_u64(header + 20, 0);
   nt_put_u32(header + 28, n);
   nt_put_u64(header + 32, 0); /* instructions and data accesses: patched at the end, like the count */
   nt_put_u64(header + 40, 0);
   header_len = NT_HEADER_FIXED_LEN + n + 4;
   nt_put_u32(header + header_len - 4, nt_crc32(0, header, header_len - 4));
}

/* ---- fork / exec -------------------------------------------------------------------------- */

static void nt_atfork_child(ThreadId tid)
{
   /* The parent owns the file; the child's copy of the descriptor is closed and its data dropped. */
   if (out_fd >= 0) VG_(close)(out_fd);
   out_fd = -1;
}

static Bool exec_pending = False;

static void nt_pre_syscall(ThreadId tid, UInt sysno, UWord* args, UInt nArgs)
{
   if (sysno == __NR_execve || sysno == __NR_execveat) {
      finalize();
      exec_pending = True;
   }
}

static void nt_post_syscall(ThreadId tid, UInt sysno, UWord* args, UInt nArgs, SysRes res)
{
   if (exec_pending && (sysno == __NR_execve || sysno == __NR_execveat)) {
      exec_pending = False;
      /* The exec failed and the program goes on: overwrite the end marker with what follows. */
      if (out_fd >= 0 && end_off >= 0 && VG_(lseek)(out_fd, end_off, VKI_SEEK_SET) == end_off) file_off = end_off;
   }
}

/* ---- instrumentation ---------------------------------------------------------------------- */

enum { NT_LOAD, NT_STORE, NT_MODIFY };

static void add_access(IRSB* sb, IRExpr* addr, Int size, Int kind, IRExpr* guard)
{
   const HChar* name;
   void* fn;
   IRDirty* di;
   if (size <= 0) return;
   switch (kind) {
      case NT_LOAD:
         name = "nt_on_load";
         fn = (void*)nt_on_load;
         break;
      case NT_STORE:
         name = "nt_on_store";
         fn = (void*)nt_on_store;
         break;
      default:
         name = "nt_on_modify";
         fn = (void*)nt_on_modify;
         break;
   }
   di = unsafeIRDirty_0_N(2, name, VG_(fnptr_to_fnentry)(fn), mkIRExprVec_2(addr, mkIRExpr_HWord((HWord)size)));
   if (guard) di->guard = deepCopyIRExpr(guard);
   addStmtToIRSB(sb, IRStmt_Dirty(di));
}

/* The instrumented code's own stores to n_instr use the host's byte order. */
#if defined(VG_BIGENDIAN)
#define NT_HOST_END Iend_BE
#else
#define NT_HOST_END Iend_LE
#endif

/* n_instr += n, as plain IR (load, add, store): far cheaper than a helper call per superblock. */
static void add_instr_count(IRSB* sb, ULong n)
{
   IRExpr* addr = mkIRExpr_HWord((HWord)&n_instr);
   IRTemp old = newIRTemp(sb->tyenv, Ity_I64);
   IRTemp sum = newIRTemp(sb->tyenv, Ity_I64);
   addStmtToIRSB(sb, IRStmt_WrTmp(old, IRExpr_Load(NT_HOST_END, Ity_I64, addr)));
   addStmtToIRSB(sb, IRStmt_WrTmp(sum, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(old), IRExpr_Const(IRConst_U64(n)))));
   addStmtToIRSB(sb, IRStmt_Store(NT_HOST_END, addr, IRExpr_RdTmp(sum)));
}

static IRSB* nt_instrument(VgCallbackClosure* closure, IRSB* sb_in, const VexGuestLayout* layout,
                           const VexGuestExtents* vge, const VexArchInfo* archinfo_host, IRType gWordTy,
                           IRType hWordTy)
{
   IRSB* sb_out;
   IRTypeEnv* env = sb_in->tyenv;
   Int i = 0;
   ULong pending = 0; /* instructions (IMarks) seen since the counter was last updated */
   if (gWordTy != hWordTy) VG_(tool_panic)("numatrace: host and guest word sizes differ");
   sb_out = deepCopyIRSBExceptStmts(sb_in);
   /* Statements before the first instruction mark belong to no instruction: copy them as they are. */
   while (i < sb_in->stmts_used && sb_in->stmts[i]->tag != Ist_IMark) addStmtToIRSB(sb_out, sb_in->stmts[i++]);
   for (; i < sb_in->stmts_used; i++) {
      IRStmt* st = sb_in->stmts[i];
      if (!st || st->tag == Ist_NoOp) continue;
      switch (st->tag) {
         case Ist_IMark:
            pending++;
            break;
         case Ist_Exit:
            /* A taken side exit leaves the superblock here: count what ran so far first. */
            if (pending > 0) add_instr_count(sb_out, pending);
            pending = 0;
            break;
         case Ist_WrTmp: {
            IRExpr* e = st->Ist.WrTmp.data;
            if (e->tag == Iex_Load) add_access(sb_out, e->Iex.Load.addr, sizeofIRType(e->Iex.Load.ty), NT_LOAD, NULL);
            break;
         }
         case Ist_Store:
            add_access(sb_out, st->Ist.Store.addr, sizeofIRType(typeOfIRExpr(env, st->Ist.Store.data)), NT_STORE,
                       NULL);
            break;
         case Ist_StoreG: {
            IRStoreG* sg = st->Ist.StoreG.details;
            add_access(sb_out, sg->addr, sizeofIRType(typeOfIRExpr(env, sg->data)), NT_STORE, sg->guard);
            break;
         }
         case Ist_LoadG: {
            IRLoadG* lg = st->Ist.LoadG.details;
            IRType ty_wide = Ity_INVALID, ty_loaded = Ity_INVALID;
            typeOfIRLoadGOp(lg->cvt, &ty_wide, &ty_loaded);
            add_access(sb_out, lg->addr, sizeofIRType(ty_loaded), NT_LOAD, lg->guard);
            break;
         }
         case Ist_Dirty: {
            IRDirty* d = st->Ist.Dirty.details;
            if (d->mFx != Ifx_None) {
               Int kind = d->mFx == Ifx_Read ? NT_LOAD : d->mFx == Ifx_Write ? NT_STORE : NT_MODIFY;
               add_access(sb_out, d->mAddr, d->mSize, kind, d->guard);
            }
            break;
         }
         case Ist_CAS: {
            /* Counted as a read and a write whether or not the compare succeeds. */
            IRCAS* cas = st->Ist.CAS.details;
            Int size = sizeofIRType(typeOfIRExpr(env, cas->dataLo));
            if (cas->dataHi != NULL) size *= 2;
            add_access(sb_out, cas->addr, size, NT_MODIFY, NULL);
            break;
         }
         case Ist_LLSC:
            if (st->Ist.LLSC.storedata == NULL)
               add_access(sb_out, st->Ist.LLSC.addr, sizeofIRType(typeOfIRTemp(env, st->Ist.LLSC.result)), NT_LOAD,
                          NULL);
            else
               add_access(sb_out, st->Ist.LLSC.addr, sizeofIRType(typeOfIRExpr(env, st->Ist.LLSC.storedata)),
                          NT_STORE, NULL);
            break;
         default:
            break;
      }
      addStmtToIRSB(sb_out, st);
   }
   if (pending > 0) add_instr_count(sb_out, pending);
   return sb_out;
}

/* ---- life cycle -------------------------------------------------------------------------- */

static void nt_post_clo_init(void)
{
   SysRes r;
   if (clo_out_file == NULL || clo_out_file[0] == '\0') {
      VG_(fmsg_bad_option)("--out-file", "numatrace needs --out-file=PATH\n");
   }
   if (clo_llc_size > 0) {
      Long per_set = 64 * clo_llc_ways;
      ULong i, n;
      if (clo_llc_size % per_set != 0) {
         VG_(fmsg_bad_option)("--llc-size", "must be a multiple of 64 * --llc-ways (%lld bytes)\n", per_set);
      }
      llc.sets = (ULong)(clo_llc_size / per_set);
      llc.ways = (UInt)clo_llc_ways;
      llc.set_mask = (llc.sets & (llc.sets - 1)) == 0 ? llc.sets - 1 : 0;
      if (llc.sets == 1) llc.set_mask = 0; /* line % 1 == 0 either way */
      n = llc.sets * llc.ways;
      llc.entries = VG_(malloc)("numatrace.llc", n * sizeof(ULong));
      for (i = 0; i < n; i++) llc.entries[i] = NT_LLC_EMPTY;
      llc_on = True;
   }
   nt_crc_init();
   r = VG_(open)(clo_out_file, VKI_O_CREAT | VKI_O_WRONLY | VKI_O_TRUNC, 0644);
   if (sr_isError(r)) {
      VG_(fmsg)("numatrace: cannot create %s\n", clo_out_file);
      VG_(exit)(2);
   }
   out_fd = (Int)sr_Res(r);
   if (VG_(safe_fd)) out_fd = VG_(safe_fd)(out_fd);
   build_header();
   VG_(memcpy)(out_buf, header, header_len);
   out_len = header_len;
   start_block();
   VG_(atfork)(NULL, NULL, nt_atfork_child);
}

static void nt_fini(Int exitcode)
{
   Bool was_open = out_fd >= 0;
   if (llc_on) {
      /* Lines still dirty when the program ends would reach memory eventually: write them back. */
      ULong i, n = llc.sets * llc.ways;
      for (i = 0; i < n; i++) {
         ULong e = llc.entries[i];
         if (e != NT_LLC_EMPTY && (e & 1)) emit(e >> 1, 1);
      }
   }
   finalize();
   if (was_open) {
      VG_(close)(out_fd);
      out_fd = -1;
      VG_(printf)("numatrace: %llu accesses, %llu records, %llu dropped (address >= 2^56), %llu instructions%s\n",
                  n_accesses, n_records, n_dropped, n_instr, write_failed ? ", WRITE FAILED" : "");
   }
}

static void nt_pre_clo_init(void)
{
   VG_(details_name)("numatrace");
   VG_(details_version)("2");
   VG_(details_description)("numatier memory-access trace recorder");
   VG_(details_copyright_author)("numatier contributors, MIT licence");
   VG_(details_bug_reports_to)("the numatier issue tracker");
   VG_(details_avg_translation_sizeB)(275);
   VG_(basic_tool_funcs)(nt_post_clo_init, nt_instrument, nt_fini);
   VG_(needs_command_line_options)(nt_process_cmd_line_option, nt_print_usage, nt_print_debug_usage);
   VG_(needs_syscall_wrapper)(nt_pre_syscall, nt_post_syscall);
}

VG_DETERMINE_INTERFACE_VERSION(nt_pre_clo_init)
