// A file of little-endian u32 values read on demand (positioned reads), for per-step index columns too large to
// load whole on every invocation (4 bytes a step: 80 MB for 20 M steps).
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

/** Read-only u32 array backed by a file. */
export class U32File {
  /** Number of values. */
  readonly length: number;
  private readonly fd: number;
  private readonly one = new Uint32Array(1);

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.length = Math.floor(fstatSync(this.fd).size / 4);
  }

  /** Value i. */
  get(i: number): number {
    readSync(this.fd, new Uint8Array(this.one.buffer), 0, 4, i * 4);
    return this.one[0]!;
  }

  /** Values [from, to). */
  range(from: number, to: number): Uint32Array {
    const out = new Uint32Array(Math.max(0, to - from));
    if (out.length > 0) readSync(this.fd, new Uint8Array(out.buffer), 0, out.length * 4, from * 4);
    return out;
  }

  /** Close the file. */
  closeSync(): void {
    closeSync(this.fd);
  }
}
