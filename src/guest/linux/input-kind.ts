// The kinds of HostEvents.input the Linux layer reports: every value the host chose that reached the guest.

export const InputKind = {
  /** Bytes returned by read, pread64, readv, preadv from any descriptor (files, stdin, pipes, devices). */
  READ: 'read',
  /** struct stat / statx bytes (host metadata). */
  STAT: 'stat',
  /** linux_dirent64 records returned by getdents64. */
  DIRENTS: 'getdents64',
  /** A symlink target returned by readlink. */
  READLINK: 'readlink',
  /** A time value (timespec, timeval, time_t, struct tms/rusage/sysinfo) as written or returned. */
  CLOCK: 'clock',
  /** Bytes from getrandom. */
  RANDOM: 'getrandom',
  /** The whole contents of a file mapped with mmap. */
  MMAP: 'mmap',
} as const;
