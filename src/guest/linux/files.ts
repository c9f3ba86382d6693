// read, write and their vector and positioned forms, lseek, close. Every byte a read delivers is an input.
import { type Args, TASK_SIZE_MAX, MAX_RW_COUNT, i64, int, u64 } from './args.js';
import { E, err } from './errno.js';
import { type WriteResult, fileSize, readFrom, writeTo } from './file-io.js';
import type { HandlerGroup, SyscallResult } from './handler.js';
import { InputKind } from './input-kind.js';
import { readable } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { readIn, readIovecs, writeOut } from './user-memory.js';

/** The most bytes one write takes from the guest (a shorter count is returned; libc writes the rest). */
const WRITE_CHUNK = 64 << 20;

const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

/** access_ok(): the range lies in the user half. */
function userRange(addr: bigint, len: bigint): boolean {
  return len <= TASK_SIZE_MAX && addr + len <= TASK_SIZE_MAX;
}

function clampCount(count: bigint): number {
  return count > BigInt(MAX_RW_COUNT) ? MAX_RW_COUNT : Number(count);
}

/** read / pread64 into one buffer. */
export function readOne(p: LinuxProcess, fd: number, buf: bigint, count: bigint, pos: bigint | undefined): bigint {
  const e = p.fds.get(fd);
  if (e === undefined || !readable(e.file)) return err(e?.file.kind === 'dir' ? E.EISDIR : E.EBADF);
  if (!userRange(buf, count)) return err(E.EFAULT);
  const r = readFrom(p, e.file, clampCount(count), pos);
  if (typeof r === 'number') return err(r);
  if (!writeOut(p.mem, buf, r.data)) {
    r.commit(0);
    return err(E.EFAULT);
  }
  r.commit(r.data.length);
  p.input(InputKind.READ, r.data);
  return BigInt(r.data.length);
}

/** readv / preadv: one read of the total, scattered over the buffers. */
function readVec(p: LinuxProcess, fd: number, iovAddr: bigint, iovcnt: number, pos: bigint | undefined): bigint {
  const e = p.fds.get(fd);
  if (e === undefined || !readable(e.file)) return err(e?.file.kind === 'dir' ? E.EISDIR : E.EBADF);
  const iov = readIovecs(p.mem, iovAddr, iovcnt);
  if (typeof iov === 'number') return err(iov);
  const total = iov.reduce((s, [, len]) => s + len, 0n);
  const r = readFrom(p, e.file, clampCount(total), pos);
  if (typeof r === 'number') return err(r);
  let done = 0;
  for (const [base, len] of iov) {
    if (done >= r.data.length) break;
    const part = r.data.subarray(done, done + Number(len < BigInt(r.data.length - done) ? len : BigInt(r.data.length - done)));
    if (!writeOut(p.mem, base, part)) break;
    done += part.length;
  }
  r.commit(done);
  if (done === 0 && r.data.length > 0) return err(E.EFAULT);
  const delivered = r.data.subarray(0, done);
  p.input(InputKind.READ, delivered);
  return BigInt(done);
}

function writeResult(r: WriteResult): SyscallResult {
  if (typeof r === 'number') return BigInt(r);
  return 'errno' in r ? err(r.errno) : r;
}

/** write / pwrite64 from one buffer (`noSignal`: a broken pipe is EPIPE without SIGPIPE, as send's MSG_NOSIGNAL). */
export function writeOne(p: LinuxProcess, fd: number, buf: bigint, count: bigint, pos: bigint | undefined, noSignal = false): SyscallResult {
  const e = p.fds.get(fd);
  if (e === undefined) return err(E.EBADF);
  if (!userRange(buf, count)) return err(E.EFAULT);
  const n = Math.min(clampCount(count), WRITE_CHUNK);
  const data = readIn(p.mem, buf, n);
  if (data === undefined) return err(E.EFAULT);
  return writeResult(writeTo(p, e.file, data, pos, noSignal));
}

/** writev / pwritev: the buffers gathered into one write (stopping at the first unreadable one). */
function writeVec(p: LinuxProcess, fd: number, iovAddr: bigint, iovcnt: number, pos: bigint | undefined): SyscallResult {
  const e = p.fds.get(fd);
  if (e === undefined) return err(E.EBADF);
  const iov = readIovecs(p.mem, iovAddr, iovcnt);
  if (typeof iov === 'number') return err(iov);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [base, len] of iov) {
    const n = Math.min(Number(len < BigInt(WRITE_CHUNK) ? len : BigInt(WRITE_CHUNK)), WRITE_CHUNK - total);
    if (n === 0) continue;
    const part = readIn(p.mem, base, n);
    if (part === undefined) {
      if (total === 0) return err(E.EFAULT);
      break;
    }
    parts.push(part);
    total += n;
  }
  return writeResult(writeTo(p, e.file, Buffer.concat(parts), pos));
}

