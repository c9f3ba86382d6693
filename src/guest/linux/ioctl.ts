// ioctl: the generic requests every descriptor answers, and the terminal requests a libc makes on its standard
// streams (answered as a 24x80 terminal when the host stream is a tty, ENOTTY otherwise).
import { type Args, int, u64, uint } from './args.js';
import { E, err } from './errno.js';
import { fileSize } from './file-io.js';
import type { FdEntry } from './fd-table.js';
import type { HandlerGroup } from './handler.js';
import { O, type StreamFile } from './open-file.js';
import type { LinuxProcess } from './process.js';
import { StructWriter, lei32 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a;
const TCFLSH = 0x540b, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;
const FIONREAD = 0x541b, FIONBIO = 0x5421, TIOCGSID = 0x5429, FIONCLEX = 0x5450, FIOCLEX = 0x5451, FIOASYNC = 0x5452;

/** struct termios (kernel, 36 bytes) of a terminal in `stty sane` state: 38400 baud, 8 bits, canonical, echo. */
function defaultTermios(): Uint8Array {
  const cc = [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0];
  const w = new StructWriter(36).u32(0, 0x4500).u32(4, 0x5).u32(8, 0xbf).u32(12, 0x8a3b).u8(16, 0);
  cc.forEach((c, i) => w.u8(17 + i, c));
  return w.bytes;
}

function readInt(p: LinuxProcess, addr: bigint): number | undefined {
  const b = readIn(p.mem, addr, 4);
  return b === undefined ? undefined : lei32(b, 0);
}

function writeInt(p: LinuxProcess, addr: bigint, v: number): bigint {
  return writeOut(p.mem, addr, new StructWriter(4).i32(0, v).bytes) ? 0n : err(E.EFAULT);
}

function ttyIoctl(p: LinuxProcess, f: StreamFile, req: number, arg: bigint): bigint {
  switch (req) {
    case TCGETS: return writeOut(p.mem, arg, f.termios ?? defaultTermios()) ? 0n : err(E.EFAULT);
    case TCSETS: case TCSETSW: case TCSETSF: {
      const t = readIn(p.mem, arg, 36);
      if (t === undefined) return err(E.EFAULT);
      f.termios = t.slice(); // remembered for TCGETS; the host terminal is left alone
      return 0n;
    }
    case TIOCGWINSZ: return writeOut(p.mem, arg, new StructWriter(8).u16(0, 24).u16(2, 80).bytes) ? 0n : err(E.EFAULT);
    case TIOCSWINSZ: return readIn(p.mem, arg, 8) === undefined ? err(E.EFAULT) : 0n;
    case TIOCGPGRP: return writeInt(p, arg, p.ids.pgid);
    case TIOCSPGRP: return readInt(p, arg) === undefined ? err(E.EFAULT) : 0n;
    case TIOCGSID: return writeInt(p, arg, p.ids.sid);
    case TCSBRK: case TCXONC: case TCFLSH: return 0n;
    case FIONREAD: return writeInt(p, arg, 0);
    default: return err(E.ENOTTY);
  }
}

function ioctl(p: LinuxProcess, a: Args): bigint {
  const e: FdEntry | undefined = p.fds.get(int(a, 0));
  if (e === undefined) return err(E.EBADF);
  const f = e.file, req = uint(a, 1), arg = u64(a, 2);
  if (f.kind === 'path') return err(E.EBADF);
  switch (req) {
    case FIOCLEX: e.cloexec = true; return 0n;
    case FIONCLEX: e.cloexec = false; return 0n;
    case FIONBIO: {
      const on = readInt(p, arg);
      if (on === undefined) return err(E.EFAULT);
      f.flags = on !== 0 ? f.flags | O.NONBLOCK : f.flags & ~O.NONBLOCK;
      return 0n;
    }
    case FIOASYNC: return readInt(p, arg) === undefined ? err(E.EFAULT) : 0n;
  }
  if (f.kind === 'stream' && f.tty) return ttyIoctl(p, f, req, arg);
  if (req === FIONREAD && f.kind === 'file') {
    const left = fileSize(f) - f.offset;
    return writeInt(p, arg, left > 0n ? Number(left > 0x7fffffffn ? 0x7fffffffn : left) : 0);
  }
  if (req === FIONREAD && f.kind === 'pipe') return writeInt(p, arg, f.pipe.size);
  return err(E.ENOTTY);
}

export const ioctlSyscalls: HandlerGroup = { ioctl };
