// What a parent hears when a child process ends: SIGCHLD (the signals lane delivers it to a handler), and whether
// the child is reaped at once (SIGCHLD ignored, or SA_NOCLDWAIT) instead of staying a zombie for wait4.
import type { LinuxProcess } from './linux/process.js';
import { SIG_IGN } from './linux/signal-state.js';
import { childSignal } from './linux/signal-info.js';

export const SIGCHLD = 17;
const SA_NOCLDWAIT = 2n;

const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

/**
 * Send SIGCHLD to the parent of child `pid` (user `uid`) that ended with wait status `waitStatus`, with the siginfo
 * Linux's do_notify_parent fills (si_code CLD_EXITED with the exit code, or CLD_KILLED/CLD_DUMPED with the signal);
 * 'reap' when the child leaves no zombie.
 */
export function signalChildExit(parent: LinuxProcess, pid: number, uid: number, waitStatus: number): 'reap' | 'keep' {
  const act = parent.signals.action(SIGCHLD);
  const sig = waitStatus & 0x7f;
  const info = sig === 0
    ? childSignal(pid, uid, CLD_EXITED, (waitStatus >> 8) & 0xff)
    : childSignal(pid, uid, (waitStatus & 0x80) !== 0 ? CLD_DUMPED : CLD_KILLED, sig);
  if (act.handler === SIG_IGN || (act.flags & SA_NOCLDWAIT) !== 0n) return 'reap';
  parent.signals.send(SIGCHLD, info);
  return 'keep';
}
