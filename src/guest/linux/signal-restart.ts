// The kernel-internal return values of an interrupted system call (include/linux/errno.h). They never reach user
// mode: on the way back the call returns EINTR or is restarted (see signal-deliver.ts).

export const ERESTART = {
  /** Restart if the handler has SA_RESTART (or no handler ran), else EINTR. */
  SYS: 512n,
  /** Always restart. */
  NOINTR: 513n,
  /** EINTR if a handler ran, else restart. */
  NOHAND: 514n,
  /** EINTR if a handler ran, else restart through restart_syscall (nanosleep with the time left). */
  RESTARTBLOCK: 516n,
} as const;

/** System call number of restart_syscall. */
export const RESTART_SYSCALL_NR = 219;
