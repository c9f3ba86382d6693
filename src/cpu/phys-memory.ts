// Guest physical memory: one flat, zero-initialised byte array (the host commits pages lazily).

/** Page size in bytes. */
export const PAGE_SIZE = 4096;

/** Guest physical memory. */
export class PhysMemory {
  /** The bytes of guest physical memory. */
  readonly bytes: Uint8Array;
  /** DataView over the same bytes, for little-endian multi-byte access. */
  readonly dv: DataView;
  /** Size in bytes (a multiple of PAGE_SIZE). */
  readonly size: number;
  /** Per 4-KiB frame: 1 if the frame has been written since the last clearDirty() (checkpoints). */
  readonly dirty: Uint8Array;

  constructor(size: number) {
    if (size % PAGE_SIZE !== 0 || size <= 0 || size > 0xffffffff) throw new RangeError(`bad physical memory size ${size}`);
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
    this.dirty = new Uint8Array(size / PAGE_SIZE);
  }

  /** Frames written since the last call, then reset. */
  takeDirty(): number[] {
    const out: number[] = [];
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) if (d[i]) { out.push(i); d[i] = 0; }
    return out;
  }
}
