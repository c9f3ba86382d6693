// Append-only typed arrays for building indexes of unknown length.

type Store = Uint32Array | Int32Array | Uint8Array | Float64Array;

/** A typed array that doubles when full; `view()` is the filled prefix. */
export class Growable<T extends Store> {
  /** Filled entries. */
  length = 0;
  private data: T;
  private readonly make: (n: number) => T;

  constructor(make: (n: number) => T, initial = 1024) {
    this.make = make;
    this.data = make(initial);
  }

  /** Append one value. */
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data as never);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** Overwrite entry i. */
  set(i: number, v: number): void {
    this.data[i] = v;
  }

  /** Entry i. */
  get(i: number): number {
    return this.data[i]!;
  }

  /** The filled prefix (a view, valid until the next push). */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}
