// A TraceSink whose Arrow encoding, zstd compression and file writes run on a worker thread, so the recording
// thread only copies each full batch and posts it. The recording thread never returns to the event loop while
// recording, so the worker reports back through shared memory (counters, a status word, an error text), and
// the recording thread blocks with Atomics.wait when the queue is full and when closing. Batches still queued
// when the process is killed are lost; every batch the worker finished is on disk, as with TraceWriter.
import { Worker } from 'node:worker_threads';
import type { TraceMeta } from './schema.js';
import type { TableBuffer } from './table-buffer.js';
import type { TraceSink } from './trace-sink.js';

/** Slots of the shared control words. */
export const enum Ctl {
  PENDING = 0, // messages posted and not yet handled by the worker
  STATE = 1, // 0 starting, 1 running, 2 closed, 3 failed
  ERROR_LEN = 2, // bytes of the error text
}

/** Batches the recording thread may have in flight before it waits. */
const MAX_PENDING = 8;

/** The worker script next to this module (compiled JS only). */
const WORKER_URL = new URL('./background-writer-worker.js', import.meta.url);

/** True when the worker script can run (the compiled build; not TypeScript sources under a test runner). */
export function backgroundWriterAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}

/** The trace writer on a worker thread. */
export class BackgroundTraceWriter implements TraceSink {
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly bytes: BigInt64Array;
  private readonly errorText: Uint8Array;
  private closed = false;

  private constructor(worker: Worker, ctl: Int32Array, bytes: BigInt64Array, errorText: Uint8Array) {
    this.worker = worker; this.ctl = ctl; this.bytes = bytes; this.errorText = errorText;
  }

  /** Start the worker and create the trace there; a one-line error if the directory cannot be used. */
  static create(dir: string, meta: TraceMeta): BackgroundTraceWriter | { error: string } {
    const ctlBuf = new SharedArrayBuffer(16), bytesBuf = new SharedArrayBuffer(8), errBuf = new SharedArrayBuffer(4096);
    const ctl = new Int32Array(ctlBuf);
    const worker = new Worker(WORKER_URL, { workerData: { dir, meta, ctl: ctlBuf, bytes: bytesBuf, error: errBuf } });
    worker.unref();
    const w = new BackgroundTraceWriter(worker, ctl, new BigInt64Array(bytesBuf), new Uint8Array(errBuf));
    while (Atomics.load(ctl, Ctl.STATE) === 0) Atomics.wait(ctl, Ctl.STATE, 0, 1000);
    if (Atomics.load(ctl, Ctl.STATE) === 3) { void worker.terminate(); return { error: w.errorMessage() }; }
    return w;
  }

  private errorMessage(): string {
    return Buffer.from(this.errorText.slice(0, Atomics.load(this.ctl, Ctl.ERROR_LEN))).toString('utf8');
  }

  private check(): void {
    if (Atomics.load(this.ctl, Ctl.STATE) === 3) throw new Error(`trace writer: ${this.errorMessage()}`);
  }

  /** Wait until at most `max` messages are in flight. */
  private drain(max: number): void {
    for (;;) {
      this.check();
      const p = Atomics.load(this.ctl, Ctl.PENDING);
      if (p <= max) return;
      Atomics.wait(this.ctl, Ctl.PENDING, p, 1000);
    }
  }

  private post(msg: unknown, transfer: ArrayBuffer[]): void {
    Atomics.add(this.ctl, Ctl.PENDING, 1);
    this.worker.postMessage(msg, transfer);
  }

  writeBatch(buf: TableBuffer): void {
    if (this.closed) throw new Error('writeBatch after close');
    if (buf.length > 0) {
      this.drain(MAX_PENDING);
      const cols = buf.copyRows();
      const transfer = cols.flatMap((c) => (Array.isArray(c) ? [] : [c.buffer as ArrayBuffer]));
      this.post({ kind: 'batch', table: buf.spec.name, length: buf.length, cols }, transfer);
    }
    buf.clear();
  }

  writeCheckpoint(seq: number, state: Uint8Array, pages: Map<number, Uint8Array>, extra: Record<string, unknown>): void {
    this.drain(MAX_PENDING);
    const list = [...pages];
    this.post({ kind: 'checkpoint', seq, state, pages: list, extra }, [state.buffer as ArrayBuffer, ...list.map(([, b]) => b.buffer as ArrayBuffer)]);
  }

  close(update: Partial<TraceMeta>): void {
    if (this.closed) return;
    this.closed = true;
    this.post({ kind: 'close', update }, []);
    this.drain(0);
    while (Atomics.load(this.ctl, Ctl.STATE) === 1) Atomics.wait(this.ctl, Ctl.STATE, 1, 1000);
    this.check();
    void this.worker.terminate();
  }

  bytesWritten(): number {
    return Number(Atomics.load(this.bytes, 0));
  }
}
