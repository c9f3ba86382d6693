// What a parent hears when a child process ends: SIGCHLD (the signals lane delivers it to a handler), and whether
// the child is reaped at once (SIGCHLD ignored, or SA_NOCLDWAIT) instead of staying a zombie for wait4.
import type { LinuxProcess } from './linux/process.js';
import { SIG_IGN } from './linux/signal-state.js';

export const SIGCHLD = 17;
const SA_NOCLDWAIT = 2n;

/** Send SIGCHLD to the parent of an ended child; 'reap' when the child leaves no zombie. */
export function signalChildExit(parent: LinuxProcess): 'reap' | 'keep' {
  const act = parent.signals.action(SIGCHLD);
  if (act.handler === SIG_IGN || (act.flags & SA_NOCLDWAIT) !== 0n) return 'reap';
  parent.signals.send(SIGCHLD);
  return 'keep';
}
