// prlimit64, getrlimit, setrlimit over the fixed table of rlimits.ts.
import { type Args, int, u64 } from './args.js';
import { E, err } from './errno.js';
import type { HandlerGroup } from './handler.js';
import type { LinuxProcess } from './process.js';
import { NR_OPEN, RLIMIT, RLIM_NLIMITS, type Rlimit } from './rlimits.js';
import { StructWriter, le64 } from './struct-writer.js';
import { readIn, writeOut } from './user-memory.js';

function prlimit(p: LinuxProcess, pid: number, resource: number, newAddr: bigint, oldAddr: bigint): bigint {
  if (resource < 0 || resource >= RLIM_NLIMITS) return err(E.EINVAL);
  let next: Rlimit | undefined;
  if (newAddr !== 0n) {
    const b = readIn(p.mem, newAddr, 16);
    if (b === undefined) return err(E.EFAULT);
    next = { cur: le64(b, 0), max: le64(b, 8) };
    if (next.cur > next.max) return err(E.EINVAL);
  }
  if (pid !== 0 && pid !== p.ids.pid) return err(E.ESRCH);
  const cur = p.rlimits[resource] as Rlimit;
  const old = { ...cur };
  if (next !== undefined) {
    if (next.max > cur.max) return err(E.EPERM); // raising a hard limit needs CAP_SYS_RESOURCE
    if (resource === RLIMIT.NOFILE && next.max > NR_OPEN) return err(E.EPERM);
  }
  if (oldAddr !== 0n && !writeOut(p.mem, oldAddr, new StructWriter(16).u64(0, old.cur).u64(8, old.max).bytes)) {
    return err(E.EFAULT);
  }
  if (next !== undefined) p.rlimits[resource] = next;
  return 0n;
}

export const limitSyscalls: HandlerGroup = {
  prlimit64: (p, a: Args) => prlimit(p, int(a, 0), int(a, 1), u64(a, 2), u64(a, 3)),
  getrlimit: (p, a) => {
    const r = int(a, 0) >>> 0;
    return u64(a, 1) === 0n && r < RLIM_NLIMITS ? err(E.EFAULT) : prlimit(p, 0, r, 0n, u64(a, 1));
  },
  setrlimit: (p, a) => {
    const r = int(a, 0) >>> 0;
    return u64(a, 1) === 0n && r < RLIM_NLIMITS ? err(E.EFAULT) : prlimit(p, 0, r, u64(a, 1), 0n);
  },
};
