// An in-process pipe: a byte queue with counts of open read and write ends. The guest has a single thread, so
// an operation that would block (read of an empty pipe that still has writers, write to a full pipe) fails with
// EAGAIN instead of waiting forever.

/** Pipe capacity (Linux default: 16 pages). */
export const PIPE_CAPACITY = 65536;

export class Pipe {
  /** Unread bytes, oldest first. */
  private chunks: Uint8Array[] = [];
  /** Total bytes in `chunks`. */
  size = 0;
  /** Open file descriptions of the read end. */
  readers = 0;
  /** Open file descriptions of the write end. */
  writers = 0;

  /** Appends as much of `data` as fits; returns the count written. */
  push(data: Uint8Array): number {
    const n = Math.min(data.length, PIPE_CAPACITY - this.size);
    if (n > 0) {
      this.chunks.push(data.slice(0, n));
      this.size += n;
    }
    return n;
  }

  /** Puts bytes back at the front (a read whose copy to the guest faulted). */
  unshift(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.unshift(data);
    this.size += data.length;
  }

  /** Removes and returns up to `max` bytes. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.size);
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Uint8Array;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }
}
