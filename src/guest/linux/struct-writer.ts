// A little-endian byte builder for the C structures the kernel copies out (struct stat, statx, timespec, ...).

/** Fixed-size little-endian structure being filled in; fields not set stay zero (padding, reserved words). */
export class StructWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(off: number, v: number): this {
    this.view.setUint8(off, v);
    return this;
  }

  u16(off: number, v: number): this {
    this.view.setUint16(off, v, true);
    return this;
  }

  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }

  i32(off: number, v: number): this {
    this.view.setInt32(off, v, true);
    return this;
  }

  /** A 64-bit field from a bigint (wrapped to 64 bits, so signed and unsigned values both fit). */
  u64(off: number, v: bigint | number): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }

  /** Bytes copied in at `off` (a name, a string field); truncated to the structure. */
  raw(off: number, data: Uint8Array): this {
    this.bytes.set(data.subarray(0, Math.max(0, this.bytes.length - off)), off);
    return this;
  }
}

/** Little-endian reads from bytes the guest passed in. */
export function le64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}

export function le32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

export function les64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(off, true);
}

export function lei32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(off, true);
}
