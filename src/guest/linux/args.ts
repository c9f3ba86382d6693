// Decoding system call arguments. The ABI passes six 64-bit registers; a C `int` parameter is the low 32 bits,
// a pointer or size_t is the whole register. Missing arguments read as 0.

/** The system call's arguments (rdi, rsi, rdx, r10, r8, r9) as unsigned or signed 64-bit values. */
export type Args = readonly bigint[];

/** Argument `i` as a C int (low 32 bits, signed). */
export function int(a: Args, i: number): number {
  return Number(BigInt.asIntN(32, a[i] ?? 0n));
}

/** Argument `i` as a C unsigned int (low 32 bits). */
export function uint(a: Args, i: number): number {
  return Number(BigInt.asUintN(32, a[i] ?? 0n));
}

/** Argument `i` as a pointer or size_t (unsigned 64 bits). */
export function u64(a: Args, i: number): bigint {
  return BigInt.asUintN(64, a[i] ?? 0n);
}

/** Argument `i` as a long / off_t / ssize_t (signed 64 bits). */
export function i64(a: Args, i: number): bigint {
  return BigInt.asIntN(64, a[i] ?? 0n);
}

/** Linux caps one read or write at MAX_RW_COUNT (INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7ffff000;

/** The user address space ends here (TASK_SIZE_MAX on x86-64 with 4-level paging). */
export const TASK_SIZE_MAX = 0x7ffffffff000n;
