// struct stat (x86-64, 144 bytes) and struct statx (256 bytes), byte for byte.
import { type FileStat, major, minor } from './file-stat.js';
import { StructWriter } from './struct-writer.js';

export const STAT_SIZE = 144;
export const STATX_SIZE = 256;

/** statx mask bits. */
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_RESERVED = 0x80000000;

const NS = 1_000_000_000n;

function sec(ns: bigint): bigint {
  return ns >= 0n ? ns / NS : -((-ns + NS - 1n) / NS);
}

function nsec(ns: bigint): bigint {
  return ns - sec(ns) * NS;
}

/** struct stat as newfstatat/fstat/stat write it. */
export function encodeStat(s: FileStat): Uint8Array {
  const w = new StructWriter(STAT_SIZE);
  w.u64(0, s.dev).u64(8, s.ino).u64(16, s.nlink).u32(24, s.mode).u32(28, s.uid).u32(32, s.gid)
    .u64(40, s.rdev).u64(48, s.size).u64(56, s.blksize).u64(64, s.blocks)
    .u64(72, sec(s.atimeNs)).u64(80, nsec(s.atimeNs))
    .u64(88, sec(s.mtimeNs)).u64(96, nsec(s.mtimeNs))
    .u64(104, sec(s.ctimeNs)).u64(112, nsec(s.ctimeNs));
  return w.bytes;
}

/** struct statx, every basic field filled (Linux may fill more than asked for). */
export function encodeStatx(s: FileStat): Uint8Array {
  const w = new StructWriter(STATX_SIZE);
  const ts = (off: number, ns: bigint): void => {
    w.u64(off, sec(ns)).u32(off + 8, Number(nsec(ns)));
  };
  w.u32(0, STATX_BASIC_STATS | (s.birthtimeNs !== undefined ? STATX_BTIME : 0)).u32(4, Number(s.blksize))
    .u32(16, Number(s.nlink)).u32(20, s.uid).u32(24, s.gid).u16(28, s.mode & 0xffff)
    .u64(32, s.ino).u64(40, s.size).u64(48, s.blocks);
  ts(64, s.atimeNs);
  if (s.birthtimeNs !== undefined) ts(80, s.birthtimeNs);
  ts(96, s.ctimeNs);
  ts(112, s.mtimeNs);
  w.u32(128, major(s.rdev)).u32(132, minor(s.rdev)).u32(136, major(s.dev)).u32(140, minor(s.dev));
  return w.bytes;
}
