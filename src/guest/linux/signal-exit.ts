// The end of a process by a signal, as its exit status (128 + signal number, as a shell reports it).

export const SIGABRT = 6;
export const SIGSEGV = 11;
export const SIGPIPE = 13;

/** The outcome of a process killed by `sig`. */
export function killedBy(sig: number): { kind: 'exit'; status: number; signal: number } {
  return { kind: 'exit', status: (128 + sig) & 0xff, signal: sig };
}
