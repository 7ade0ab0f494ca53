import { createRequire } from 'node:module';
import process from 'node:process';

/**
 * The one system call the controller needs that Node has no API for: move_pages(2). Behind this
 * interface so that tests replace it with a fake; on a host it goes through koffi (an FFI whose
 * prebuilt binaries ship in npm packages, so no compiler is needed on the target) to libc's
 * syscall().
 */
export interface Syscalls {
  /**
   * move_pages(2) for pid; pages are 4 KiB virtual page numbers; nodes null = query. Returns 0,
   * the number of pages not moved, or -errno for the whole call (see interface.ts).
   */
  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number;
}

/** Pages per move_pages(2) call: keeps each call short (the issue asks ≤ 20 ms per call). */
export const MOVE_BATCH = 4096;

/** MPOL_MF_MOVE (include/uapi/linux/mempolicy.h): only pages mapped by this process alone. */
const MPOL_MF_MOVE = 1 << 1;

/** __NR_move_pages per architecture (arch/x86/entry/syscalls/syscall_64.tbl; asm-generic/unistd.h). */
const SYS_MOVE_PAGES: Partial<Record<string, number>> = { x64: 279, arm64: 239 };

type RawSyscall = (nr: number, ...typedArgs: unknown[]) => number;

/**
 * Splits a call into batches of MOVE_BATCH pages, with buffers made once: the pages become
 * addresses in a 64-bit array written as two 32-bit halves (a BigInt per page would allocate).
 * Exported for tests, which pass a fake raw call.
 */
export class BatchedMovePages implements Syscalls {
  private readonly addr = new Uint32Array(MOVE_BATCH * 2);
  private readonly nodes = new Int32Array(MOVE_BATCH);
  private readonly status = new Int32Array(MOVE_BATCH);

  constructor(
    /** The kernel call on one batch: addresses as u64 (little endian), statuses out. Returns ≥ 0 or -errno. */
    private readonly raw: (
      pid: number,
      count: number,
      addr: Uint32Array,
      nodes: Int32Array | null,
      status: Int32Array,
    ) => number,
  ) {}

  movePages(
    pid: number,
    pages: Float64Array,
    count: number,
    nodes: Int32Array | null,
    status: Int32Array,
  ): number {
    let notMoved = 0;
    for (let off = 0; off < count; off += MOVE_BATCH) {
      const n = Math.min(MOVE_BATCH, count - off);
      for (let i = 0; i < n; i++) {
        const vpn = pages[off + i];
        // vpn < 2^36 on 48-bit (and 57-bit: < 2^45) address spaces: vpn * 4096 is exact.
        this.addr[2 * i] = (vpn % 0x100000) * 4096;
        this.addr[2 * i + 1] = Math.floor(vpn / 0x100000);
        if (nodes !== null) this.nodes[i] = nodes[off + i];
        // Statuses the kernel does not reach keep the caller's values, as with one direct call.
        this.status[i] = status[off + i];
      }
      const r = this.raw(pid, n, this.addr, nodes === null ? null : this.nodes, this.status);
      for (let i = 0; i < n; i++) status[off + i] = this.status[i];
      if (r < 0) return r; // like do_pages_move(): later pages are not tried
      notMoved += r;
    }
    return notMoved;
  }
}

/**
 * move_pages(2) through koffi and libc's syscall(). Throws a clear error on an architecture
 * whose syscall number is not known here, off Linux, or when koffi cannot load.
 */
export function loadSyscalls(): Syscalls {
  if (process.platform !== 'linux')
    throw new Error(`move_pages(2) is Linux only; this is ${process.platform}`);
  const nr = SYS_MOVE_PAGES[process.arch];
  if (nr === undefined)
    throw new Error(`move_pages(2): no syscall number known for ${process.arch} (known: x64 279, arm64 239)`);
  if (!(new Uint8Array(new Uint16Array([1]).buffer)[0] === 1))
    throw new Error('move_pages(2): a big-endian host is not supported');
  const require = createRequire(import.meta.url);
  let koffi: {
    load(name: string): { func(proto: string): RawSyscall };
    errno(): number;
  };
  let syscall: RawSyscall;
  try {
    koffi = require('koffi') as typeof koffi;
    syscall = koffi.load('libc.so.6').func('long syscall(long number, ...)');
  } catch (e) {
    throw new Error(`move_pages(2): cannot load koffi or libc.so.6: ${(e as Error).message}`);
  }
  return new BatchedMovePages((pid, count, addr, nodes, status) => {
    const r = syscall(
      nr,
      'long',
      pid,
      'unsigned long',
      count,
      'void *',
      addr,
      'void *',
      nodes,
      'void *',
      status,
      'long',
      MPOL_MF_MOVE,
    );
    return r < 0 ? -koffi.errno() : r;
  });
}
