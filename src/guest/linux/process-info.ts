// Identity and system information: ids, uname, sysinfo, getrusage, times, umask, prctl, personality. The ids
// are fixed (options), so a recording does not depend on who ran it.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { StructWriter } from './struct-writer.js';
import { writeOut } from './user-memory.js';

/** struct utsname fields, 65 bytes each. */
const UTSNAME = ['Linux', 'itrace', '6.1.0-itrace', '#1', 'x86_64', '(none)'];

function uname(p: LinuxProcess, a: Args): bigint {
  const w = new StructWriter(65 * UTSNAME.length);
  UTSNAME.forEach((s, i) => w.raw(i * 65, Buffer.from(s, 'latin1')));
  return writeOut(p.mem, u64(a, 0), w.bytes) ? 0n : err(E.EFAULT);
}

/** Writes a structure holding time values and reports it. */
function timeOut(p: LinuxProcess, addr: bigint, bytes: Uint8Array): bigint {
  if (!writeOut(p.mem, addr, bytes)) return err(E.EFAULT);
  p.input(InputKind.CLOCK, bytes);
  return 0n;
}

/** struct sysinfo: uptime from the guest clock, a 4 GiB machine with 2 GiB free, one process. */
function sysinfo(p: LinuxProcess, a: Args): bigint {
  const w = new StructWriter(112).u64(0, p.clock.uptime()).u64(32, 4n << 30n).u64(40, 2n << 30n).u16(80, 1).u32(104, 1);
  return timeOut(p, u64(a, 0), w.bytes);
}

/** struct timeval from ns. */
function timeval(w: StructWriter, off: number, ns: bigint): void {
  w.u64(off, ns / 1_000_000_000n).u64(off + 8, (ns % 1_000_000_000n) / 1000n);
}

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;

/** struct rusage: user time is the CPU time, everything else zero (no children). */
function getrusage(p: LinuxProcess, a: Args): bigint {
  const who = int(a, 0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) return err(E.EINVAL);
  const w = new StructWriter(144);
  if (who !== RUSAGE_CHILDREN) timeval(w, 0, p.clock.cpu());
  return timeOut(p, u64(a, 1), w.bytes);
}

/** times(2): struct tms in clock ticks (USER_HZ = 100); returns ticks since boot. */
function times(p: LinuxProcess, a: Args): bigint {
  const ticks = p.clock.monotonic() / 10_000_000n;
  const w = new StructWriter(32).u64(0, p.clock.cpu() / 10_000_000n);
  const buf = u64(a, 0);
  if (buf !== 0n && !writeOut(p.mem, buf, w.bytes)) return err(E.EFAULT);
  p.input(InputKind.CLOCK, new Uint8Array([...(buf !== 0n ? w.bytes : []), ...new StructWriter(8).u64(0, ticks).bytes]));
  return ticks;
}

/** Identity changes are allowed only to the current ids (-1 means unchanged). */
function sameIds(current: number, a: Args, count: number): bigint {
  for (let i = 0; i < count; i++) {
    const v = int(a, i);
    if (v !== -1 && v !== current) return err(E.EPERM);
  }
  return 0n;
}

function getres(p: LinuxProcess, a: Args, id: number): bigint {
  const v = new StructWriter(4).u32(0, id).bytes;
  for (let i = 0; i < 3; i++) if (!writeOut(p.mem, u64(a, i), v)) return err(E.EFAULT);
  return 0n;
}

/** The process itself (0 or its pid): ok; another process: ESRCH. */
function self(p: LinuxProcess, pid: number): boolean {
  return pid === 0 || pid === p.ids.pid;
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_SET_NAME = 15;
const PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_CAPBSET_READ = 23, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39;
const PR_SET_VMA = 0x53564d41;

function prctl(p: LinuxProcess, a: Args): bigint {
  switch (int(a, 0)) {
    case PR_SET_NAME: {
      const name = p.mem.readCString(u64(a, 1), 16);
      const raw = name ?? p.mem.read(u64(a, 1), 16);
      if (raw === undefined) return err(E.EFAULT);
      const end = raw.indexOf(0);
      p.comm = raw.slice(0, Math.min(end >= 0 ? end : raw.length, 15));
      return 0n;
    }
    case PR_GET_NAME: return writeOut(p.mem, u64(a, 1), new StructWriter(16).raw(0, p.comm).bytes) ? 0n : err(E.EFAULT);
    case PR_GET_DUMPABLE: return 1n;
    case PR_SET_DUMPABLE: return u64(a, 1) <= 1n ? 0n : err(E.EINVAL);
    case PR_SET_PDEATHSIG: return u64(a, 1) <= 64n ? 0n : err(E.EINVAL);
    case PR_GET_PDEATHSIG: return writeOut(p.mem, u64(a, 1), new Uint8Array(4)) ? 0n : err(E.EFAULT);
    case PR_GET_SECCOMP: return 0n;
    case PR_CAPBSET_READ: return u64(a, 1) <= 40n ? 0n : err(E.EINVAL);
    case PR_SET_NO_NEW_PRIVS: return u64(a, 1) === 1n ? 0n : err(E.EINVAL);
    case PR_GET_NO_NEW_PRIVS: return 0n;
    case PR_SET_VMA: return 0n;
    default: return err(E.EINVAL);
  }
}

export const processInfoSyscalls: HandlerGroup = {
  getpid: (p) => BigInt(p.ids.pid),
  getppid: (p) => BigInt(p.ids.ppid),
  gettid: (p) => BigInt(p.ids.tid),
  getuid: (p) => BigInt(p.ids.uid),
  geteuid: (p) => BigInt(p.ids.uid),
  getgid: (p) => BigInt(p.ids.gid),
  getegid: (p) => BigInt(p.ids.gid),
  getresuid: (p, a) => getres(p, a, p.ids.uid),
  getresgid: (p, a) => getres(p, a, p.ids.gid),
  getgroups: (_p, a) => (int(a, 0) < 0 ? err(E.EINVAL) : 0n),
  setuid: (p, a) => sameIds(p.ids.uid, a, 1),
  setgid: (p, a) => sameIds(p.ids.gid, a, 1),
  setreuid: (p, a) => sameIds(p.ids.uid, a, 2),
  setregid: (p, a) => sameIds(p.ids.gid, a, 2),
  setresuid: (p, a) => sameIds(p.ids.uid, a, 3),
  setresgid: (p, a) => sameIds(p.ids.gid, a, 3),
  setfsuid: (p) => BigInt(p.ids.uid),
  setfsgid: (p) => BigInt(p.ids.gid),
  getpgrp: (p) => BigInt(p.ids.pgid),
  getpgid: (p, a) => (self(p, int(a, 0)) ? BigInt(p.ids.pgid) : err(E.ESRCH)),
  getsid: (p, a) => (self(p, int(a, 0)) ? BigInt(p.ids.sid) : err(E.ESRCH)),
  setpgid: (p, a) => {
    if (!self(p, int(a, 0))) return err(E.ESRCH);
    const pgid = int(a, 1);
    if (pgid < 0) return err(E.EINVAL);
    return pgid === 0 || pgid === p.ids.pgid ? 0n : err(E.EPERM);
  },
  setsid: () => err(E.EPERM), // the process leads its process group already
  uname,
  sysinfo,
  getrusage,
  times,
  umask: (p, a) => {
    const old = p.umask;
    p.umask = int(a, 0) & 0o777;
    return BigInt(old);
  },
  prctl,
  personality: () => 0n, // PER_LINUX; a change is ignored
};
