// How a fatal exception in ring 3 ends the process, as Linux does: the signal, the exit status a shell
// reports (128 + signal) and the message a shell prints.

/** A fatal signal. */
export interface FatalSignal {
  /** Signal number. */
  signal: number;
  /** Signal name. */
  name: string;
  /** What a shell prints when a process dies of it. */
  message: string;
}

const SIGNALS: Record<string, FatalSignal> = {
  SIGILL: { signal: 4, name: 'SIGILL', message: 'Illegal instruction' },
  SIGTRAP: { signal: 5, name: 'SIGTRAP', message: 'Trace/breakpoint trap' },
  SIGBUS: { signal: 7, name: 'SIGBUS', message: 'Bus error' },
  SIGFPE: { signal: 8, name: 'SIGFPE', message: 'Floating point exception' },
  SIGSEGV: { signal: 11, name: 'SIGSEGV', message: 'Segmentation fault' },
};

/** The signal Linux sends for an exception vector raised in user mode. */
export function signalForVector(vector: number): FatalSignal {
  switch (vector) {
    case 0: case 16: case 19: return SIGNALS.SIGFPE!; // #DE, #MF, #XM
    case 1: case 3: return SIGNALS.SIGTRAP!; // #DB, #BP
    case 6: return SIGNALS.SIGILL!; // #UD
    case 17: return SIGNALS.SIGBUS!; // #AC
    default: return SIGNALS.SIGSEGV!; // #GP, #SS, #PF, #NP, #TS, #DF...
  }
}

/** The fatal signal with number `n`, if a shell names it (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV). */
export function fatalSignal(n: number): FatalSignal | undefined {
  return Object.values(SIGNALS).find((s) => s.signal === n);
}

/** SIGSEGV, for unresolvable page faults. */
export const SIGSEGV = SIGNALS.SIGSEGV!;

/** Exit status a shell reports for a process killed by `signal`. */
export function statusForSignal(s: FatalSignal): number {
  return 128 + s.signal;
}
