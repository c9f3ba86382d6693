// Copying to and from the guest with Linux's conventions: a fault is EFAULT, a path is at most PATH_MAX bytes.
import type { UserMemory } from '../abi.js';
import { type ByteString, bytesToBStr } from './byte-string.js';
import { E } from './errno.js';
import { PATH_MAX } from './fs-view.js';

/** A NUL-terminated path from the guest, or an errno (EFAULT, ENAMETOOLONG). */
export function readPath(mem: UserMemory, addr: bigint): ByteString | number {
  const s = mem.readCString(addr, PATH_MAX);
  if (s === undefined) return mem.read(addr, PATH_MAX) !== undefined ? E.ENAMETOOLONG : E.EFAULT;
  const end = s.indexOf(0);
  return bytesToBStr(end >= 0 ? s.subarray(0, end) : s);
}

/** Reads `len` bytes; undefined is EFAULT. A zero-length read succeeds anywhere. */
export function readIn(mem: UserMemory, addr: bigint, len: number): Uint8Array | undefined {
  return len === 0 ? new Uint8Array(0) : mem.read(addr, len);
}

/** Writes bytes; false is EFAULT. */
export function writeOut(mem: UserMemory, addr: bigint, data: Uint8Array): boolean {
  return data.length === 0 || mem.write(addr, data);
}

/** An iovec array: [base, len] pairs, or an errno (EINVAL for a bad count or total, EFAULT). */
export function readIovecs(mem: UserMemory, addr: bigint, count: number): [bigint, bigint][] | number {
  if (count < 0 || count > 1024) return E.EINVAL;
  const raw = readIn(mem, addr, count * 16);
  if (raw === undefined) return E.EFAULT;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: [bigint, bigint][] = [];
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const base = dv.getBigUint64(i * 16, true), len = dv.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fffffffffffffffn) return E.EINVAL;
    total += len;
    if (total > 0x7fffffffffffffffn) return E.EINVAL;
    out.push([base, len]);
  }
  return out;
}
