// Resource limits: fixed, deterministic defaults (those of a typical Linux login), changeable by setrlimit
// within the hard limits.

export const RLIM_INFINITY = 0xffffffffffffffffn;

/** Resource numbers. */
export const RLIMIT = {
  CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, RSS: 5, NPROC: 6, NOFILE: 7, MEMLOCK: 8, AS: 9, LOCKS: 10,
  SIGPENDING: 11, MSGQUEUE: 12, NICE: 13, RTPRIO: 14, RTTIME: 15,
} as const;

export const RLIM_NLIMITS = 16;

/** The highest RLIMIT_NOFILE an unprivileged process may set (fs.nr_open). */
export const NR_OPEN = 1048576n;

export interface Rlimit {
  cur: bigint; // soft limit
  max: bigint; // hard limit
}

export function defaultRlimits(): Rlimit[] {
  const inf = { cur: RLIM_INFINITY, max: RLIM_INFINITY };
  const fixed = (cur: bigint, max: bigint): Rlimit => ({ cur, max });
  return [
    inf, // CPU
    inf, // FSIZE
    inf, // DATA
    fixed(8n << 20n, RLIM_INFINITY), // STACK: 8 MiB
    fixed(0n, RLIM_INFINITY), // CORE
    inf, // RSS
    fixed(4096n, 4096n), // NPROC
    fixed(1024n, 4096n), // NOFILE
    fixed(8n << 20n, 8n << 20n), // MEMLOCK
    inf, // AS
    inf, // LOCKS
    fixed(4096n, 4096n), // SIGPENDING
    fixed(819200n, 819200n), // MSGQUEUE
    fixed(0n, 0n), // NICE
    fixed(0n, 0n), // RTPRIO
    inf, // RTTIME
  ].map((r) => ({ ...r }));
}
