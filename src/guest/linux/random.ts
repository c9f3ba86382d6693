// getrandom: bytes from the random source, reported as an input.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import { InputKind } from './input-kind.js';
import type { LinuxProcess } from './process.js';
import { writeOut } from './user-memory.js';

const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
/** Linux returns at most this much per call (and a short count: callers loop). */
const GETRANDOM_MAX = 33554431;

function getrandom(p: LinuxProcess, a: Args): bigint {
  const flags = int(a, 2) >>> 0;
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0) return err(E.EINVAL);
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) === (GRND_INSECURE | GRND_RANDOM)) return err(E.EINVAL);
  const count = u64(a, 1);
  const n = count > BigInt(GETRANDOM_MAX) ? GETRANDOM_MAX : Number(count);
  const bytes = p.random(n);
  if (!writeOut(p.mem, u64(a, 0), bytes)) return err(E.EFAULT);
  p.input(InputKind.RANDOM, bytes);
  return BigInt(n);
}

export const randomSyscalls: HandlerGroup = { getrandom };
