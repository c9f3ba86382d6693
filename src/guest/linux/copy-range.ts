// sendfile: a read from one descriptor and a write to another done by the kernel, here as readFrom + writeTo (the
// bytes read are an input, as for read); an offset pointer gives the input position (and is advanced) instead of
// the file position. copy_file_range copies only between regular files of one file system: the guest's files are
// read-only, so its only writable regular files are host streams on another file system (EXDEV, as Linux answers
// for a copy from a file to a file elsewhere); anything else is not a regular file (EINVAL). Programs fall back to
// read and write either way, as natively.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { readFrom, writeTo } from './file-io.js';
import { isRegularStream } from './file-io.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';
import type { SyscallResult } from './handler.js';

/** At most this many bytes per call (Linux copies in chunks and returns a short count too). */
const CHUNK = 1 << 20;

function copy(p: LinuxProcess, inFd: number, inOffAddr: bigint, outFd: number, outOffAddr: bigint, count: bigint): SyscallResult {
  const src = p.fds.get(inFd), dst = p.fds.get(outFd);
  if (src === undefined || dst === undefined) return err(E.EBADF);
  const readOff = (addr: bigint): bigint | number | undefined => {
    if (addr === 0n) return undefined;
    const b = readIn(p.mem, addr, 8);
    if (b === undefined) return E.EFAULT;
    const v = new DataView(b.buffer, b.byteOffset).getBigInt64(0, true);
    return v < 0n ? E.EINVAL : v;
  };
  const inPos = readOff(inOffAddr), outPos = readOff(outOffAddr);
  if (typeof inPos === 'number' || typeof outPos === 'number') return err(typeof inPos === 'number' ? inPos : outPos as number);
  const n = Number(count < BigInt(CHUNK) ? count : BigInt(CHUNK));
  if (n === 0) return 0n;
  const r = readFrom(p, src.file, n, inPos);
  if (typeof r === 'number') return err(r);
  const w = writeTo(p, dst.file, r.data, outPos);
  if (typeof w === 'object' && 'kind' in w) { r.commit(0); return w; }
  if (typeof w === 'object') { r.commit(0); return err(w.errno); }
  r.commit(w);
  p.input(InputKind.READ, r.data.subarray(0, w));
  if (inPos !== undefined && !writeOut(p.mem, inOffAddr, new StructWriter(8).u64(0, inPos + BigInt(w)).bytes)) return err(E.EFAULT);
  if (outPos !== undefined && !writeOut(p.mem, outOffAddr, new StructWriter(8).u64(0, outPos + BigInt(w)).bytes)) return err(E.EFAULT);
  return BigInt(w);
}

export const copyRangeSyscalls: HandlerGroup = {
  sendfile: (p, a: Args) => copy(p, int(a, 1), u64(a, 2), int(a, 0), 0n, u64(a, 3)),
  copy_file_range: (p, a) => {
    const src = p.fds.get(int(a, 0)), dst = p.fds.get(int(a, 2));
    if (src === undefined || dst === undefined) return err(E.EBADF);
    if (int(a, 5) !== 0 || src.file.kind !== 'file') return err(E.EINVAL);
    return err(dst.file.kind === 'stream' && isRegularStream(dst.file) ? E.EXDEV : E.EINVAL);
  },
};
