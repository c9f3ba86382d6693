// eventfd2 (and eventfd): a 64-bit counter behind a descriptor. read takes the counter (or 1 in EFD_SEMAPHORE
// mode) and needs it non-zero; write adds to it and may not bring it to 2^64-1. The guest has one thread, so a read
// that would block (counter 0) fails with EAGAIN, reported as partial when the descriptor is blocking.
import { type Args, int, uint } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { type AnonFile, type AnonInode, O } from './open-file.js';
import { POLL } from './poll.js';
import type { LinuxProcess } from './process.js';

const EFD_SEMAPHORE = 1;
const EFD_CLOEXEC = O.CLOEXEC, EFD_NONBLOCK = O.NONBLOCK;
/** The counter's largest value. */
const MAX = 0xfffffffffffffffen;
/** st_mode of an anonymous inode (S_IFREG is not set: mode 0600 only, as Linux shows it). */
export const ANON_MODE = 0o600;

/** The state of one eventfd. */
export interface EventCounter {
  value: bigint; // the counter
  readonly semaphore: boolean; // EFD_SEMAPHORE: a read takes 1
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

export function eventfdInode(p: LinuxProcess, c: EventCounter): AnonInode {
  return {
    label: 'anon_inode:[eventfd]',
    mode: ANON_MODE,
    read(f: AnonFile, count: number): Uint8Array | number {
      if (count < 8) return E.EINVAL;
      if (c.value === 0n) {
        if ((f.flags & O.NONBLOCK) === 0) p.unsupportedCall('partial', 'a blocking read of a zero eventfd fails with EAGAIN (one thread: it would never return)');
        return E.EAGAIN;
      }
      const got = c.semaphore ? 1n : c.value;
      c.value -= got;
      return le64(got);
    },
    write(_f: AnonFile, data: Uint8Array): number {
      if (data.length < 8) return -E.EINVAL;
      const v = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
      if (v === 0xffffffffffffffffn) return -E.EINVAL;
      if (MAX - c.value < v) return -E.EAGAIN;
      c.value += v;
      return 8;
    },
    poll(): number {
      return (c.value > 0n ? POLL.IN | POLL.RDNORM : 0) | (c.value < MAX ? POLL.OUT | POLL.WRNORM : 0);
    },
  };
}

function eventfd2(p: LinuxProcess, a: Args, flags: number): bigint {
  if ((flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) !== 0) return err(E.EINVAL);
  const counter: EventCounter = { value: BigInt(uint(a, 0)), semaphore: (flags & EFD_SEMAPHORE) !== 0 };
  const f: AnonFile = { kind: 'anon', anon: eventfdInode(p, counter), ino: BigInt(++p.anonCount), refs: 0, flags: O.RDWR | (flags & EFD_NONBLOCK) };
  const fd = p.fds.alloc(f, (flags & EFD_CLOEXEC) !== 0, p.fdLimit());
  return fd < 0 ? err(E.EMFILE) : BigInt(fd);
}

export const eventfdSyscalls: HandlerGroup = {
  eventfd: (p, a) => eventfd2(p, a, 0),
  eventfd2: (p, a) => eventfd2(p, a, int(a, 1)),
};