/** The offset argument of a positioned call, or EINVAL if negative. */
function position(a: Args, i: number): bigint | undefined {
  const pos = i64(a, i);
  return pos < 0n ? undefined : pos;
}

function lseek(p: LinuxProcess, fd: number, off: bigint, whence: number): bigint {
  const e = p.fds.get(fd);
  if (e === undefined) return err(E.EBADF);
  const f = e.file;
  if (whence < SEEK_SET || whence > SEEK_HOLE) return err(E.EINVAL);
  switch (f.kind) {
    case 'stream': case 'pipe': case 'anon': return err(E.ESPIPE);
    case 'path': return err(E.EBADF);
    case 'device': return 0n; // null/zero/random: position stays 0
    case 'dir': {
      const to = whence === SEEK_SET ? off : whence === SEEK_CUR ? f.offset + off : -1n;
      if (to < 0n) return err(E.EINVAL);
      if (to === 0n) f.entries = undefined; // rewinddir: the next getdents64 reads the directory again
      f.offset = to;
      return to;
    }
    case 'file': {
      const size = fileSize(f);
      let to: bigint;
      switch (whence) {
        case SEEK_SET: to = off; break;
        case SEEK_CUR: to = f.offset + off; break;
        case SEEK_END: to = size + off; break;
        default: // SEEK_DATA, SEEK_HOLE: the file is all data with a hole at its end
          if (off < 0n) return err(E.EINVAL);
          if (off >= size) return err(E.ENXIO);
          to = whence === SEEK_DATA ? off : size;
      }
      if (to < 0n || to > 0x7fffffffffffffffn) return err(E.EINVAL);
      f.offset = to;
      return to;
    }
  }
}

function preadv(p: LinuxProcess, a: Args): bigint {
  const pos = position(a, 3);
  return pos === undefined ? err(E.EINVAL) : readVec(p, int(a, 0), u64(a, 1), int(a, 2), pos);
}

function pwritev(p: LinuxProcess, a: Args): SyscallResult {
  const pos = position(a, 3);
  return pos === undefined ? err(E.EINVAL) : writeVec(p, int(a, 0), u64(a, 1), int(a, 2), pos);
}

/** preadv2/pwritev2: offset -1 means the file position; flags (RWF_*) are accepted and ignored when valid. */
const RWF_VALID = 0x1f;

export const fileSyscalls: HandlerGroup = {
  read: (p, a) => readOne(p, int(a, 0), u64(a, 1), u64(a, 2), undefined),
  write: (p, a) => writeOne(p, int(a, 0), u64(a, 1), u64(a, 2), undefined),
  pread64: (p, a) => {
    const pos = position(a, 3);
    return pos === undefined ? err(E.EINVAL) : readOne(p, int(a, 0), u64(a, 1), u64(a, 2), pos);
  },
  pwrite64: (p, a) => {
    const pos = position(a, 3);
    return pos === undefined ? err(E.EINVAL) : writeOne(p, int(a, 0), u64(a, 1), u64(a, 2), pos);
  },
  readv: (p, a) => readVec(p, int(a, 0), u64(a, 1), int(a, 2), undefined),
  writev: (p, a) => writeVec(p, int(a, 0), u64(a, 1), int(a, 2), undefined),
  preadv,
  pwritev,
  preadv2: (p, a) => {
    if ((int(a, 5) & ~RWF_VALID) !== 0) return err(E.EOPNOTSUPP);
    return i64(a, 3) === -1n ? readVec(p, int(a, 0), u64(a, 1), int(a, 2), undefined) : preadv(p, a);
  },
  pwritev2: (p, a) => {
    if ((int(a, 5) & ~RWF_VALID) !== 0) return err(E.EOPNOTSUPP);
    return i64(a, 3) === -1n ? writeVec(p, int(a, 0), u64(a, 1), int(a, 2), undefined) : pwritev(p, a);
  },
  lseek: (p, a) => lseek(p, int(a, 0), i64(a, 1), int(a, 2)),
  close: (p, a) => (p.fds.close(int(a, 0)) ? 0n : err(E.EBADF)),
};
