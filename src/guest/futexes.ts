// Futexes between the guest's threads: FUTEX_WAIT(_BITSET) blocks the task until a FUTEX_WAKE(_BITSET),
// FUTEX_REQUEUE, FUTEX_CMP_REQUEUE or FUTEX_WAKE_OP on the same word of the same address space wakes it. A timed
// wait ends with ETIMEDOUT only when nothing else can run (virtual time: the machine never idles).
import type { AddressSpace } from './address-space.js';
import { type Args, int, u64 } from './linux/args.js';
import { E, err } from './linux/errno.js';
import type { BlockedRetry, FutexWaiter, Task } from './process-model.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

/** A futex call's result, or a wait. */
export type FutexResult = bigint | { block: BlockedRetry };

export class Futexes {
  /** Waiting tasks, oldest first (the wake order). */
  readonly waiters: FutexWaiter[] = [];

  /** Wake up to `n` waiters on (as, addr) whose bitset meets `bitset`; the number woken. */
  wake(as: object, addr: bigint, n: number, bitset = 0xffffffff): number {
    let woken = 0;
    for (let i = 0; i < this.waiters.length && woken < n;) {
      const w = this.waiters[i]!;
      if (w.as === as && w.addr === addr && (w.bitset & bitset) !== 0) {
        w.woken = true;
        this.waiters.splice(i, 1);
        woken++;
      } else i++;
    }
    return woken;
  }

  /** Take the timeout of the oldest timed waiter (when nothing else can run); false if there is none. */
  expireOne(): boolean {
    const i = this.waiters.findIndex((w) => w.timed);
    if (i < 0) return false;
    this.waiters[i]!.timedOut = true;
    this.waiters.splice(i, 1);
    return true;
  }

  /** Forget the waits of a task that ended. */
  drop(task: Task): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i]!.task === task) this.waiters.splice(i, 1);
  }

  /** futex(2) for task `t` in address space `as`. */
  call(t: Task, as: AddressSpace, a: Args): FutexResult {
    const uaddr = u64(a, 0), op = int(a, 1), val = int(a, 2) >>> 0, timeout = u64(a, 3), uaddr2 = u64(a, 4), val3 = int(a, 5) >>> 0;
    const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if ((op & FUTEX_CLOCK_REALTIME) !== 0 && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT) return err(E.ENOSYS);
    if ((uaddr & 3n) !== 0n) return err(E.EINVAL);
    const word = (addr: bigint): number | undefined => {
      const b = as.read(addr, 4);
      return b === undefined ? undefined : new DataView(b.buffer).getUint32(0, true);
    };
    switch (cmd) {
      case FUTEX_WAIT: case FUTEX_WAIT_BITSET: {
        const bitset = cmd === FUTEX_WAIT ? 0xffffffff : val3;
        if (bitset === 0) return err(E.EINVAL);
        if (timeout !== 0n) {
          const ts = as.read(timeout, 16);
          if (ts === undefined) return err(E.EFAULT);
          const dv = new DataView(ts.buffer), s = dv.getBigInt64(0, true), ns = dv.getBigInt64(8, true);
          if (s < 0n || ns < 0n || ns >= 1_000_000_000n) return err(E.EINVAL);
        }
        const w = word(uaddr);
        if (w === undefined) return err(E.EFAULT);
        if (w !== val) return err(E.EAGAIN);
        const waiter: FutexWaiter = { task: t, as, addr: uaddr, bitset, woken: false, timedOut: false, timed: timeout !== 0n };
        this.waiters.push(waiter);
        return { block: () => (waiter.woken ? 0n : waiter.timedOut ? err(E.ETIMEDOUT) : null) };
      }
      case FUTEX_WAKE: case FUTEX_WAKE_BITSET: {
        const bitset = cmd === FUTEX_WAKE ? 0xffffffff : val3;
        if (bitset === 0) return err(E.EINVAL);
        return BigInt(this.wake(as, uaddr, val, bitset));
      }
      case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: {
        if (cmd === FUTEX_CMP_REQUEUE) {
          const w = word(uaddr);
          if (w === undefined) return err(E.EFAULT);
          if (w !== val3) return err(E.EAGAIN);
        }
        const woken = this.wake(as, uaddr, val);
        const limit = Number(timeout & 0x7fffffffn);
        let moved = 0;
        for (const w of this.waiters) {
          if (moved >= limit) break;
          if (w.as === as && w.addr === uaddr) { w.addr = uaddr2; moved++; }
        }
        return BigInt(woken + moved);
      }
      case FUTEX_WAKE_OP: {
        const old = word(uaddr2);
        if (old === undefined) return err(E.EFAULT);
        let opc = (val3 >>> 28) & 0xf;
        let oparg = (val3 << 8) >> 20;
        const cmp = (val3 >>> 24) & 0xf, cmparg = (val3 << 20) >> 20;
        if ((opc & 8) !== 0) { opc &= 7; oparg = 1 << (oparg & 31); }
        const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][opc];
        if (next === undefined) return err(E.ENOSYS);
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, next >>> 0, true);
        if (!as.write(uaddr2, b)) return err(E.EFAULT);
        const o = old | 0;
        const hit = [o === cmparg, o !== cmparg, o < cmparg, o <= cmparg, o > cmparg, o >= cmparg][cmp];
        if (hit === undefined) return err(E.ENOSYS);
        let n = this.wake(as, uaddr, val);
        if (hit) n += this.wake(as, uaddr2, Number(timeout & 0x7fffffffn));
        return BigInt(n);
      }
      default: return err(E.ENOSYS);
    }
  }
}
