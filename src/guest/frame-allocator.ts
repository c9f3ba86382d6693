// Guest physical frames for page tables, user pages and task pages, shared by every address space of the
// machine: frames never handed out are zero; a freed frame is zeroed (a logged host write) when it is reused.
import { FIRST_FREE_FRAME } from './layout.js';

export class FrameAllocator {
  /** Next never-used physical frame (frames below it have been handed out at some point). */
  next = FIRST_FREE_FRAME;
  /** Frames given back, reused last-in first-out. */
  readonly free: number[] = [];
  /** Bytes of guest physical memory. */
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  /** A frame, and whether it was used before (then the caller must zero it). */
  take(): { frame: number; reused: boolean } {
    const f = this.free.pop();
    if (f !== undefined) return { frame: f, reused: true };
    const p = this.next;
    if (p + 4096 > this.size) throw new RangeError('guest physical memory exhausted');
    this.next += 4096;
    return { frame: p, reused: false };
  }

  /** Give a frame back. */
  release(frame: number): void {
    this.free.push(frame);
  }
}
