// An append-only typed array that doubles its storage when full: the column buffers of what the index scans
// collect (branch steps, RSP changes, frames) without knowing their counts in advance.

type TypedArray = Float64Array | Uint32Array | Uint8Array;
type TypedArrayCtor<T extends TypedArray> = new (n: number) => T;

/** A growable typed array. */
export class Growable<T extends TypedArray> {
  private store: T;
  private readonly ctor: TypedArrayCtor<T>;
  /** Values pushed. */
  length = 0;

  constructor(ctor: TypedArrayCtor<T>, capacity = 1024) {
    this.ctor = ctor;
    this.store = new ctor(capacity);
  }

  /** Append one value. */
  push(v: number): void {
    if (this.length === this.store.length) {
      const bigger = new this.ctor(this.store.length * 2);
      bigger.set(this.store as never);
      this.store = bigger;
    }
    this.store[this.length++] = v;
  }

  /** Overwrite value i (< length). */
  set(i: number, v: number): void {
    this.store[i] = v;
  }

  /** The values pushed so far (a view: later pushes may reallocate). */
  view(): T {
    return this.store.subarray(0, this.length) as T;
  }
}
