// dup, dup2, dup3, fcntl, pipe, pipe2, close_range: operations on the descriptor table itself.
import { type Args, int, u64, uint } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { O, type PipeEnd, readable, writable } from './open-file.js';
import { PIPE_CAPACITY, Pipe } from './pipe.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

/** fcntl commands. */
const F = {
  DUPFD: 0, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, GETLK: 5, SETLK: 6, SETLKW: 7, SETOWN: 8, GETOWN: 9,
  SETSIG: 10, GETSIG: 11, OFD_GETLK: 36, OFD_SETLK: 37, OFD_SETLKW: 38, SETLEASE: 1024, GETLEASE: 1025,
  DUPFD_CLOEXEC: 1030, SETPIPE_SZ: 1031, GETPIPE_SZ: 1032,
} as const;
const FD_CLOEXEC = 1;
const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
/** Status flags F_SETFL may change. */
const SETFL_MASK = O.APPEND | O.NONBLOCK | O.DIRECT | O.NOATIME | O.ASYNC;

function dupFrom(p: LinuxProcess, oldfd: number, min: number, cloexec: boolean): bigint {
  const e = p.fds.get(oldfd);
  if (e === undefined) return err(E.EBADF);
  if (min >= p.fdLimit()) return err(E.EINVAL);
  const fd = p.fds.alloc(e.file, cloexec, p.fdLimit(), min);
  return fd < 0 ? err(E.EMFILE) : BigInt(fd);
}

function dup3(p: LinuxProcess, oldfd: number, newfd: number, flags: number, isDup2: boolean): bigint {
  if ((flags & ~O.CLOEXEC) !== 0) return err(E.EINVAL);
  if (!isDup2 && oldfd === newfd) return err(E.EINVAL);
  if (newfd < 0 || newfd >= p.fdLimit()) return err(E.EBADF);
  const e = p.fds.get(oldfd);
  if (e === undefined) return err(E.EBADF);
  if (oldfd !== newfd) p.fds.install(newfd, e.file, (flags & O.CLOEXEC) !== 0);
  return BigInt(newfd);
}

/** F_GETLK / F_SETLK on struct flock: no other process holds locks, so every lock is granted. */
function lock(p: LinuxProcess, a: Args, get: boolean): bigint {
  const e = p.fds.get(int(a, 0));
  if (e === undefined) return err(E.EBADF);
  const fl = readIn(p.mem, u64(a, 2), 32);
  if (fl === undefined) return err(E.EFAULT);
  const type = new DataView(fl.buffer, fl.byteOffset).getInt16(0, true);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return err(E.EINVAL);
  if (get) {
    const out = fl.slice();
    new DataView(out.buffer).setInt16(0, F_UNLCK, true);
    return writeOut(p.mem, u64(a, 2), out) ? 0n : err(E.EFAULT);
  }
  if ((type === F_RDLCK && !readable(e.file)) || (type === F_WRLCK && !writable(e.file))) return err(E.EBADF);
  return 0n;
}

function fcntl(p: LinuxProcess, a: Args): bigint {
  const fd = int(a, 0), cmd = int(a, 1);
  const e = p.fds.get(fd);
  if (e === undefined) return err(E.EBADF);
  const f = e.file;
  const pathOk = cmd === F.DUPFD || cmd === F.DUPFD_CLOEXEC || cmd === F.GETFD || cmd === F.SETFD || cmd === F.GETFL;
  if (f.kind === 'path' && !pathOk) return err(E.EBADF);
  const arg = u64(a, 2);
  switch (cmd) {
    case F.DUPFD: case F.DUPFD_CLOEXEC:
      return arg >= BigInt(p.fdLimit()) ? err(E.EINVAL) : dupFrom(p, fd, Number(arg), cmd === F.DUPFD_CLOEXEC);
    case F.GETFD: return e.cloexec ? BigInt(FD_CLOEXEC) : 0n;
    case F.SETFD:
      e.cloexec = (Number(arg & 1n) & FD_CLOEXEC) !== 0;
      return 0n;
    case F.GETFL: return BigInt(f.flags);
    case F.SETFL:
      f.flags = (f.flags & ~SETFL_MASK) | (uint(a, 2) & SETFL_MASK);
      return 0n;
    case F.GETLK: case F.OFD_GETLK: return lock(p, a, true);
    case F.SETLK: case F.SETLKW: case F.OFD_SETLK: case F.OFD_SETLKW: return lock(p, a, false);
    case F.SETOWN: case F.SETSIG: return 0n;
    case F.GETOWN: case F.GETSIG: return 0n;
    case F.GETLEASE: return BigInt(F_UNLCK);
    case F.GETPIPE_SZ: case F.SETPIPE_SZ:
      return f.kind === 'pipe' ? BigInt(PIPE_CAPACITY) : err(E.EBADF);
    default: return err(E.EINVAL);
  }
}

function pipe2(p: LinuxProcess, fdsAddr: bigint, flags: number): bigint {
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK | O.DIRECT)) !== 0) return err(E.EINVAL);
  const pipe = new Pipe();
  const ino = BigInt(++p.pipeCount);
  const status = flags & (O.NONBLOCK | O.DIRECT);
  const r: PipeEnd = { kind: 'pipe', pipe, end: 'read', ino, refs: 0, flags: O.RDONLY | status };
  const w: PipeEnd = { kind: 'pipe', pipe, end: 'write', ino, refs: 0, flags: O.WRONLY | status };
  pipe.readers = 1;
  pipe.writers = 1;
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const rfd = p.fds.alloc(r, cloexec, p.fdLimit());
  if (rfd < 0) return err(E.EMFILE);
  const wfd = p.fds.alloc(w, cloexec, p.fdLimit());
  if (wfd < 0) {
    p.fds.close(rfd);
    return err(E.EMFILE);
  }
  if (!writeOut(p.mem, fdsAddr, new StructWriter(8).i32(0, rfd).i32(4, wfd).bytes)) {
    p.fds.close(rfd);
    p.fds.close(wfd);
    return err(E.EFAULT);
  }
  return 0n;
}

const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;

function closeRange(p: LinuxProcess, first: number, last: number, flags: number): bigint {
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) !== 0 || first >>> 0 > last >>> 0) return err(E.EINVAL);
  for (const [fd, e] of [...p.fds.open()]) {
    if (fd < first >>> 0 || fd > last >>> 0) continue;
    if ((flags & CLOSE_RANGE_CLOEXEC) !== 0) e.cloexec = true;
    else p.fds.close(fd);
  }
  return 0n;
}

export const fdSyscalls: HandlerGroup = {
  dup: (p, a) => dupFrom(p, int(a, 0), 0, false),
  dup2: (p, a) => dup3(p, int(a, 0), int(a, 1), 0, true),
  dup3: (p, a) => dup3(p, int(a, 0), int(a, 1), int(a, 2), false),
  fcntl,
  pipe: (p, a) => pipe2(p, u64(a, 0), 0),
  pipe2: (p, a) => pipe2(p, u64(a, 0), int(a, 1)),
  close_range: (p, a) => closeRange(p, int(a, 0), int(a, 1), int(a, 2)),
};
