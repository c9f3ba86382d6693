// The file descriptor table: small integers naming open file descriptions, each with its close-on-exec flag.
import { type OpenFile, release } from './open-file.js';

/** One descriptor. */
export interface FdEntry {
  readonly file: OpenFile;
  /** FD_CLOEXEC. */
  cloexec: boolean;
}

export class FdTable {
  private readonly slots: (FdEntry | undefined)[] = [];

  get(fd: number): FdEntry | undefined {
    return fd >= 0 ? this.slots[fd] : undefined;
  }

  /** The lowest free descriptor >= `min` and < `limit`, installed with `file` (taking a reference); -1 if none. */
  alloc(file: OpenFile, cloexec: boolean, limit: number, min = 0): number {
    for (let fd = min; fd < limit; fd++) {
      if (this.slots[fd] === undefined) {
        this.install(fd, file, cloexec);
        return fd;
      }
    }
    return -1;
  }

  /** Puts `file` at `fd` (closing what was there), taking a reference. */
  install(fd: number, file: OpenFile, cloexec: boolean): void {
    file.refs++;
    const old = this.slots[fd];
    this.slots[fd] = { file, cloexec };
    if (old !== undefined) release(old.file);
  }

  /** Closes `fd`; false if it was not open. */
  close(fd: number): boolean {
    const e = this.get(fd);
    if (e === undefined) return false;
    this.slots[fd] = undefined;
    release(e.file);
    return true;
  }

  /** Open descriptors in increasing order. */
  *open(): IterableIterator<[number, FdEntry]> {
    for (let fd = 0; fd < this.slots.length; fd++) {
      const e = this.slots[fd];
      if (e !== undefined) yield [fd, e];
    }
  }
}
