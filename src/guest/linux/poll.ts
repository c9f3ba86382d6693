// poll, ppoll, select, pselect6: readiness of the guest's descriptors. The guest has one thread, so nothing that is
// not ready now becomes ready while it waits: a wait with nothing ready ends as a timeout at once (time is not
// advanced); an endless wait with nothing ready would hang natively and is reported as partial. Regular files,
// directories and devices are always ready (Linux's DEFAULT_POLLMASK); a pipe by its contents and open ends; the
// host's streams (stdin, stdout, stderr) are taken as ready for what is asked, since a read or write then waits.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { type OpenFile, readable, writable } from './open-file.js';
import { PIPE_CAPACITY } from './pipe.js';
import type { LinuxProcess } from './process.js';
import { readIn, writeOut } from './user-memory.js';

export const POLL = { IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20, RDNORM: 0x40, WRNORM: 0x100 } as const;

/** The events `f` reports now (before masking with the requested ones). */
export function pollMask(f: OpenFile): number {
  const rd = POLL.IN | POLL.RDNORM, wr = POLL.OUT | POLL.WRNORM;
  switch (f.kind) {
    case 'pipe':
      if (f.end === 'read') return (f.pipe.size > 0 ? rd : 0) | (f.pipe.writers === 0 ? POLL.HUP : 0);
      return (f.pipe.size < PIPE_CAPACITY ? wr : 0) | (f.pipe.readers === 0 ? POLL.ERR : 0);
    case 'path':
      return POLL.NVAL;
    case 'anon':
      return f.anon.poll(f);
    case 'stream':
      return (readable(f) ? rd : 0) | (writable(f) ? wr : 0);
    default:
      return rd | wr;
  }
}

/** revents of one descriptor for the requested `events` (ERR, HUP, NVAL are always reported). */
function revents(p: LinuxProcess, fd: number, events: number): number {
  if (fd < 0) return 0;
  const e = p.fds.get(fd);
  if (e === undefined) return POLL.NVAL;
  return pollMask(e.file) & (events | POLL.ERR | POLL.HUP | POLL.NVAL);
}

function doPoll(p: LinuxProcess, fdsAddr: bigint, nfds: number, infinite: boolean): bigint {
  if (nfds < 0 || nfds > p.fdLimit()) return err(E.EINVAL);
  const raw = readIn(p.mem, fdsAddr, nfds * 8);
  if (raw === undefined) return err(E.EFAULT);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let ready = 0;
  for (let i = 0; i < nfds; i++) {
    const r = revents(p, dv.getInt32(i * 8, true), dv.getInt16(i * 8 + 4, true) & 0xffff);
    dv.setInt16(i * 8 + 6, r, true);
    if (r !== 0) ready++;
  }
  if (!writeOut(p.mem, fdsAddr, raw)) return err(E.EFAULT);
  if (ready === 0 && infinite) p.unsupportedCall('partial', 'an endless wait with nothing ready returns 0 (natively it never returns)');
  return BigInt(ready);
}

/** Reads an fd_set of `nfds` bits (undefined address: none). */
function readSet(p: LinuxProcess, addr: bigint, nfds: number): Uint8Array | null | undefined {
  if (addr === 0n) return null;
  return readIn(p.mem, addr, Math.ceil(nfds / 64) * 8);
}

function doSelect(p: LinuxProcess, a: Args, infinite: boolean): bigint {
  const nfds = int(a, 0);
  if (nfds < 0) return err(E.EINVAL);
  const n = Math.min(nfds, p.fdLimit());
  const sets = [readSet(p, u64(a, 1), nfds), readSet(p, u64(a, 2), nfds), readSet(p, u64(a, 3), nfds)];
  if (sets.some((s) => s === undefined)) return err(E.EFAULT);
  const want = [POLL.IN | POLL.HUP | POLL.ERR, POLL.OUT | POLL.ERR, POLL.PRI];
  const out = sets.map((s) => (s ? new Uint8Array(s.length) : null));
  let ready = 0;
  for (let fd = 0; fd < n; fd++) {
    const asked = sets.some((s) => s && (s[fd >> 3]! >> (fd & 7)) & 1);
    if (!asked) continue;
    const e = p.fds.get(fd);
    if (e === undefined) return err(E.EBADF);
    const mask = pollMask(e.file);
    for (let k = 0; k < 3; k++) {
      const s = sets[k], o = out[k];
      if (!s || !o || !((s[fd >> 3]! >> (fd & 7)) & 1) || (mask & want[k]!) === 0) continue;
      o[fd >> 3]! |= 1 << (fd & 7);
      ready++;
    }
  }
  for (let k = 0; k < 3; k++) {
    const o = out[k];
    if (o && !writeOut(p.mem, u64(a, k + 1), o)) return err(E.EFAULT);
  }
  if (ready === 0 && infinite) p.unsupportedCall('partial', 'an endless wait with nothing ready returns 0 (natively it never returns)');
  return BigInt(ready);
}

export const pollSyscalls: HandlerGroup = {
  poll: (p, a) => doPoll(p, u64(a, 0), int(a, 1), int(a, 2) < 0),
  ppoll: (p, a) => doPoll(p, u64(a, 0), int(a, 1), u64(a, 2) === 0n),
  select: (p, a) => doSelect(p, a, u64(a, 4) === 0n),
  pselect6: (p, a) => doSelect(p, a, u64(a, 4) === 0n),
};
